/**
 * Whether a container is healthy *after* a restart, from `docker inspect`.
 *
 * A status read from Docker right after `docker compose restart` can still
 * describe the previous run: the daemon keeps the health-check log across
 * restarts, and a poll can race the restart itself. So a container counts
 * only when
 *
 * 1. its `State.StartedAt` differs from (and is not earlier than) the one
 *    recorded *before* the restart was issued; both come from the daemon's
 *    clock, so a host whose clock differs from the Docker VM's (Docker
 *    Desktop) cannot fool the comparison; and
 * 2. with a health check: `Health.Status` is `healthy` *and* the newest
 *    health-check run started at or after that new `StartedAt`; without one:
 *    it is running.
 *
 * A container that exited after the restart and has no restart policy will
 * never come back: that ends the wait at once.
 */
import type { ContainerState, HealthProbe } from "./parse_inspect.ts";

/** Where a container stands after the restart. */
export type RestartPhase =
  /** Still the run from before the restart (or the restart is in progress). */
  | "restarting"
  /** Restarted; health check not passed yet. */
  | "starting"
  /** Restarted; the health check fails (Docker may still recover it). */
  | "unhealthy"
  /** Restarted and healthy (or running, without a health check). */
  | "healthy"
  /** Restarted, then exited; its restart policy may start it again. */
  | "exited"
  /** Restarted, then exited with no restart policy: it will not come back. */
  | "failed";

/** The judgement of one container. */
export interface RestartVerdict {
  readonly phase: RestartPhase;
  /** One line for the progress display and the final message. */
  readonly detail: string;
  /** The newest health-check run of this start, if any. */
  readonly lastProbe?: HealthProbe;
  /** True when the container has started again since the restart. */
  readonly fresh: boolean;
}

/** True when `now` is a start after the `before` start (daemon clock strings). */
function isNewStart(
  before: string | undefined,
  state: ContainerState,
): boolean {
  if (state.startedMs <= 0) return false;
  if (before === undefined) return true;
  if (state.startedAt === before) return false;
  const prev = Date.parse(before);
  return Number.isNaN(prev) || state.startedMs >= prev;
}

function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  return line.length > 200 ? line.slice(0, 197) + "..." : line;
}

/** Judges one container against the `StartedAt` it had before the restart. */
export function judgeRestart(
  state: ContainerState,
  startedBefore: string | undefined,
): RestartVerdict {
  const fresh = isNewStart(startedBefore, state);
  if (!fresh) {
    return {
      phase: "restarting",
      fresh,
      detail: `${state.status || "unknown"}, not restarted yet`,
    };
  }
  if (state.status === "exited" || state.status === "dead") {
    const policy = state.restartPolicy || "no";
    return policy === "no"
      ? {
        phase: "failed",
        fresh,
        detail:
          `${state.status} with code ${state.exitCode} after the restart, and its restart policy is "no"`,
      }
      : {
        phase: "exited",
        fresh,
        detail:
          `${state.status} with code ${state.exitCode}; restart policy "${policy}" may start it again`,
      };
  }
  if (state.status !== "running") {
    return { phase: "restarting", fresh, detail: state.status || "unknown" };
  }
  if (state.health === null) {
    return { phase: "healthy", fresh, detail: "running (no health check)" };
  }
  // Probes of this run only: the log keeps the last runs of earlier starts.
  const probes = state.health.log.filter((p) => p.startMs >= state.startedMs);
  const lastProbe = probes.at(-1);
  if (lastProbe === undefined) {
    return {
      phase: "starting",
      fresh,
      detail: "running, health check not run yet",
    };
  }
  if (state.health.status === "healthy" && lastProbe.exitCode === 0) {
    return { phase: "healthy", fresh, detail: "healthy", lastProbe };
  }
  const out = firstLine(lastProbe.output);
  const why = `health check exited ${lastProbe.exitCode}${
    out ? `: ${out}` : ""
  }`;
  if (state.health.status === "unhealthy") {
    return {
      phase: "unhealthy",
      fresh,
      detail: `unhealthy, ${why}`,
      lastProbe,
    };
  }
  return {
    phase: "starting",
    fresh,
    detail: lastProbe.exitCode === 0 ? "starting" : `starting, ${why}`,
    lastProbe,
  };
}
