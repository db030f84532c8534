/**
 * `preflight doctor`: diagnose a running stack from a host. Reads the same
 * variables as `run`, plus `./.env` where they are unset (as Compose does),
 * checks PostgreSQL, Redis, the app's health URL and the Compose services
 * at once, and prints a table (or `--json`) on standard output. Exit 0 when
 * no check failed, 1 otherwise.
 */
import type { CommandHandler } from "./context.ts";
import { withDotenv } from "../doctor/dotenv_config.ts";
import { planDoctor } from "../doctor/doctor_plan.ts";
import { runDoctor } from "../doctor/run_doctor.ts";
import { formatJson, formatText, useColor } from "../doctor/format_report.ts";

/** Runs the diagnosis. */
export const doctor: CommandHandler = async (ctx) => {
  const config = await withDotenv(ctx.config);
  const plan = await planDoctor(config, ctx.config.env);
  const report = await runDoctor(plan, ctx.signal);
  ctx.stdout(
    config.options.json
      ? formatJson(report)
      : formatText(report, { color: useColor(config.env) }),
  );
  return report.ok ? 0 : 1;
};
