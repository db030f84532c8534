import assert from "node:assert/strict";
import { judgeRestart } from "./judge_restart.ts";
import type { ContainerState, HealthProbe } from "./parse_inspect.ts";

const BEFORE = "2024-05-22T14:00:00.100000001Z";
const AFTER = "2024-05-22T14:35:51.270337315Z";

function probe(start: string, exitCode: number, output = ""): HealthProbe {
  return { start, startMs: Date.parse(start), exitCode, output };
}

function state(over: Partial<ContainerState>): ContainerState {
  const startedAt = over.startedAt ?? AFTER;
  return {
    id: "c1",
    name: "stack-backend-1",
    status: "running",
    startedAt,
    startedMs: Date.parse(startedAt),
    exitCode: 0,
    restartPolicy: "unless-stopped",
    health: null,
    ...over,
  };
}

const OLD_PROBE = probe("2024-05-22T14:00:30Z", 0, "ok");

Deno.test("judgeRestart does not count a healthy status that still carries the start time from before the restart", () => {
  const v = judgeRestart(
    state({
      startedAt: BEFORE,
      health: { status: "healthy", failingStreak: 0, log: [OLD_PROBE] },
    }),
    BEFORE,
  );
  assert.deepEqual(v.phase, "restarting");
  assert.deepEqual(v.fresh, false);
});

Deno.test("judgeRestart does not count a healthy status whose health-check runs are all from before the new start", () => {
  const v = judgeRestart(
    state({
      health: { status: "healthy", failingStreak: 0, log: [OLD_PROBE] },
    }),
    BEFORE,
  );
  assert.deepEqual(v.phase, "starting");
  assert.deepEqual(v.fresh, true);
});

Deno.test("judgeRestart counts healthy once a health check of the new start passed", () => {
  const v = judgeRestart(
    state({
      health: {
        status: "healthy",
        failingStreak: 0,
        log: [OLD_PROBE, probe("2024-05-22T14:35:53.5-00:00", 0)],
      },
    }),
    BEFORE,
  );
  assert.deepEqual(v.phase, "healthy");
});

Deno.test("judgeRestart reports a failing health check of the new start with its output", () => {
  const v = judgeRestart(
    state({
      health: {
        status: "unhealthy",
        failingStreak: 3,
        log: [probe("2024-05-22T14:36:30Z", 1, "connection refused\nmore")],
      },
    }),
    BEFORE,
  );
  assert.deepEqual(v.phase, "unhealthy");
  assert.deepEqual(
    v.detail,
    "unhealthy, health check exited 1: connection refused",
  );
});

Deno.test("judgeRestart counts a running container without a health check once it restarted", () => {
  assert.deepEqual(judgeRestart(state({}), BEFORE).phase, "healthy");
  assert.deepEqual(
    judgeRestart(state({ startedAt: BEFORE }), BEFORE).phase,
    "restarting",
  );
});

Deno.test("judgeRestart gives up on a container that exited after the restart without a restart policy", () => {
  assert.deepEqual(
    judgeRestart(
      state({ status: "exited", exitCode: 3, restartPolicy: "no" }),
      BEFORE,
    ).phase,
    "failed",
  );
  assert.deepEqual(
    judgeRestart(
      state({ status: "exited", exitCode: 3, restartPolicy: "" }),
      BEFORE,
    ).phase,
    "failed",
  );
  assert.deepEqual(
    judgeRestart(
      state({ status: "exited", exitCode: 3, restartPolicy: "always" }),
      BEFORE,
    )
      .phase,
    "exited",
  );
});

Deno.test("judgeRestart compares start times of the daemon's clock, not the host's", () => {
  // A start time earlier than the host's clock (a Docker VM behind by
  // minutes) is still a new start when it differs from the one before.
  const v = judgeRestart(state({ startedAt: "2024-05-22T14:05:00Z" }), BEFORE);
  assert.deepEqual(v.phase, "healthy");
  // An earlier start than the one before is not.
  const w = judgeRestart(state({ startedAt: "2024-05-22T13:00:00Z" }), BEFORE);
  assert.deepEqual(w.phase, "restarting");
});
