/**
 * `doctor` and `restart` run on a host, next to the stack's `.env`, and read
 * it as Docker Compose does: a variable from `./.env` counts only where the
 * environment (and `--env-file`) does not already set it. Its `PREFLIGHT_*`
 * options apply too, below flags and the environment; except `--env-file`
 * and the log options, which have taken effect before the file is read.
 */
import { ConfigError } from "../errors.ts";
import { envName, optionsOf } from "../cli/options.ts";
import type { Config, Options } from "../config/resolve_options.ts";
import { parseOptionValue } from "../config/resolve_options.ts";
import { parseEnvFile } from "../config/env_file.ts";
import { registerSecretsFromEnv } from "../redact.ts";

/** Options that cannot change once the command runs. */
const TOO_LATE = new Set(["env-file", "log-format", "log-level", "log-prefix"]);

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Returns `config` with the variables of the env file at `path` (default
 * `.env` in the current directory) added where unset; `config` itself when
 * there is no such file. Secrets in it are registered for scrubbing. An
 * unreadable or malformed file, or an invalid option value in it, is a
 * ConfigError.
 */
export async function withDotenv(
  config: Config,
  path = ".env",
): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return config;
    if (e instanceof Deno.errors.IsADirectory) return config;
    throw new ConfigError(
      `Cannot read env file '${path}': ${
        (e as Error).message.replace(/\s*\(os error \d+\).*$/s, "")
      }`,
      { cause: e },
    );
  }
  const file = parseEnvFile(text, path);
  const env: Record<string, string> = { ...file, ...config.env };
  registerSecretsFromEnv(env);
  const options: Record<string, unknown> = { ...config.options };
  const sources: Record<string, string> = { ...config.sources };
  for (const spec of optionsOf(config.command)) {
    const variable = envName(spec);
    const key = camel(spec.name);
    if (
      variable === undefined || TOO_LATE.has(spec.name) ||
      sources[key] !== "default" || file[variable] === undefined ||
      config.env[variable] !== undefined
    ) continue;
    options[key] = parseOptionValue(
      spec,
      file[variable],
      `${variable} in ${path}`,
      config.command,
    );
    sources[key] = `${variable} in ${path}`;
  }
  const envOrigin: Record<string, string> = { ...config.envOrigin };
  const shown = /^\.{0,2}\//.test(path) ? path : `./${path}`;
  for (const name of Object.keys(file)) envOrigin[name] ??= shown;
  return Object.freeze({
    ...config,
    options: Object.freeze(options) as unknown as Options,
    env: Object.freeze(env),
    sources: Object.freeze(sources),
    envOrigin: Object.freeze(envOrigin),
  });
}
