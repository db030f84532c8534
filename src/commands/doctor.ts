/**
 * `preflight doctor`: diagnose a running stack from a host. Reads the same
 * variables as `run`, plus `./.env` where they are unset (as Compose does;
 * config/load_config.ts), checks PostgreSQL, Redis, the app's health URL and
 * the Compose services at once, and prints a table (or `--json`) on
 * standard output. Exit 0 when no check failed, 1 otherwise.
 */
import type { CommandHandler } from "./context.ts";
import { planDoctor } from "../doctor/doctor_plan.ts";
import { runDoctor } from "../doctor/run_doctor.ts";
import { formatJson, formatText } from "../doctor/format_report.ts";

/** Runs the diagnosis. */
export const doctor: CommandHandler = async (ctx) => {
  const plan = await planDoctor(ctx.config);
  const report = await runDoctor(plan, ctx.signal);
  ctx.stdout.write(
    ctx.config.options.json ? formatJson(report) : formatText(report, {
      // On a terminal, unless NO_COLOR is set (and not empty).
      color: ctx.stdout.isTerminal && !ctx.env.NO_COLOR,
    }),
  );
  return report.ok ? 0 : 1;
};
