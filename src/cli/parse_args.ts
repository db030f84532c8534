/**
 * Splits the command line into the command, its raw option values, its
 * positional arguments and the command after `--`. Values are validated
 * later, by {@linkcode resolveOptions} in config/resolve_options.ts, so that
 * flags, variables and defaults go through the same checks.
 */
import { ConfigError } from "../errors.ts";
import {
  type CommandName,
  COMMANDS,
  OPTIONS,
  type OptionSpec,
} from "./options.ts";
import { suggest } from "./suggest.ts";

/** What the command line says, before validation. */
export interface Invocation {
  readonly command: CommandName;
  /** Raw values given on the command line, by option name. */
  readonly flags: ReadonlyMap<string, string[]>;
  /** Targets (wait, probe), the service (restart), the topic (help). */
  readonly positionals: readonly string[];
  /** The command after `--` (or, for `run`, from the first non-option). */
  readonly commandArgv?: readonly string[];
}

const MAX_POSITIONALS: Partial<Record<CommandName, number>> = {
  run: 0,
  migrate: 0,
  doctor: 0,
  version: 0,
  restart: 1,
  help: 1,
};

const TAKES_COMMAND: readonly CommandName[] = ["run", "wait"];

/** "Unknown command 'X'", with the closest command when it looks like a typo. */
function unknownCommand(word: string): ConfigError {
  const close = suggest(word, COMMANDS);
  return new ConfigError(
    close
      ? `Unknown command '${word}': did you mean '${close}'?`
      : `Unknown command '${word}': expected one of ${COMMANDS.join(", ")}`,
  );
}

/**
 * "Unknown option", saying which command has it when another one does, or
 * the closest option of this command when it looks like a typo.
 */
function unknownOption(
  command: CommandName,
  written: string,
  name: string,
): ConfigError {
  const head = `Unknown option '${written}' for '${command}'`;
  const help = `see 'preflight help ${command}'`;
  const elsewhere = OPTIONS.find((o) => o.name === name || o.short === name);
  if (elsewhere && !elsewhere.commands.includes(command)) {
    return new ConfigError(
      `${head}: it is an option of ${elsewhere.commands.join(", ")} (${help})`,
    );
  }
  const own = OPTIONS.filter((o) => o.commands.includes(command))
    .flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
  const close = suggest(written, own);
  return new ConfigError(
    close ? `${head}: did you mean '${close}'? (${help})` : `${head}: ${help}`,
  );
}

function findOption(
  command: CommandName,
  name: string,
): OptionSpec | undefined {
  return OPTIONS.find((o) =>
    (o.name === name || o.short === name) && o.commands.includes(command)
  );
}

/** Parses `Deno.args` into an {@linkcode Invocation}; throws ConfigError on a malformed line. */
export function parseArgs(args: readonly string[]): Invocation {
  let i = 0;
  let command: CommandName = "run";
  const first = args[0];
  if (first === "--version" || first === "-V") {
    return { command: "version", flags: new Map(), positionals: [] };
  }
  if (first === "--help" || first === "-h") {
    return { command: "help", flags: new Map(), positionals: [] };
  }
  if (first !== undefined && !first.startsWith("-")) {
    if (!(COMMANDS as readonly string[]).includes(first)) {
      throw unknownCommand(first);
    }
    command = first as CommandName;
    i = 1;
  }
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  let commandArgv: string[] | undefined;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      if (!TAKES_COMMAND.includes(command)) {
        throw new ConfigError(
          `Invalid argument '--' for '${command}': only run and wait take a command after --`,
        );
      }
      commandArgv = args.slice(i + 1);
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const long = arg.startsWith("--");
      const body = long ? arg.slice(2) : arg.slice(1);
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const spec = findOption(command, name);
      if (
        !spec || (!long && spec.short !== name) || (long && spec.name !== name)
      ) {
        throw unknownOption(command, `${long ? "--" : "-"}${name}`, name);
      }
      let value: string;
      if (spec.kind === "bool") {
        value = eq >= 0 ? body.slice(eq + 1) : "true";
      } else if (eq >= 0) {
        value = body.slice(eq + 1);
      } else {
        if (i + 1 >= args.length) {
          throw new ConfigError(
            `Missing value for option '--${spec.name}': expected ${
              spec.arg ?? "a value"
            }`,
          );
        }
        value = args[++i];
      }
      const list = flags.get(spec.name) ?? [];
      if (list.length > 0 && !spec.repeatable) {
        throw new ConfigError(
          `Option '--${spec.name}' given twice: it takes one value`,
        );
      }
      list.push(value);
      flags.set(spec.name, list);
      continue;
    }
    // `preflight run uvicorn app:app` starts the app command, as tini does.
    if (command === "run") {
      commandArgv = args.slice(i);
      break;
    }
    const max = MAX_POSITIONALS[command];
    if (max !== undefined && positionals.length >= max) {
      throw new ConfigError(
        `Unexpected argument '${arg}' for '${command}': ${
          max === 0 ? "it takes no arguments" : `it takes at most ${max}`
        }`,
      );
    }
    positionals.push(arg);
  }
  if (command === "help" && positionals[0] !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(positionals[0])) {
      throw unknownCommand(positionals[0]);
    }
  }
  return { command, flags, positionals, commandArgv: commandArgv };
}
