/**
 * `preflight probe`: one attempt per target, all at once, under a hard
 * deadline. Exit 0 healthy, 1 not, whatever went wrong. Silent when healthy;
 * one short line otherwise; `--json` prints one compact object per target.
 * It loads no logging library and only the checks its targets need.
 */
import type { CommandHandler } from "./context.ts";
import { ConfigError } from "../errors.ts";
import { createCheck, parseTarget } from "../checks/mod.ts";
// The default target is HTTP: its kind is loaded with this module, not one
// step later.
import "../checks/http.ts";
import { reasonOf } from "../checks/check.ts";
import type { Clock } from "../time/clock.ts";
import { formatDuration } from "../config/duration.ts";
import { redactUrl, scrub } from "../redact.ts";

/** Longest failure line, in bytes (Docker keeps 4 KiB of probe output). */
const MAX_LINE = 4000;

export interface ProbeResult {
  target: string;
  ok: boolean;
  ms: number;
  reason?: string;
}

/** Cuts a line to at most `max` bytes of UTF-8, on a character boundary. */
export function truncateBytes(line: string, max: number): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= max) return line;
  let end = max - 3;
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end)) + "...";
}

/**
 * One result as a compact JSON object (secrets masked) of at most `max`
 * bytes: a long URL or reason is cut, never the object's shape.
 */
export function jsonLine(r: ProbeResult, max: number): string {
  const size = (text: string) => new TextEncoder().encode(text).length;
  let { target, reason } = r;
  for (let budget = max;; budget = Math.floor(budget / 2)) {
    const line = scrub(JSON.stringify({ ...r, target, reason }));
    if (size(line) <= max || budget < 16) return line;
    // Halve the longer field until the escaped, masked object fits.
    if (reason !== undefined && size(reason) >= size(target)) {
      reason = truncateBytes(
        reason,
        Math.floor(Math.min(size(reason), budget) / 2),
      );
    } else {target = truncateBytes(
        target,
        Math.floor(Math.min(size(target), budget) / 2),
      );}
  }
}

/** The default target: the app's health endpoint on this host. */
export function defaultProbeTarget(
  env: Readonly<Record<string, string>>,
): string {
  // Empty means unset, as ${PORT:-8000} reads it.
  const port = env.PORT || "8000";
  if (!/^\d+$/.test(port.trim()) || Number(port) < 1 || Number(port) > 65535) {
    throw new ConfigError(
      `Invalid PORT '${port}': expected a port number 1-65535`,
    );
  }
  return `http://127.0.0.1:${port.trim()}/health`;
}

async function probeOne(
  text: string,
  source: string,
  signal: AbortSignal,
  httpStatus: readonly number[] | undefined,
  clock: Clock,
): Promise<ProbeResult> {
  const started = clock.now();
  let id = redactUrl(text);
  try {
    const target = await parseTarget(text, source);
    id = target.id;
    const check = await createCheck(target, { httpStatus });
    await check.check(signal);
    return {
      target: id,
      ok: true,
      ms: Math.round(clock.now() - started),
    };
  } catch (e) {
    return {
      target: id,
      ok: false,
      ms: Math.round(clock.now() - started),
      reason: signal.aborted
        ? "no answer before the probe deadline"
        : reasonOf(e),
    };
  }
}

/** Runs the probe; never throws past the deadline. */
export const probe: CommandHandler = async (ctx) => {
  const { options, positionals } = ctx.config;
  const { env } = ctx;
  const texts = positionals.length > 0
    ? positionals
    : [defaultProbeTarget(env)];
  // Only the deadline: a stop signal ends a probe at once with 1 (main.ts).
  // It counts from the start of the command: main.ts may have tried the
  // short cut (probe_fast.ts) first.
  const { clock } = ctx;
  const spent = clock.now() - ctx.startedAt;
  const deadline = clock.timeout(Math.max(0, options.timeout - spent));
  // The hard deadline: whatever a check does, the probe answers in time.
  let onDeadline!: () => void;
  const expired = new Promise<"expired">((resolve) => {
    onDeadline = () => resolve("expired");
    deadline.signal.addEventListener("abort", onDeadline, { once: true });
  });
  // Results as they come in: at the deadline, the finished ones keep their
  // own outcome and only the unfinished ones say they did not answer.
  const settled: (ProbeResult | undefined)[] = texts.map(() => undefined);
  const pending = texts.map((t, i) =>
    probeOne(
      t,
      positionals.length > 0 ? `target ${i + 1}` : "PORT",
      deadline.signal,
      options.httpStatus,
      clock,
    ).then((r) => (settled[i] = r))
  );
  await Promise.race([Promise.all(pending), expired]);
  deadline.signal.removeEventListener("abort", onDeadline);
  deadline.dispose();
  const results: ProbeResult[] = texts.map((t, i) =>
    settled[i] ?? {
      target: redactUrl(t),
      ok: false,
      ms: options.timeout,
      reason: `no answer within ${formatDuration(options.timeout)}`,
    }
  );
  const healthy = results.every((r) => r.ok);
  if (options.json) {
    ctx.stdout.write(
      results.map((r) => jsonLine(r, MAX_LINE)).join("\n") + "\n",
    );
  } else if (!healthy) {
    let line = results.filter((r) => !r.ok).map((r) =>
      `${r.target}: ${r.reason}`
    )
      .join("; ");
    line = scrub(`unhealthy: ${line}`).replace(/[\r\n]+/g, " ");
    line = truncateBytes(line, MAX_LINE);
    ctx.stderr.write(line + "\n");
  }
  return healthy ? 0 : 1;
};
