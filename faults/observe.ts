/**
 * Turning a finished preflight process into a row's observation: the
 * checks every row shares (not killed by the harness, no secret printed),
 * per-target outcome lines of the wait step, and the output excerpt.
 */
import { check, type Observation, type RowCheck, tail } from "./fault_row.ts";
import type { PreflightProcess, ProcessExit } from "./preflight_process.ts";
import { leaksSecret, mask } from "./secrets.ts";

/** How one target's wait ended, read from preflight's outcome lines. */
export type TargetState = "ready" | "timeout" | "failed" | "gave up" | "none";

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The state the wait step logged for `url` (matched by its redacted id). */
export function targetState(stderr: string, url: string): TargetState {
  const id = escape(mask(url));
  if (new RegExp(`✓ ${id} is ready`).test(stderr)) return "ready";
  if (new RegExp(`✗ ${id} not ready after`).test(stderr)) return "timeout";
  if (new RegExp(`✗ ${id}: gave up`).test(stderr)) return "gave up";
  if (new RegExp(`✗ ${id}: `).test(stderr)) return "failed";
  return "none";
}

/** The outcome line the wait step logged for `url`, or "". */
export function targetLine(stderr: string, url: string): string {
  const id = mask(url);
  return stderr.split("\n").find((
    l,
  ) => (l.includes(`✓ ${id} is ready`) || l.includes(`✗ ${id} `) ||
    l.includes(`✗ ${id}: `))
  )?.trim() ?? "";
}

/** Options of {@linkcode observe}. */
export interface ObserveOptions {
  readonly checks: readonly RowCheck[];
  readonly keyLine: string;
  readonly notes?: readonly string[];
  /** Overrides the duration (default spawn to exit). */
  readonly ms?: number;
  readonly msLabel?: string;
  /** Extra text before the output excerpt. */
  readonly extraLog?: string;
  readonly tailLines?: number;
  /** The harness ends the process on purpose (e.g. an app that ignores a signal). */
  readonly harnessKills?: boolean;
}

/** The observation of one finished process, with the shared checks added. */
export function observe(
  p: PreflightProcess,
  exit: ProcessExit,
  o: ObserveOptions,
): Observation {
  const out = p.stdout.trim();
  const log = [
    o.extraLog,
    `stderr:\n${tail(p.stderr, o.tailLines)}`,
    out ? `stdout:\n${tail(out, 6)}` : undefined,
  ].filter(Boolean).join("\n");
  return {
    command: p.command,
    code: exit.code,
    ms: o.ms ?? exit.ms,
    msLabel: o.msLabel ?? "spawn to exit",
    keyLine: o.keyLine,
    checks: [
      ...o.checks,
      ...(o.harnessKills ? [] : [
        check(
          "ended by itself (not killed by the harness)",
          !exit.killedByHarness,
        ),
      ]),
      check("no password in any output", !leaksSecret(p.rawOutput())),
    ],
    notes: o.notes,
    log,
  };
}
