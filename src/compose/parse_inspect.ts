/**
 * Parsing of `docker inspect` for containers: the start time and health
 * state that `restart` needs to tell a status from after the restart from
 * one left over from before it.
 */

/** One run of a container's health check, from `State.Health.Log`. */
export interface HealthProbe {
  /** When the probe started (daemon clock), as printed and in ms since the epoch. */
  readonly start: string;
  readonly startMs: number;
  readonly exitCode: number;
  /** What the health-check command printed (Docker keeps up to 4 KiB). */
  readonly output: string;
}

/** The parts of a container's `State` that `restart` judges. */
export interface ContainerState {
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  /** `running`, `exited`, `restarting`, `paused`, `created`, `dead`. */
  readonly status: string;
  /** `State.StartedAt` as printed (nanoseconds), and in ms since the epoch. */
  readonly startedAt: string;
  readonly startedMs: number;
  readonly exitCode: number;
  /** `HostConfig.RestartPolicy.Name`: `no` (or empty), `always`, `unless-stopped`, `on-failure`. */
  readonly restartPolicy: string;
  /** Null when the container has no health check. */
  readonly health: {
    readonly status: string;
    readonly failingStreak: number;
    readonly log: readonly HealthProbe[];
  } | null;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown, fallback = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function time(v: string): number {
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Parses the JSON array `docker inspect` prints for containers. */
export function parseInspect(output: string): ContainerState[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.trim() || "[]");
  } catch (e) {
    throw new Error(
      `unexpected output of docker inspect (${(e as Error).message}): ${
        output.trim().slice(0, 120)
      }`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new Error(
      `unexpected output of docker inspect: expected a JSON array, got ${
        output.trim().slice(0, 120)
      }`,
    );
  }
  return parsed.map((item) => {
    const o = obj(item);
    const state = obj(o.State);
    const health = state.Health === undefined || state.Health === null
      ? null
      : obj(state.Health);
    const startedAt = str(state.StartedAt);
    return {
      id: str(o.Id),
      name: str(o.Name).replace(/^\//, ""),
      status: str(state.Status).toLowerCase(),
      startedAt,
      startedMs: time(startedAt),
      exitCode: num(state.ExitCode),
      restartPolicy: str(obj(obj(o.HostConfig).RestartPolicy).Name),
      health: health === null ? null : {
        status: str(health.Status).toLowerCase(),
        failingStreak: num(health.FailingStreak),
        log: (Array.isArray(health.Log) ? health.Log : []).map((p) => {
          const probe = obj(p);
          const start = str(probe.Start);
          return {
            start,
            startMs: time(start),
            exitCode: num(probe.ExitCode, -1),
            output: str(probe.Output),
          };
        }),
      },
    };
  });
}
