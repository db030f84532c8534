/**
 * The wait of `restart`: poll `docker compose ps` and `docker inspect` until
 * every container of the service is healthy after the restart (see
 * judge_restart.ts for what counts), one of them cannot come back, or the
 * deadline passes. Docker hiccups while polling are remembered, not fatal.
 */
import { type Clock, realClock } from "../time/clock.ts";
import { timedOut } from "../time/timeout_signal.ts";
import {
  type ComposeOptions,
  inspectContainers,
  listContainers,
} from "./compose_cli.ts";
import type { ContainerState } from "./parse_inspect.ts";
import { judgeRestart, type RestartVerdict } from "./judge_restart.ts";

/** One container's state at a poll. */
export interface ContainerProgress {
  readonly name: string;
  readonly state: ContainerState;
  readonly verdict: RestartVerdict;
}

/** How the wait ended. */
export interface WaitHealthyResult {
  readonly outcome: "healthy" | "failed" | "timeout";
  readonly containers: readonly ContainerProgress[];
  /** The last error of a poll, when the last poll failed. */
  readonly pollError?: string;
  readonly polls: number;
}

/** What the wait needs. */
export interface WaitHealthyOptions {
  readonly compose: ComposeOptions;
  readonly service: string;
  /** `State.StartedAt` of each container (by ID) before the restart. */
  readonly startedBefore: ReadonlyMap<string, string>;
  /** Aborts when the health wait runs out (a timer) or on a stop signal. */
  readonly signal: AbortSignal;
  /** Called after every poll. */
  readonly onPoll?: (
    containers: readonly ContainerProgress[],
    error?: string,
  ) => void;
  /** Time limit of one docker call. */
  readonly callTimeoutMs?: number;
  /** The time between polls (default real). */
  readonly clock?: Clock;
}

/** Delay before poll n (0-based): quick at first, then once a second. */
function pollDelay(n: number): number {
  return n === 0 ? 0 : n < 3 ? 250 : n < 6 ? 500 : 1000;
}

/** Polls until healthy, failed or the signal aborts (timeout); rethrows any other abort. */
export async function waitHealthy(
  opts: WaitHealthyOptions,
): Promise<WaitHealthyResult> {
  let containers: ContainerProgress[] = [];
  let pollError: string | undefined;
  const callTimeout = opts.callTimeoutMs ?? 10_000;
  const clock = opts.clock ?? realClock;
  for (let n = 0;; n++) {
    try {
      await clock.delay(pollDelay(n), opts.signal);
      const listed = await listContainers(
        opts.compose,
        opts.service,
        callTimeout,
        opts.signal,
      );
      const states = await inspectContainers(
        opts.compose,
        listed.map((c) => c.id || c.name),
        callTimeout,
        opts.signal,
      );
      containers = states.map((state) => ({
        name: state.name,
        state,
        verdict: judgeRestart(state, opts.startedBefore.get(state.id)),
      }));
      pollError = undefined;
    } catch (e) {
      if (opts.signal.aborted) {
        if (timedOut(opts.signal)) {
          return { outcome: "timeout", containers, pollError, polls: n };
        }
        throw opts.signal.reason;
      }
      pollError = (e as Error).message;
    }
    opts.onPoll?.(containers, pollError);
    if (pollError === undefined && containers.length > 0) {
      if (containers.some((c) => c.verdict.phase === "failed")) {
        return { outcome: "failed", containers, polls: n + 1 };
      }
      if (containers.every((c) => c.verdict.phase === "healthy")) {
        return { outcome: "healthy", containers, polls: n + 1 };
      }
    }
  }
}
