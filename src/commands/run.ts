/**
 * `preflight run` (the default): wait for the dependencies, migrate under
 * the lock, then hand over to the app, printing the old entrypoint's
 * markers. Everything is validated before the first marker.
 */
import type { CommandHandler } from "./context.ts";
import { MigrationError } from "../errors.ts";
import { parseTarget, type Target } from "../checks/mod.ts";
import { pgAddress, type PostgresTarget } from "../checks/postgres_url.ts";
import {
  appCommand,
  appPort,
  databaseTarget,
  redisTarget,
} from "../config/stack_env.ts";
import { commandDisplayName } from "../config/command_string.ts";
import { waitFailure, waitStep } from "../wait/wait_step.ts";
import { migrateStep, planMigration } from "../migrate/migrate_step.ts";
import { handOver } from "../handover/hand_over.ts";
import { validateHandOver } from "../handover/validate_hand_over.ts";
import { checkMigrationProgram } from "../migrate/migration_program.ts";

const RULE = "============================================";

const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** The targets of the wait step: the database (unless --no-db), Redis, then --wait-for. */
async function runTargets(
  env: Readonly<Record<string, string>>,
  waitFor: readonly string[],
  source: string,
  noDb = false,
): Promise<{ db?: PostgresTarget; others: Target[] }> {
  const db = noDb ? undefined : databaseTarget(env);
  const others: Target[] = [];
  const redis = redisTarget(env);
  if (redis) others.push(redis);
  for (const t of waitFor) others.push(await parseTarget(t, source));
  return { db, others };
}

/** Runs the startup sequence. */
export const run: CommandHandler = async (ctx) => {
  const { clock, env } = ctx;
  const started = clock.now();
  const { options, sources } = ctx.config;
  // Plan and validate everything first: nothing is half-done on bad input.
  const targets = options.noWait
    ? undefined
    : await runTargets(env, options.waitFor, sources.waitFor, options.noDb);
  const plan = options.noMigrate ? undefined : planMigration(ctx.config);
  const app = appCommand(ctx.config.commandArgv, env);
  if (env.PORT !== undefined) appPort(env);
  const prepared = await validateHandOver(app, options, env);
  // A missing migration command (127) is reported before any marker too.
  if (plan) checkMigrationProgram(ctx.config, plan.argv[0]);
  const appName = commandDisplayName(app);

  const log = ctx.logger.get("run");
  const step = {
    signal: ctx.signal,
    log,
    clock,
    status: ctx.logger.status,
  };
  log.info(RULE, { banner: true });
  let waitStatus: "ready" | "timeout" | "skipped" = "skipped";
  let waitMs = 0;
  if (targets) {
    const db = targets.db;
    const all = db ? [db, ...targets.others] : targets.others;
    if (db) {
      log.info(`Waiting for Postgres at ${pgAddress(db)}...`, {
        phase: "wait",
        target: db.id,
      });
    }
    for (const t of targets.others) {
      log.info(`Waiting for ${t.id}...`, { phase: "wait", target: t.id });
    }
    const waitStarted = clock.now();
    // The old marker: said as soon as the database is ready (index 0).
    const outcome = await waitStep(all, options, step, (i) => {
      if (i !== 0 || !db) return;
      log.info("✓ DB connectivity check complete.", {
        phase: "wait",
        elapsed_ms: Math.round(clock.now() - waitStarted),
      });
    });
    waitMs = outcome.elapsedMs;
    if (outcome.ready) {
      waitStatus = "ready";
    } else {
      waitStatus = "timeout";
      if (options.onTimeout === "fail") {
        throw waitFailure(outcome, "Dependencies");
      }
      log.warn(
        "⚠️ Dependencies not ready; continuing (--on-timeout continue).",
        {
          phase: "wait",
          elapsed_ms: Math.round(waitMs),
        },
      );
    }
  }

  let migrations: "applied" | "failed" | "skipped" = "skipped";
  let migrateText = "migrate skipped";
  if (plan) {
    const result = await migrateStep(plan, ctx.config, step, started);
    migrations = result.status;
    migrateText = `migrate ${secs(result.elapsedMs)} (${result.attempts} ${
      result.attempts === 1 ? "attempt" : "attempts"
    }${result.status === "failed" ? ", failed" : ""})`;
    if (result.status === "failed" && options.onMigrateFailure === "fail") {
      // The warning above said what failed; this says why the app does not start.
      throw new MigrationError(
        "Not starting the app: --on-migrate-failure fail (exit 3)",
      );
    }
  }

  // Since the process started: the real clock counts from there.
  const now = clock.now();
  log.info(
    `Startup: wait ${
      targets ? secs(waitMs) : "skipped"
    }, ${migrateText}, handover at ${secs(now)}`,
    { phase: "handover", elapsed_ms: Math.round(now) },
  );
  if (appName) {
    log.info(`Starting ${appName} application...`, { phase: "handover" });
  } else {
    // Inline shell code (sh -c '...') has no name of its own.
    log.info("Starting the app...", { phase: "handover" });
  }
  log.info(RULE, { banner: true });
  const appEnv = {
    ...env,
    PREFLIGHT_WAIT: waitStatus,
    PREFLIGHT_MIGRATIONS: migrations,
  };
  return await handOver(app, appEnv, {
    options,
    signal: ctx.signal,
    log,
    prepared,
    clock,
  });
};
