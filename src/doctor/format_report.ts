/**
 * The two renderings of a `doctor` report: an aligned text table with ✓ / ✗
 * / – marks (colours only when asked, i.e. on a terminal without NO_COLOR),
 * and the JSON document of docs/doctor-schema.json. Both are scrubbed of
 * secrets as a last line of defence.
 */
import { formatDuration } from "../config/duration.ts";
import { scrub } from "../redact.ts";
import type { CheckLine, DoctorReport, LineStatus } from "./check_line.ts";

/** How the text table is drawn. */
export interface TextOptions {
  /** ANSI colours (terminal only). */
  readonly color?: boolean;
}

const NAMES: Record<CheckLine["component"], string> = {
  postgres: "PostgreSQL",
  redis: "Redis",
  app: "App",
  target: "Target",
  compose: "Compose",
};

const MARKS: Record<LineStatus, string> = { pass: "✓", fail: "✗", skip: "–" };
const COLORS: Record<LineStatus, string> = {
  pass: "\x1b[32m",
  fail: "\x1b[31m",
  skip: "\x1b[33m",
};
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";

/** Display width: the marks and most text are one column per code point. */
function width(s: string): number {
  return [...s].length;
}

function padEnd(s: string, n: number): string {
  return s + " ".repeat(Math.max(0, n - width(s)));
}

function padStart(s: string, n: number): string {
  return " ".repeat(Math.max(0, n - width(s))) + s;
}

/** The message column: failed and skipped lines say why; failed ones what to change. */
function messageOf(l: CheckLine): string {
  if (l.status === "skip") return `skipped: ${l.message}`;
  return l.fix ? `${l.message} → ${l.fix}` : l.message;
}

/** Renders the report as an aligned table, one check per line. */
export function formatText(
  report: DoctorReport,
  opts: TextOptions = {},
): string {
  const paint = (code: string, s: string) =>
    opts.color ? `${code}${s}${RESET}` : s;
  const rows = report.checks.map((l) => ({
    l,
    component: NAMES[l.component],
    check: l.subject !== null ? `${l.check} ${l.subject}` : l.check,
    latency: l.latency_ms !== null ? formatDuration(l.latency_ms) : "",
  }));
  const wComp = Math.max(...rows.map((r) => width(r.component)));
  const wCheck = Math.max(...rows.map((r) => width(r.check)));
  const wLat = Math.max(1, ...rows.map((r) => width(r.latency)));
  const out: string[] = [];
  for (const r of rows) {
    const mark = paint(COLORS[r.l.status], MARKS[r.l.status]);
    const msg = messageOf(r.l);
    out.push(
      [
        mark,
        padEnd(r.component, wComp),
        padEnd(r.check, wCheck),
        paint(DIM, padStart(r.latency, wLat)),
        r.l.status === "fail" ? paint(COLORS.fail, msg) : msg,
      ].join("  ").trimEnd(),
    );
  }
  const s = report.summary;
  const took = formatDuration(report.duration_ms);
  out.push(
    "",
    report.ok
      ? `${
        paint(COLORS.pass, "✓ All checks passed")
      } (${s.passed} passed, ${s.skipped} skipped) in ${took}`
      : `${
        paint(COLORS.fail, `✗ ${s.failed} failed`)
      }, ${s.passed} passed, ${s.skipped} skipped in ${took}`,
  );
  return scrub(out.join("\n")) + "\n";
}

/** Renders the report as the JSON document (pretty-printed, one trailing newline). */
export function formatJson(report: DoctorReport): string {
  return scrub(JSON.stringify(report, null, 2)) + "\n";
}
