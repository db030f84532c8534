/**
 * From `Deno.args` and the environment to a validated, frozen
 * {@linkcode Config}: parse the command line, read the env files (and, for
 * `doctor` and `restart`, `./.env`), resolve every option. Throws
 * ConfigError before anything has been done.
 */
import { ConfigError } from "../errors.ts";
import type { CommandName } from "../cli/options.ts";
import { parseArgs } from "../cli/parse_args.ts";
import { type Config, type Dotenv, resolveOptions } from "./resolve_options.ts";

/**
 * The host commands, which run next to the stack's `.env` and read it as
 * Docker Compose does: where the environment and env files do not already
 * set a variable.
 */
const READS_DOTENV: readonly CommandName[] = ["doctor", "restart"];

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** The project's env file for `doctor` and `restart` (default `.env`). */
  readonly dotenv?: string;
}

/**
 * Parses, reads env files and resolves; the only entry to configuration.
 * `COMMAND --help` comes back as the configuration of `help COMMAND`.
 */
export async function loadConfig(
  args: readonly string[],
  processEnv: Record<string, string>,
  opts: LoadConfigOptions = {},
): Promise<Config> {
  const invocation = parseArgs(args);
  const fromFlags = invocation.flags.get("env-file");
  const fromEnv = processEnv.PREFLIGHT_ENV_FILE;
  const paths = fromFlags?.flatMap((p) => p.split(",").filter(Boolean)) ??
    (fromEnv ? fromEnv.split(",").map((p) => p.trim()).filter(Boolean) : []);
  let fileEnv: Record<string, string> = {};
  if (paths.length > 0) {
    const { loadEnvFiles } = await import("./env_file.ts");
    fileEnv = await loadEnvFiles(paths);
  }
  const dotenv = READS_DOTENV.includes(invocation.command)
    ? await readDotenv(opts.dotenv ?? ".env")
    : undefined;
  const config = resolveOptions(invocation, processEnv, fileEnv, dotenv);
  // `COMMAND --help` is `help COMMAND`, once its line is known to be valid.
  return config.options.help && config.command !== "help"
    ? Object.freeze({
      ...config,
      command: "help",
      positionals: [config.command],
      commandArgv: undefined,
    })
    : config;
}

/** The project's `.env`, or undefined when there is none; ConfigError when unreadable or malformed. */
async function readDotenv(path: string): Promise<Dotenv | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.IsADirectory) return undefined;
    throw new ConfigError(
      `Cannot read env file '${path}': ${
        (e as Error).message.replace(/\s*\(os error \d+\).*$/s, "")
      }`,
      { cause: e },
    );
  }
  const { parseEnvFile } = await import("./env_file.ts");
  return { path, vars: parseEnvFile(text, path) };
}
