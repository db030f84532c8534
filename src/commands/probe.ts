/**
 * `preflight probe`: one attempt per target, all at once, under a hard
 * deadline. Exit 0 healthy, 1 not, whatever went wrong. Silent when healthy;
 * one short line otherwise; `--json` prints one compact object per target.
 * It loads no logging library and only the checks its targets need.
 */
import type { CommandHandler } from "./context.ts";
import { parseTarget } from "../checks/target.ts";
import { createCheck } from "../checks/registry.ts";
import { reasonOf } from "../checks/check.ts";
import { timeoutSignal } from "../wait/timeout_signal.ts";
import { formatDuration } from "../config/duration.ts";
import { scrub } from "../config/redact.ts";
import { writeStderr } from "../log/write_stderr.ts";

/** Longest failure line, in bytes (Docker keeps 4 KiB of probe output). */
const MAX_LINE = 4000;

interface ProbeResult {
  target: string;
  ok: boolean;
  ms: number;
  reason?: string;
}

/** The default target: the app's health endpoint on this host. */
export function defaultProbeTarget(
  env: Readonly<Record<string, string>>,
): string {
  return `http://127.0.0.1:${env.PORT || "8000"}/health`;
}

async function probeOne(
  text: string,
  source: string,
  signal: AbortSignal,
  httpStatus: readonly number[] | undefined,
): Promise<ProbeResult> {
  const started = performance.now();
  let id = text;
  try {
    const target = parseTarget(text, source);
    id = target.id;
    const check = await createCheck(target, { httpStatus });
    await check.check(signal);
    return {
      target: id,
      ok: true,
      ms: Math.round(performance.now() - started),
    };
  } catch (e) {
    return {
      target: id,
      ok: false,
      ms: Math.round(performance.now() - started),
      reason: signal.aborted
        ? "no answer before the probe deadline"
        : reasonOf(e),
    };
  }
}

/** Runs the probe; never throws past the deadline. */
export const probe: CommandHandler = async (ctx) => {
  const { options, env, positionals } = ctx.config;
  const texts = positionals.length > 0
    ? positionals
    : [defaultProbeTarget(env)];
  const deadline = timeoutSignal(options.timeout, ctx.signal);
  // The hard deadline: whatever a check does, the probe answers in time.
  let onDeadline!: () => void;
  const expired = new Promise<"expired">((resolve) => {
    onDeadline = () => resolve("expired");
    deadline.signal.addEventListener("abort", onDeadline, { once: true });
  });
  const pending = texts.map((t, i) =>
    probeOne(
      t,
      positionals.length > 0 ? `target ${i + 1}` : "PORT",
      deadline.signal,
      options.httpStatus,
    )
  );
  const settled = await Promise.race([Promise.all(pending), expired]);
  deadline.signal.removeEventListener("abort", onDeadline);
  deadline.dispose();
  const results: ProbeResult[] = settled === "expired"
    ? texts.map((t) => ({
      target: t,
      ok: false,
      ms: options.timeout,
      reason: `no answer within ${formatDuration(options.timeout)}`,
    }))
    : settled;
  const healthy = results.every((r) => r.ok);
  if (options.json) {
    ctx.stdout(scrub(results.map((r) => JSON.stringify(r)).join("\n")) + "\n");
  } else if (!healthy) {
    let line = results.filter((r) => !r.ok).map((r) =>
      `${r.target}: ${r.reason}`
    )
      .join("; ");
    line = scrub(`unhealthy: ${line}`).replace(/[\r\n]+/g, " ");
    if (line.length > MAX_LINE) line = line.slice(0, MAX_LINE - 3) + "...";
    writeStderr(line + "\n");
  }
  return healthy ? 0 : 1;
};
