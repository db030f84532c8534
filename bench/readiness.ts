/**
 * Readiness detection latency: how long after PostgreSQL really accepts
 * connections each waiting tool starts its command, and how often it starts
 * it too early. Two scenarios, each with a fresh cluster per trial:
 * - late start: nothing listens until 1.5-3 s after the waiter started;
 * - standby, then promote: the port is open from the start but every login
 *   gets SQLSTATE 57P03 (`hot_standby = off`) until a promotion 1.5-3 s later.
 * The command is `date +%s.%N`; latency = its wall-clock reading minus the
 * timestamp of the server's "database system is ready to accept
 * connections" line (both CLOCK_REALTIME, the log in milliseconds).
 */
import { freePort, startPostgres } from "../tests/_servers.ts";
import { connectionTimes, readyTimes, tuneLogging } from "./pg_log.ts";
import {
  type Finished,
  parseEpoch,
  preflightRun,
  runCapture,
  sleep,
} from "./proc.ts";
import { maxInWindow, ms, spread, summarize } from "./stats.ts";
import type { Waiter } from "./waiters.ts";

/** The two ways a dependency comes up. */
export type Scenario = "late start" | "standby, then promote";

/** The command every waiter runs when it thinks the database is ready. */
export const STAMP = ["date", "+%s.%N"];

/** One waiter against one fresh cluster. */
export interface Trial {
  readonly waiter: string;
  readonly scenario: Scenario;
  /** Command start minus the ready line, ms (negative: early). */
  readonly latencyMs?: number;
  readonly early?: boolean;
  /** preflight only: its "is ready" log line minus the ready line, ms. */
  readonly detectMs?: number;
  /** preflight only: command start minus its "is ready" log line, ms. */
  readonly handOverMs?: number;
  /** Connections the server logged after the waiter started (only it connects). */
  readonly attempts: number;
  /** Most connections in any 1 s window. */
  readonly maxPerSecond: number;
  /** When the server became ready, ms after the waiter started. */
  readonly readyAfterMs?: number;
  readonly error?: string;
}

function randomDelay(): number {
  return Math.round(1500 + Math.random() * 1500);
}

function evaluate(
  waiter: Waiter,
  scenario: Scenario,
  t0: number,
  out: Finished,
  log: string,
): Trial {
  const start = parseEpoch(out.stdout);
  const ready = readyTimes(log).at(-1);
  // Only the waiter connects to this cluster. The log has whole
  // milliseconds, truncated: allow for it at the start.
  const conns = connectionTimes(log).filter((t) => t >= Math.floor(t0) - 1);
  const base = {
    waiter: waiter.name,
    scenario,
    attempts: conns.length,
    maxPerSecond: maxInWindow(conns),
    readyAfterMs: ready === undefined ? undefined : ready - t0,
  };
  return { ...base, ...timing(waiter, out, start, ready) };
}

/** What one trial measured, or why it measured nothing. */
export type Timing =
  | Pick<Trial, "latencyMs" | "early" | "detectMs" | "handOverMs">
  | { readonly error: string };

/**
 * A waiter's latency from its command's start (`start`, epoch ms) and the
 * server's ready moment (`ready`); preflight's split into detection and
 * hand-over from its own "is ready" line.
 */
export function timing(
  waiter: Waiter,
  out: Finished,
  start: number | undefined,
  ready: number | undefined,
): Timing {
  if (start === undefined || ready === undefined) {
    const why = out.timedOut
      ? "timed out"
      : start === undefined
      ? `no timestamp (exit ${out.code}): ${out.stderr.trim().slice(-300)}`
      : "no ready line in the server log";
    return { error: why };
  }
  // Truncated log milliseconds can only make "early" rarer, never invent it.
  const detected = waiter.detectedAt?.(out.stderr);
  return {
    latencyMs: start - ready,
    early: start < ready,
    detectMs: detected === undefined ? undefined : detected - ready,
    handOverMs: detected === undefined ? undefined : start - detected,
  };
}

