/**
 * What `doctor` will check, derived from the configuration with the same
 * variables and defaults as `run`, and validated before anything is
 * contacted: an invalid DB_PORT, URL or table name is a ConfigError (exit 2),
 * not a failed line.
 */
import { ConfigError } from "../errors.ts";
import { parseTarget, parseTargetOf, type Target } from "../checks/mod.ts";
import { kind as http } from "../checks/http.ts";
import type { HttpTarget } from "../checks/http_get.ts";
import { pgAddress, type PostgresTarget } from "../checks/postgres_url.ts";
import type { RedisTarget } from "../checks/redis_session.ts";
import {
  appPort,
  databaseTarget,
  lockDatabase,
  redisTarget,
} from "../config/stack_env.ts";
import { type Config, envWithoutDotenv } from "../config/resolve_options.ts";
import type { ComposeOptions } from "../compose/compose_cli.ts";
import { type FixHints, fixHints } from "./fix_hint.ts";

/** Everything `doctor` checks, and how long each check may take. */
export interface DoctorPlan {
  /** The server, `pg_isready`-level (no credentials). */
  readonly database: PostgresTarget;
  /** The login, when credentials are known. */
  readonly login?: PostgresTarget;
  /** Table holding the migration revision (`--version-table`). */
  readonly versionTable: string;
  readonly redis?: RedisTarget;
  readonly queues: readonly string[];
  readonly health: HttpTarget;
  /** The targets of `--wait-for` / `PREFLIGHT_WAIT_FOR`, of any kind. */
  readonly targets: readonly Target[];
  readonly compose: ComposeOptions;
  /** Time limit of each check, in ms (`--timeout`). */
  readonly timeoutMs: number;
  /** What a failing line asks to change, and where the values came from. */
  readonly fixes: FixHints;
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/** The default health URL: `http://127.0.0.1:${PORT:-8000}/health`. */
function defaultHealthUrl(
  env: Readonly<Record<string, string>>,
): string {
  return `http://127.0.0.1:${appPort(env)}/health`;
}

/** Builds and validates the plan; throws ConfigError on invalid input. */
export async function planDoctor(config: Config): Promise<DoctorPlan> {
  const { options, env, sources } = config;
  const db = databaseTarget(env);
  // The servers of the database, at pg_isready's level: no credentials.
  const address = `postgres://${pgAddress(db)}`;
  const database: PostgresTarget = {
    ...db,
    url: address,
    id: address,
    username: undefined,
    password: undefined,
  };
  const login = lockDatabase(env);
  if (!TABLE.test(options.versionTable)) {
    throw new ConfigError(
      `Invalid ${
        sources.versionTable === "default"
          ? "--version-table"
          : sources.versionTable
      } '${options.versionTable}': expected a table name, optionally with its schema (alembic_version, app.alembic_version)`,
    );
  }
  const redis = redisTarget(env);
  const healthSource = options.healthUrl !== undefined
    ? (sources.healthUrl === "default" ? "--health-url" : sources.healthUrl)
    : "PORT";
  const health = parseTargetOf(
    http,
    options.healthUrl ?? defaultHealthUrl(env),
    healthSource,
  );
  const targets: Target[] = [];
  for (const text of options.waitFor) {
    targets.push(await parseTarget(text, sources.waitFor));
  }
  for (const q of options.queue) {
    if (q.length > 200) {
      throw new ConfigError(
        `Invalid --queue '${
          q.slice(0, 40)
        }...': expected a queue name up to 200 characters`,
      );
    }
  }
  return {
    database,
    login,
    versionTable: options.versionTable,
    redis,
    queues: options.queue.length > 0 ? [...new Set(options.queue)] : ["celery"],
    health,
    targets,
    compose: {
      files: options.file,
      projectDirectory: options.projectDirectory,
      // Compose reads its project's .env itself.
      env: envWithoutDotenv(config),
    },
    timeoutMs: options.timeout,
    fixes: fixHints(config),
  };
}
