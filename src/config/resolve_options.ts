/**
 * Precedence in one place ({@linkcode resolveOptions}): command-line flags,
 * then the environment's variables, then env files, then (doctor, restart)
 * `./.env`, then defaults. Every value is validated here, before any command
 * acts, and the result is frozen.
 */
import { ConfigError } from "../errors.ts";
import {
  type CommandName,
  defaultFor,
  envName,
  OPTIONS,
  type Options,
  type OptionSpec,
} from "../cli/options.ts";
import type { Invocation } from "../cli/parse_args.ts";
import { durationExpectation, parseDuration } from "./duration.ts";
import { isSecretName, registerSecretsFromEnv } from "../redact.ts";

export type { Options };

/** Everything a command needs from its configuration. */
export interface Config {
  readonly command: CommandName;
  readonly options: Options;
  readonly positionals: readonly string[];
  readonly commandArgv?: readonly string[];
  /** The environment the app and children get: the process's, plus env files. */
  readonly env: Readonly<Record<string, string>>;
  /** Where each option's value came from, for messages. */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * Where each variable of `env` came from: "environment", "--env-file",
   * or (doctor, restart) the `./.env` path; absent: unset (a default applies).
   */
  readonly envOrigin: Readonly<Record<string, string>>;
  /** The `./.env` file read (doctor, restart), as `envOrigin` shows it. */
  readonly dotenv?: string;
}

/**
 * A project's `./.env`, read by `doctor` and `restart` as Docker Compose
 * reads it: below the environment and env files.
 */
export interface Dotenv {
  /** The path as given, for messages (`PREFLIGHT_TIMEOUT in .env`). */
  readonly path: string;
  readonly vars: Record<string, string>;
}

/**
 * Options `./.env` does not set: it names no env files, and it is the
 * containers' file (e.g. `PREFLIGHT_LOG_FORMAT=json` for them): the host
 * command's log lines stay as the host asks.
 */
const NOT_FROM_DOTENV = new Set([
  "env-file",
  "log-format",
  "log-level",
  "log-prefix",
]);

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function shown(source: string, value: string): string {
  return isSecretName(source) ? "***" : value;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off", ""];

function parseStatuses(text: string, source: string): number[] {
  const out: number[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || hi < lo) {
      throw new ConfigError(
        `Invalid ${source} '${text}': expected HTTP status codes 100-599, e.g. 200,204 or 200-399`,
      );
    }
    for (let s = lo; s <= hi; s++) out.push(s);
  }
  if (out.length === 0) {
    throw new ConfigError(
      `Invalid ${source} '${text}': expected HTTP status codes 100-599, e.g. 200,204 or 200-399`,
    );
  }
  return out;
}

/**
 * Parses one raw value of an option; `source` is the flag or variable, for
 * messages. A duration of 0 where `command` reads it as "no limit" is
 * Infinity.
 */
function parseOptionValue(
  spec: OptionSpec,
  raw: string,
  source: string,
  command?: CommandName,
): unknown {
  const value = raw.trim();
  switch (spec.kind) {
    case "string":
      return raw;
    case "bool": {
      const v = value.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      throw new ConfigError(
        `Invalid ${source} '${
          shown(source, raw)
        }': expected true or false (1/0, yes/no, on/off)`,
      );
    }
    case "duration": {
      const ms = parseDuration(value);
      if (
        ms === 0 && command !== undefined &&
        spec.zeroMeansNone?.includes(command)
      ) return Infinity;
      if (ms === 0 && spec.positive) {
        throw new ConfigError(
          `Invalid ${source} '${
            shown(source, raw)
          }': expected a duration greater than 0, such as 500ms or 10s`,
        );
      }
      if (ms === undefined) {
        throw new ConfigError(
          `Invalid ${source} '${shown(source, raw)}': expected ${
            durationExpectation(value)
          }`,
        );
      }
      return ms;
    }
    case "count": {
      const min = spec.min ?? 0;
      if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 1e6) {
        throw new ConfigError(
          `Invalid ${source} '${
            shown(source, raw)
          }': expected a whole number from ${min} to 1000000`,
        );
      }
      return Number(value);
    }
    case "enum": {
      const choice = value.toLowerCase();
      if (!spec.choices!.includes(choice)) {
        throw new ConfigError(
          `Invalid ${source} '${shown(source, raw)}': expected ${
            spec.choices!.join(" or ")
          }`,
        );
      }
      return choice;
    }
    case "list":
      return value.split(/[\s,]+/).filter(Boolean);
    case "statuses":
      return parseStatuses(value, source);
  }
}

