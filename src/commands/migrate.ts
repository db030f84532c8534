/**
 * `preflight migrate`: the migration step alone (lock and retries), for a
 * Kubernetes Job or a one-off. Exit 0 when applied, 3 when every attempt
 * failed.
 */
import type { CommandHandler } from "./context.ts";
import { MigrationError } from "../errors.ts";
import { migrateStep, planMigration } from "../migrate/migrate_step.ts";
import { checkMigrationProgram } from "../migrate/migration_program.ts";

/** Runs the migrations. */
export const migrate: CommandHandler = async (ctx) => {
  const started = ctx.clock.now();
  const plan = planMigration(ctx.config);
  const log = ctx.logger.get("migrate");
  if (!plan) {
    log.info("No migration command (empty); nothing to do", {
      phase: "migrate",
    });
    return 0;
  }
  checkMigrationProgram(ctx.config, plan.argv[0]);
  const result = await migrateStep(plan, ctx.config, {
    signal: ctx.signal,
    log,
    clock: ctx.clock,
  }, started);
  if (result.status !== "applied") {
    // The warning above said what failed.
    throw new MigrationError("Exiting with code 3");
  }
  return 0;
};
