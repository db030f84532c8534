/**
 * Runs every `doctor` check at once and assembles the report. Each
 * component stops at its first failure and bounds each step by the
 * per-check timeout, so a dead host costs one timeout; a last-resort
 * deadline (three timeouts) still answers for a component that hangs in a
 * way no step foresaw.
 */
import { formatDuration } from "../config/duration.ts";
import { timeoutSignal } from "../time/timeout_signal.ts";
import {
  type CheckLine,
  type Component,
  type DoctorReport,
  line,
  SCHEMA_VERSION,
  summarize,
} from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";
import { postgresReport } from "./postgres_report.ts";
import { redisReport } from "./redis_report.ts";
import { httpReport } from "./http_report.ts";
import { targetsReport } from "./targets_report.ts";
import { composeReport } from "./compose_report.ts";

type Reporter = (plan: DoctorPlan, signal: AbortSignal) => Promise<CheckLine[]>;

const REPORTERS: [Component, string, Reporter][] = [
  ["postgres", "reachable", postgresReport],
  ["redis", "reachable", redisReport],
  ["app", "health", httpReport],
  ["target", "ready", targetsReport],
  ["compose", "cli", composeReport],
];

/** The line with what to change when it failed, by what failed. */
function withFix(l: CheckLine, plan: DoctorPlan): CheckLine {
  if (l.status !== "fail") return l;
  const f = plan.fixes;
  const fix = l.component === "postgres"
    ? (l.check === "reachable"
      ? f.database
      : l.check === "migration"
      ? f.versionTable
      : f.login)
    : l.component === "redis"
    ? f.redis
    : l.component === "app"
    ? f.health
    : l.component === "target"
    ? undefined
    : l.subject !== null
    ? `see docker compose logs ${l.subject}`
    : undefined;
  return fix === undefined ? l : { ...l, fix };
}

/**
 * Loads, ahead of the checks, the modules they would otherwise load during
 * their first attempt (the PostgreSQL client, the resolver, sockets), so
 * that each latency is the check's own, not module loading.
 */
export async function loadCheckModules(): Promise<void> {
  await Promise.all([
    import("postgres"),
    import("mysql2"),
    import("node:net"),
    import("node:dns/promises"),
  ]);
}

/** Options of {@linkcode runDoctor}. */
export interface RunDoctorOptions {
  /** Loads what the checks need before they are timed (tests slow it down). */
  readonly load?: () => Promise<void>;
}

/** Runs the checks of `plan`; rethrows the reason when `signal` aborts (a stop signal). */
export async function runDoctor(
  plan: DoctorPlan,
  signal: AbortSignal,
  opts: RunDoctorOptions = {},
): Promise<DoctorReport> {
  const startedAt = new Date();
  await (opts.load ?? loadCheckModules)();
  const t0 = performance.now();
  const hard = timeoutSignal(plan.timeoutMs * 3 + 1000, signal);
  try {
    const parts = await Promise.all(
      REPORTERS.map(([component, check, report]) =>
        new Promise<CheckLine[]>((resolve) => {
          const onHard = () =>
            resolve([
              line(
                component,
                check,
                "fail",
                `no answer within ${formatDuration(plan.timeoutMs * 3 + 1000)}`,
              ),
            ]);
          hard.signal.addEventListener("abort", onHard, { once: true });
          report(plan, hard.signal).then(resolve, (e: unknown) =>
            resolve([
              line(
                component,
                check,
                "fail",
                `unexpected error: ${(e as Error)?.message ?? String(e)}`,
              ),
            ])).finally(() => hard.signal.removeEventListener("abort", onHard));
        })
      ),
    );
    if (signal.aborted) throw signal.reason;
    const checks = parts.flat().map((l) => withFix(l, plan));
    const summary = summarize(checks);
    return {
      schema_version: SCHEMA_VERSION,
      ok: summary.failed === 0,
      started_at: startedAt.toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      timeout_ms: plan.timeoutMs,
      summary,
      checks,
    };
  } finally {
    hard.dispose();
  }
}