/**
 * Resolves every option of the invocation's command, each from the first
 * of: 1. its flag; 2. its variable in `processEnv`; 3. in `fileEnv` (the
 * `--env-file` files); 4. in `dotenv` (doctor and restart); 5. its default.
 * The environment the command and its children see is merged in the same
 * order.
 */
export function resolveOptions(
  invocation: Invocation,
  processEnv: Record<string, string>,
  fileEnv: Record<string, string> = {},
  dotenv?: Dotenv,
): Config {
  const dotenvVars = dotenv?.vars ?? {};
  const env: Record<string, string> = {
    ...dotenvVars,
    ...fileEnv,
    ...processEnv,
  };
  registerSecretsFromEnv(env);
  const dotenvShown = dotenv &&
    (/^\.{0,2}\//.test(dotenv.path) ? dotenv.path : `./${dotenv.path}`);
  const envOrigin: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    envOrigin[name] = Object.hasOwn(processEnv, name)
      ? "environment"
      : Object.hasOwn(fileEnv, name)
      ? "--env-file"
      : dotenvShown!;
  }
  const command = invocation.command;
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const spec of OPTIONS) {
    const key = camel(spec.name);
    const applies = spec.commands.includes(command);
    const flag = applies ? invocation.flags.get(spec.name) : undefined;
    const variable = envName(spec);
    // 2-4: the variable, where it is set first.
    const set = variable === undefined || !applies
      ? undefined
      : Object.hasOwn(processEnv, variable) || Object.hasOwn(fileEnv, variable)
      ? { raw: env[variable], source: variable }
      : Object.hasOwn(dotenvVars, variable) && !NOT_FROM_DOTENV.has(spec.name)
      ? { raw: dotenvVars[variable], source: `${variable} in ${dotenv!.path}` }
      : undefined;
    let result: unknown;
    if (flag !== undefined) {
      // 1. Flags.
      const parsed = flag.map((raw) =>
        parseOptionValue(spec, raw, `--${spec.name}`, command)
      );
      result = spec.kind === "list" ? parsed.flat() : parsed[parsed.length - 1];
      sources[key] = `--${spec.name}`;
    } else if (set !== undefined) {
      // 2-4. The environment, env files, ./.env (merged above in that order).
      result = parseOptionValue(spec, set.raw, set.source, command);
      sources[key] = set.source;
    } else if (!applies) {
      // Not an option of this command: never read, so not parsed (probe
      // runs every few seconds and parses only its own options).
      result = spec.kind === "bool"
        ? false
        : spec.kind === "list"
        ? []
        : undefined;
      sources[key] = "n/a";
    } else {
      // 5. Defaults.
      const def = defaultFor(spec, command);
      result = def === undefined
        ? (spec.kind === "bool" ? false : spec.kind === "list" ? [] : undefined)
        : parseOptionValue(spec, def, `default of --${spec.name}`, command);
      sources[key] = "default";
    }
    values[key] = result;
  }
  return Object.freeze({
    command,
    options: Object.freeze(values) as Options,
    positionals: invocation.positionals,
    commandArgv: invocation.commandArgv,
    env: Object.freeze(env),
    sources: Object.freeze(sources),
    envOrigin: Object.freeze(envOrigin),
    ...(dotenvShown === undefined ? {} : { dotenv: dotenvShown }),
  });
}

/**
 * The environment without the variables only `./.env` set: what `docker
 * compose` gets, since it reads its project's `.env` itself.
 */
export function envWithoutDotenv(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.env)) {
    if (
      config.dotenv === undefined || config.envOrigin[name] !== config.dotenv
    ) {
      out[name] = value;
    }
  }
  return out;
}
