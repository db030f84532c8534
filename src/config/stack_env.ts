/**
 * What `run`, `migrate` and `doctor` derive from the stack's environment,
 * with the old entrypoint's names and defaults: the database and Redis to
 * wait for, the credentials of the migration lock, and the migration and
 * app commands. Everything is validated here, before anything runs.
 */
import { ConfigError } from "../errors.ts";
import { hostPort, parseTarget, type Target } from "../checks/target.ts";
import { parseCommandString } from "./command_string.ts";
import type { Options } from "./resolve_options.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The default migration command of the old script. */
export const DEFAULT_MIGRATE_CMD = "alembic upgrade head";

// Empty means unset, as the old script's ${DB_PORT:-5432} read it.
function port(env: Env, name: string, fallback: string): number {
  const raw = env[name] || fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new ConfigError(
      `Invalid ${name} '${raw}': expected a port number 1-65535`,
    );
  }
  return Number(raw);
}

function host(env: Env, name: string, fallback: string): string {
  const raw = (env[name] || fallback).trim();
  if (raw.startsWith("/")) {
    throw new ConfigError(
      `Invalid ${name} '${raw}': a Unix-socket directory is not supported here; expected a host name or IP address`,
    );
  }
  if (raw === "" || /[\s/@?#]/.test(raw)) {
    throw new ConfigError(
      `Invalid ${name} '${raw}': expected a host name or IP address`,
    );
  }
  return raw.replace(/^\[(.*)\]$/, "$1");
}

/** The app's port: PORT, default 8000. */
export function appPort(env: Env): number {
  return port(env, "PORT", "8000");
}

/** Where the database is, without DATABASE_URL, and which variables said so. */
export interface DatabaseAddress {
  readonly host: string;
  readonly port: number;
  /** The variables read, e.g. "DB_HOST/PGPORT"; "default" for postgres:5432. */
  readonly source: string;
}

/**
 * The database's host and port when DATABASE_URL is unset: DB_HOST and
 * DB_PORT (the old script's), else libpq's PGHOST and PGPORT, else
 * postgres:5432; each of host and port on its own. The wait and the
 * migration lock both use it, so they always agree.
 */
export function databaseAddress(env: Env): DatabaseAddress {
  const hostVar = env.DB_HOST ? "DB_HOST" : env.PGHOST ? "PGHOST" : undefined;
  const portVar = env.DB_PORT ? "DB_PORT" : env.PGPORT ? "PGPORT" : undefined;
  return {
    host: host(env, hostVar ?? "DB_HOST", "postgres"),
    port: port(env, portVar ?? "DB_PORT", "5432"),
    source: hostVar || portVar
      ? `${hostVar ?? "DB_HOST"}/${portVar ?? "DB_PORT"}`
      : "default",
  };
}

/**
 * The database to wait for: DATABASE_URL (login), else the
 * {@linkcode databaseAddress} at `pg_isready` level.
 */
export function databaseTarget(env: Env): Target {
  if (env.DATABASE_URL) return parseTarget(env.DATABASE_URL, "DATABASE_URL");
  const a = databaseAddress(env);
  return parseTarget(
    `postgres://${hostPort(a)}`,
    a.source === "default" ? "DB_HOST/DB_PORT" : a.source,
  );
}

/** Redis to wait for: REDIS_URL when set. */
export function redisTarget(env: Env): Target | undefined {
  return env.REDIS_URL ? parseTarget(env.REDIS_URL, "REDIS_URL") : undefined;
}

/**
 * The connection URL for the migration lock, when credentials are known:
 * DATABASE_URL, else PGUSER/PGPASSWORD/PGDATABASE, else POSTGRES_USER/
 * POSTGRES_PASSWORD/POSTGRES_DB, at the {@linkcode databaseAddress}.
 */
export function lockDatabase(env: Env): Target | undefined {
  if (env.DATABASE_URL) {
    const t = parseTarget(env.DATABASE_URL, "DATABASE_URL");
    return t.scheme === "postgres" && t.username ? t : undefined;
  }
  const prefix = env.PGUSER
    ? "PG"
    : env.POSTGRES_USER
    ? "POSTGRES_"
    : undefined;
  if (!prefix) return undefined;
  const user = prefix === "PG" ? env.PGUSER! : env.POSTGRES_USER!;
  const password = prefix === "PG" ? env.PGPASSWORD : env.POSTGRES_PASSWORD;
  const db = (prefix === "PG" ? env.PGDATABASE : env.POSTGRES_DB) || user;
  const { host: h, port: p } = databaseAddress(env);
  const auth = encodeURIComponent(user) +
    (password ? ":" + encodeURIComponent(password) : "");
  const sslmode = env.PGSSLMODE
    ? `?sslmode=${encodeURIComponent(env.PGSSLMODE)}`
    : "";
  return parseTarget(
    `postgres://${auth}@${hostPort({ host: h, port: p })}/${
      encodeURIComponent(db)
    }${sslmode}`,
    `${prefix}USER`,
  );
}

/** Where a command string came from and its text. */
export interface CommandSource {
  readonly source: string;
  readonly text: string;
}

/** Where the migration command comes from: --migrate-cmd, else MIGRATE_CMD, else ALEMBIC_CMD, else the default. */
export function migrateCommandSource(
  options: Options,
  env: Env,
  sourceOfOption: string,
): CommandSource {
  return options.migrateCmd !== undefined
    ? { source: sourceOfOption, text: options.migrateCmd }
    : env.MIGRATE_CMD !== undefined
    ? { source: "MIGRATE_CMD", text: env.MIGRATE_CMD }
    : env.ALEMBIC_CMD !== undefined
    ? { source: "ALEMBIC_CMD", text: env.ALEMBIC_CMD }
    : { source: "default", text: DEFAULT_MIGRATE_CMD };
}

/** The migration command ({@linkcode migrateCommandSource}), split into words; undefined when empty (skip). */
export function migrateCommand(
  options: Options,
  env: Env,
  sourceOfOption: string,
): string[] | undefined {
  const chosen = migrateCommandSource(options, env, sourceOfOption);
  if (chosen.text.trim() === "") return undefined;
  return parseCommandString(chosen.text, env, chosen.source);
}

/** The app command: the arguments after --, else APP_CMD, else UVICORN_CMD, else uvicorn on ${PORT:-8000}. */
export function appCommand(
  argv: readonly string[] | undefined,
  env: Env,
): string[] {
  if (argv !== undefined && argv.length > 0) return [...argv];
  if (argv !== undefined) {
    throw new ConfigError(
      "Missing command after '--': expected the program to hand over to, e.g. -- uvicorn app.main:app",
    );
  }
  for (const name of ["APP_CMD", "UVICORN_CMD"]) {
    const text = env[name];
    if (text !== undefined && text.trim() !== "") {
      return parseCommandString(text, env, name);
    }
  }
  return [
    "uvicorn",
    "app.main:app",
    "--host",
    "0.0.0.0",
    "--port",
    String(appPort(env)),
  ];
}
