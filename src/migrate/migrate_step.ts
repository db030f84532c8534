/**
 * The migration step of `run` and `migrate`: under the advisory lock when
 * credentials are known, run the migration command with retries, and log
 * the old script's markers.
 */
import type { Config } from "../config/resolve_options.ts";
import type { PostgresTarget } from "../checks/postgres_url.ts";
import type { StepContext } from "../wait/wait_step.ts";
import {
  databaseTarget,
  lockDatabase,
  migrateCommand,
} from "../config/stack_env.ts";
import { commandDisplayName } from "../config/command_string.ts";
import { resolveCommand } from "../process/resolve_command.ts";
import { runMigrations } from "./run_migrations.ts";
import { LockTimeoutError, migrationLock } from "./migration_lock.ts";

/** What the migration step will do, decided (and validated) before anything runs. */
export interface MigrationPlan {
  readonly argv: readonly string[];
  readonly name: string;
  /** The database to lock, or undefined to migrate without the lock. */
  readonly lock?: PostgresTarget;
  /** The database as the wait step checks it (undefined with --no-db): see runMigrations. */
  readonly database?: PostgresTarget;
}

/** The outcome of the step, as PREFLIGHT_MIGRATIONS reports it. */
export interface MigrationStepResult {
  readonly status: "applied" | "failed" | "skipped";
  readonly attempts: number;
  readonly elapsedMs: number;
}

/** Builds the plan, or undefined when the migration command is empty; throws ConfigError. */
export function planMigration(config: Config): MigrationPlan | undefined {
  const { options, env, sources } = config;
  const argv = migrateCommand(
    options,
    env,
    sources.migrateCmd === "default" ? "--migrate-cmd" : sources.migrateCmd,
  );
  if (!argv) return undefined;
  return {
    argv,
    name: commandDisplayName(argv) ?? "Migration",
    lock: options.noMigrateLock || options.noDb ? undefined : lockDatabase(env),
    database: options.noDb ? undefined : databaseTarget(env),
  };
}

/**
 * Runs the step; rethrows a stop signal. The caller applies
 * `--on-migrate-failure`. Waiting for the lock is bounded by the `--timeout`
 * budget that began at `budgetStartedAt` (the start of `run`, shared with
 * the wait step, or of `migrate`).
 */
export async function migrateStep(
  plan: MigrationPlan,
  config: Config,
  step: StepContext,
  budgetStartedAt: number,
): Promise<MigrationStepResult> {
  const { options } = config;
  const { signal, log, clock } = step;
  const started = clock.now();
  const env = { ...config.env };
  // Not found / not executable is an error of the image, not a failed attempt.
  resolveCommand(plan.argv[0], env);
  log.info("Running database migrations...", { phase: "migrate" });
  const lock = plan.lock
    ? migrationLock(plan.lock, {
      deadlineAt: budgetStartedAt + options.timeout,
      signal,
      log,
      clock,
    })
    : undefined;
  if (!lock) {
    log.debug(
      "Migrating without the lock (no database credentials, or --no-migrate-lock)",
      { phase: "migrate" },
    );
  }
  try {
    const outcome = await runMigrations({
      argv: plan.argv,
      name: plan.name,
      env,
      attempts: options.migrateAttempts,
      delayMs: options.migrateDelay,
      maxDelayMs: options.migrateMaxDelay,
      stopTimeoutMs: options.stopTimeout,
      signal,
      log,
      clock,
      beforeAttempt: lock ? () => lock.ensure() : undefined,
      database: plan.database,
    });
    const elapsedMs = clock.now() - started;
    if (outcome.ok) {
      log.info("✓ Migrations applied successfully.", {
        phase: "migrate",
        attempt: outcome.attempts,
        elapsed_ms: Math.round(elapsedMs),
      });
      return { status: "applied", attempts: outcome.attempts, elapsedMs };
    }
    log.warn("⚠️ Migrations did not complete.", {
      phase: "migrate",
      attempt: outcome.attempts,
      exit_code: outcome.lastExitCode,
    });
    return { status: "failed", attempts: outcome.attempts, elapsedMs };
  } catch (e) {
    // Another replica held the lock past the deadline.
    if (!(e instanceof LockTimeoutError)) throw e;
    log.error(`✗ Could not take the migration lock in time: ${e.message}`, {
      phase: "migrate",
    });
    log.warn("⚠️ Migrations did not complete.", { phase: "migrate" });
    return {
      status: "failed",
      attempts: 0,
      elapsedMs: clock.now() - started,
    };
  } finally {
    await lock?.release();
  }
}