/** One trial of the late-start scenario. */
export async function lateStartTrial(waiter: Waiter): Promise<Trial> {
  const delayMs = randomDelay();
  const pg = await startPostgres({ startDelayMs: delayMs });
  try {
    tuneLogging(pg.dataDir, true);
    const port = pg.port;
    const t0 = Date.now();
    const out = await runCapture(waiter.argv(port, STAMP), {
      timeoutMs: delayMs + 20_000,
    });
    await pg.ready;
    if (pg.port !== port) {
      return evaluate(waiter, "late start", t0, {
        ...out,
        stdout: "",
        stderr: "the server had to move to another port",
      }, "");
    }
    return evaluate(waiter, "late start", t0, out, await pg.log());
  } finally {
    await pg.cleanup();
  }
}

/** One trial of the standby-then-promote scenario. */
export async function standbyTrial(waiter: Waiter): Promise<Trial> {
  // A short start delay leaves time to change the logging settings first.
  const pg = await startPostgres({ standby: true, startDelayMs: 50 });
  try {
    tuneLogging(pg.dataDir, true);
    await pg.ready;
    const t0 = Date.now();
    const running = runCapture(waiter.argv(pg.port, STAMP), {
      timeoutMs: 30_000,
    });
    await sleep(randomDelay());
    await pg.promote();
    const out = await running;
    return evaluate(waiter, "standby, then promote", t0, out, await pg.log());
  } finally {
    await pg.cleanup();
  }
}

/** Connection attempts preflight made in 3 s, seen from the client side. */
export interface AttemptRate {
  readonly attempts: number;
  readonly seconds: number;
  readonly maxPerSecond: number;
}

/**
 * Counts preflight's connect() calls to a target that is not ready, for 3 s,
 * with `strace` timestamps taken at the system call (exact, unlike server
 * log lines, which are written after a fork and jitter by a few ms). Either
 * nothing listens (`refused`; no server could count those) or a standby
 * answers 57P03. Run apart from the latency trials: tracing slows the process.
 */
export async function attemptRate(
  phase: "refused" | "57P03",
): Promise<AttemptRate | { error: string }> {
  const pg = phase === "57P03"
    ? await startPostgres({ standby: true })
    : undefined;
  try {
    return await straceRate(pg?.port ?? freePort());
  } finally {
    await pg?.cleanup();
  }
}

async function straceRate(
  port: number,
): Promise<AttemptRate | { error: string }> {
  const file = await Deno.makeTempFile({ prefix: "preflight-bench-strace-" });
  try {
    const out = await runCapture([
      "strace",
      "-f",
      "--seccomp-bpf",
      "-e",
      "trace=connect",
      "-ttt",
      "-o",
      file,
      ...preflightRun(),
      "wait",
      `postgres://127.0.0.1:${port}`,
      "--timeout",
      "3s",
    ], { timeoutMs: 30_000 });
    if (out.code !== 124) {
      return {
        error: `strace run ended with ${out.code}: ${
          out.stderr.trim().slice(-200)
        }`,
      };
    }
    const times: number[] = [];
    for (const line of (await Deno.readTextFile(file)).split("\n")) {
      const m = /^\d+\s+(\d+\.\d+) connect\(.*htons\((\d+)\)/.exec(line);
      if (m && Number(m[2]) === port) times.push(Number(m[1]) * 1000);
    }
    if (times.length === 0) return { error: "no connect() seen by strace" };
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    return {
      attempts: times.length,
      seconds,
      maxPerSecond: maxInWindow(times),
    };
  } catch (e) {
    return { error: `strace not usable: ${(e as Error).message}` };
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/**
 * The latency cells of a waiter's row: median, spread, early starts of the
 * trials that measured, and how many failed.
 */
export function latencyCells(
  trials: readonly Pick<Trial, "latencyMs" | "early" | "error">[],
): string[] {
  const ok = trials.filter((t) => t.error === undefined);
  const lat = summarize(ok.map((t) => t.latencyMs!));
  return [
    ms(lat.median),
    spread(lat),
    `${ok.filter((t) => t.early).length}/${ok.length}`,
    String(trials.length - ok.length),
  ];
}
