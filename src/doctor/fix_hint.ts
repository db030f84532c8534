/**
 * What a failing `doctor` line asks to change, and where each value came
 * from (the environment, an env file, `./.env`, or the default), so a wrong
 * setting is found without reading the code. Secrets are masked.
 */
import type { Config } from "../config/resolve_options.ts";
import { isSecretName, redactUrl } from "../redact.ts";
import { databaseAddress } from "../config/stack_env.ts";

/** `NAME=value (origin)`, the value masked when the name or a URL says it is secret. */
function describeVariable(
  config: Config,
  name: string,
  fallback?: string,
): string {
  const value = config.env[name] || undefined;
  const origin = value === undefined
    ? "default"
    : config.envOrigin[name] ?? "environment";
  const shown = value === undefined
    ? fallback ?? "unset"
    : isSecretName(name)
    ? "***"
    : value.includes("://")
    ? redactUrl(value)
    : value;
  return `${name}=${shown} (${origin})`;
}

/** Where an option's value came from: the flag, a variable (and its file), or the default. */
function describeOption(
  config: Config,
  key: string,
  flag: string,
  value: string,
): string {
  const source = config.sources[key] ?? "default";
  if (source === "default") return `${flag} ${value} (default)`;
  if (source.startsWith("--")) return `${flag} ${value} (command line)`;
  // "PREFLIGHT_X in .env" (doctor's ./.env), or a variable.
  const [variable, file] = source.split(" in ");
  const origin = file !== undefined
    ? (/^\.{0,2}\//.test(file) ? file : `./${file}`)
    : config.envOrigin[variable] ?? "environment";
  return `${variable}=${value} (${origin})`;
}

/** The hints of one doctor run, by what failed. */
export interface FixHints {
  /** The server's address: DATABASE_URL, else DB_HOST/DB_PORT, PGHOST/PGPORT. */
  readonly database: string;
  /** The login: DATABASE_URL, else the PG* or POSTGRES_* credentials. */
  readonly login: string;
  readonly versionTable: string;
  readonly redis: string;
  readonly health: string;
}

/** The hints for `config` (validated by planDoctor first). */
export function fixHints(config: Config): FixHints {
  const env = config.env;
  const d = (name: string, fallback?: string) =>
    describeVariable(config, name, fallback);
  let database: string;
  let login: string;
  if (env.DATABASE_URL) {
    database = login = `change ${d("DATABASE_URL")}`;
  } else {
    const a = databaseAddress(env);
    const [hostVar, portVar] = a.source === "default"
      ? ["DB_HOST", "DB_PORT"]
      : a.source.split("/");
    database = `change ${d(hostVar, "postgres")} or ${d(portVar, "5432")}`;
    const prefix = env.PGUSER ? "PG" : "POSTGRES_";
    const [user, password, db] = prefix === "PG"
      ? ["PGUSER", "PGPASSWORD", "PGDATABASE"]
      : ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"];
    login = `change ${d(user)}, ${d(password)} or ${d(db, "the user name")}`;
  }
  const health = config.options.healthUrl !== undefined
    ? `change ${
      describeOption(
        config,
        "healthUrl",
        "--health-url",
        redactUrl(config.options.healthUrl),
      )
    }`
    : `change ${d("PORT", "8000")}, or give --health-url`;
  return {
    database,
    login,
    versionTable: `change ${
      describeOption(
        config,
        "versionTable",
        "--version-table",
        config.options.versionTable,
      )
    }`,
    redis: `change ${d("REDIS_URL")}`,
    health,
  };
}
