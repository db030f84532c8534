/**
 * One line of the `doctor` report, and the report itself. The JSON document
 * printed by `doctor --json` is this structure as is; its schema is
 * docs/doctor-schema.json (schema_version 1). Additions keep the version;
 * a removed or renamed field or a changed meaning bumps it.
 *
 * ```json
 * {
 *   "schema_version": 1,
 *   "ok": false,
 *   "started_at": "2025-01-01T12:00:00.000Z",
 *   "duration_ms": 41,
 *   "timeout_ms": 5000,
 *   "summary": { "passed": 8, "failed": 1, "skipped": 1 },
 *   "checks": [
 *     { "component": "postgres", "check": "migration", "subject": null,
 *       "status": "pass", "target": "postgres://app:***@localhost:5432/app",
 *       "latency_ms": null, "value": "0002", "message": "0002 (alembic_version)",
 *       "data": { "table": "alembic_version", "revisions": ["0002"] } }
 *   ]
 * }
 * ```
 *
 * The lines, always in this order (a component that is not configured or
 * cannot be reached still has all its lines, as "skip"; there is one target
 * line per target of `--wait-for`, none without):
 *
 * | component | check | subject | value |
 * |---|---|---|---|
 * | postgres | reachable | null | null |
 * | postgres | login | null | null |
 * | postgres | version | null | server_version, e.g. "15.8" |
 * | postgres | migration | null | revision(s) joined by ",", or "none" |
 * | redis | reachable | null | null |
 * | redis | ping | null | "PONG" |
 * | redis | version | null | redis_version, e.g. "7.0.15" |
 * | redis | queue | queue name | pending tasks (number) |
 * | app | health | null | HTTP status (number) |
 * | target | ready | the target's kind and place ("MySQL at db:3306") | what its server says, e.g. the version |
 * | compose | cli | null | Compose version |
 * | compose | service | service (or container) name | "running (healthy)"... |
 */

/** Outcome of one line: "skip" never fails the report. */
export type LineStatus = "pass" | "fail" | "skip";

/** The parts of the stack `doctor` looks at. */
export type Component = "postgres" | "redis" | "app" | "target" | "compose";

/** One line of the report. Field names are the JSON document's. */
export interface CheckLine {
  readonly component: Component;
  readonly check: string;
  /** Queue or service name for lines that repeat; null otherwise. */
  readonly subject: string | null;
  readonly status: LineStatus;
  /** What was checked, credentials masked; null when not applicable. */
  readonly target: string | null;
  /** Round-trip time of the check, in whole milliseconds; null when not measured. */
  readonly latency_ms: number | null;
  /** The line's main value (see the table above); null when unknown. */
  readonly value: string | number | null;
  /** One line: the detail when passed, the reason when failed or skipped. */
  readonly message: string;
  /** Extra, line-specific facts (health body, container state...). */
  readonly data?: Readonly<Record<string, unknown>>;
  /**
   * A failed line: what to change, with where each value came from
   * ("change DB_PORT=6543 (./.env)"), secrets masked.
   */
  readonly fix?: string;
}

/** Counts of lines by status. */
export interface ReportSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** The whole report, as `doctor --json` prints it. */
export interface DoctorReport {
  readonly schema_version: 1;
  /** True when no line failed. */
  readonly ok: boolean;
  readonly started_at: string;
  readonly duration_ms: number;
  /** The per-check timeout used. */
  readonly timeout_ms: number;
  readonly summary: ReportSummary;
  readonly checks: readonly CheckLine[];
}

/** The version of the JSON document's schema. */
export const SCHEMA_VERSION = 1;

/** A line, with defaults for the optional parts. */
export function line(
  component: Component,
  check: string,
  status: LineStatus,
  message: string,
  extra: Partial<
    Pick<CheckLine, "subject" | "target" | "latency_ms" | "value" | "data">
  > = {},
): CheckLine {
  return {
    component,
    check,
    subject: extra.subject ?? null,
    status,
    target: extra.target ?? null,
    latency_ms: extra.latency_ms ?? null,
    value: extra.value ?? null,
    message: oneLine(message),
    ...(extra.data !== undefined ? { data: extra.data } : {}),
  };
}

/** Collapses whitespace and newlines, and caps the length (a report line is one line). */
function oneLine(text: string, max = 300): string {
  const s = text.replace(/\s+/g, " ").trim();
  return s.length > max ? s.slice(0, max - 3) + "..." : s;
}

/** Milliseconds since `t0` (performance.now()), rounded. */
export function since(t0: number): number {
  return Math.round(performance.now() - t0);
}

/** Counts lines by status. */
export function summarize(lines: readonly CheckLine[]): ReportSummary {
  return {
    passed: lines.filter((l) => l.status === "pass").length,
    failed: lines.filter((l) => l.status === "fail").length,
    skipped: lines.filter((l) => l.status === "skip").length,
  };
}
