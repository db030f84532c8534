import assert from "node:assert/strict";
import { parseInspect } from "./parse_inspect.ts";

// Trimmed from a real `docker inspect` of a container with a health check.
const INSPECT = `[
  {
    "Id": "625242191a1f29858266bd4d81a557907741b6fc9bba124657e3f2cd44e3e431",
    "Created": "2024-05-21T20:00:40.840789846Z",
    "Name": "/stack-backend-1",
    "State": {
      "Status": "running", "Running": true, "ExitCode": 0,
      "StartedAt": "2024-05-22T14:35:51.270337315Z",
      "FinishedAt": "2024-05-22T14:35:50.03386656Z",
      "Health": {
        "Status": "starting", "FailingStreak": 1,
        "Log": [
          { "Start": "2024-05-22T10:36:01.991890648-04:00", "End": "2024-05-22T10:36:02.03218905-04:00",
            "ExitCode": 1, "Output": "unhealthy: connection refused\\n" }
        ]
      }
    },
    "HostConfig": { "RestartPolicy": { "Name": "unless-stopped", "MaximumRetryCount": 0 } }
  },
  { "Id": "b2", "Name": "/stack-beat-1", "State": { "Status": "running", "StartedAt": "2024-05-22T14:00:00Z" },
    "HostConfig": { "RestartPolicy": { "Name": "no" } } }
]`;

Deno.test("parseInspect reads the start time, health status and health-check log", () => {
  const [a, b] = parseInspect(INSPECT);
  assert.deepEqual(a.name, "stack-backend-1");
  assert.deepEqual(a.status, "running");
  assert.deepEqual(a.startedMs, Date.UTC(2024, 4, 22, 14, 35, 51, 270));
  assert.deepEqual(a.restartPolicy, "unless-stopped");
  assert.deepEqual(a.health?.status, "starting");
  assert.deepEqual(a.health?.log.length, 1);
  // The probe's time zone offset is honoured: 10:36 -04:00 is 14:36 UTC.
  assert.deepEqual(
    a.health?.log[0].startMs,
    Date.UTC(2024, 4, 22, 14, 36, 1, 991),
  );
  assert.deepEqual(a.health?.log[0].output, "unhealthy: connection refused\n");
  assert.deepEqual(b.health, null, "no health check");
  assert.deepEqual(b.restartPolicy, "no");
});

Deno.test("parseInspect rejects output that is not a JSON array", () => {
  for (const bad of ["{}", "Error: No such container: x"]) {
    assert.throws(() => parseInspect(bad), Error, `accepted ${bad}`);
  }
});
