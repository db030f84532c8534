import assert from "node:assert/strict";
import { formatJson, formatText } from "./format_report.ts";
import {
  type CheckLine,
  type DoctorReport,
  line,
  summarize,
} from "./check_line.ts";
import { clearSecrets, registerSecret } from "../redact.ts";

function report(checks: CheckLine[]): DoctorReport {
  const summary = summarize(checks);
  return {
    schema_version: 1,
    ok: summary.failed === 0,
    started_at: "2025-01-01T12:00:00.000Z",
    duration_ms: 42,
    timeout_ms: 5000,
    summary,
    checks,
  };
}

const CHECKS = [
  line("postgres", "reachable", "pass", "127.0.0.1:5432 accepts connections", {
    latency_ms: 3,
  }),
  line("redis", "queue", "pass", "3 pending", { subject: "celery", value: 3 }),
  line("app", "health", "fail", "HTTP 500 · status=error", {
    latency_ms: 1234,
  }),
  line("compose", "cli", "skip", "docker compose is not available: no docker"),
];

Deno.test("formatText aligns the columns and marks passed, failed and skipped lines", () => {
  const text = formatText(report(CHECKS));
  const rows = text.split("\n").slice(0, 4);
  assert(rows[0].startsWith("✓  PostgreSQL  reachable"), rows[0]);
  assert(rows[1].startsWith("✓  Redis       queue celery"), rows[1]);
  assert(rows[2].startsWith("✗  App         health"), rows[2]);
  assert(rows[3].includes("skipped: docker compose is not available"), rows[3]);
  // The message column starts at the same place on every line.
  const starts = rows.map((r, i) => [...r].indexOf([...CHECKS[i].message][0]));
  assert(
    new Set(starts.slice(0, 3)).size === 1,
    `messages not aligned: ${starts}`,
  );
  assert(text.includes("1.23s"), "latency over a second shown in seconds");
  assert(text.includes("✗ 1 failed, 2 passed, 1 skipped in 42ms"), text);
  assert(!text.includes("\x1b["), "no colours unless asked");
});

Deno.test("formatText colours the marks only when asked", () => {
  const text = formatText(report(CHECKS), { color: true });
  assert(text.includes("\x1b[32m✓\x1b[0m"), "green pass");
  assert(text.includes("\x1b[31m✗\x1b[0m"), "red fail");
});

Deno.test("formatText says all checks passed when none failed", () => {
  const text = formatText(report(CHECKS.slice(0, 2)));
  assert(text.includes("✓ All checks passed (2 passed, 0 skipped)"), text);
});

Deno.test("formatText and formatJson mask registered secrets", () => {
  registerSecret("hunter2-secret");
  try {
    const checks = [line("app", "health", "fail", "body says hunter2-secret")];
    assert(!formatText(report(checks)).includes("hunter2"), "text leaks");
    assert(!formatJson(report(checks)).includes("hunter2"), "json leaks");
  } finally {
    clearSecrets();
  }
});
