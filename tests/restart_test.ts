/**
 * `preflight restart` end to end, with tests/fixtures/docker-standin/docker
 * first on PATH. That script STANDS IN FOR THE REAL `docker` CLI (no Docker
 * engine runs here, and the installed docker has no compose plugin): it
 * answers `compose version`, `compose ps --format json`, `compose restart`,
 * `compose logs --since --tail` and `inspect` in the real formats, and plays
 * a scenario: a stale "healthy" from before the restart, a service that
 * becomes healthy after a few polls, one that never does, one that exits.
 */
import assert from "node:assert/strict";
import { runPreflight } from "./_cli.ts";
import { closedPort } from "./_servers.ts";

const STANDIN_DIR =
  new URL("./fixtures/docker-standin/", import.meta.url).pathname;
const SYSTEM_PATH = "/usr/bin:/bin";
/** The container ID of the stand-in's backend. */
const ID = "4f2a9c0e1b7d4f2a9c0e1b7d4f2a9c0e1b7d4f2a9c0e1b7d4f2a9c0e1b7d4f2a";

interface Standin extends AsyncDisposable {
  readonly dir: string;
  /** The argv of every docker call so far, one per line. */
  calls(): Promise<string[]>;
  /** Inspect polls since the restart. */
  polls(): Promise<number>;
  /** The container's StartedAt after the restart. */
  newStart(): Promise<string>;
  /** Environment for preflight: the stand-in first on PATH, nothing listening for the doctor summary. */
  env(path?: string): Record<string, string>;
}

async function standin(scenario: string): Promise<Standin> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-docker-standin-" });
  await Deno.writeTextFile(`${dir}/scenario`, scenario);
  const read = (f: string) => Deno.readTextFile(`${dir}/${f}`).catch(() => "");
  return {
    dir,
    calls: async () => (await read("calls.log")).split("\n").filter(Boolean),
    polls: async () => Number(await read("polls") || "0"),
    newStart: () => read("new_start"),
    env: (path = `${STANDIN_DIR}:${SYSTEM_PATH}`) => ({
      PATH: path,
      DOCKER_STANDIN_STATE: dir,
      DB_HOST: "127.0.0.1",
      DB_PORT: String(closedPort()),
      PORT: String(closedPort()),
    }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("restart waits past a stale healthy status until the service is healthy after this restart, then shows its new log lines and the doctor summary", async () => {
  // 2 polls still show the old start as healthy, 2 more a new start with a
  // health status whose checks all ran before it; 3 polls later a health
  // check of the new start passes.
  await using docker = await standin(
    "STALE_POLLS=2\nSTALE_HEALTH_POLLS=2\nHEALTHY_AFTER=3\n",
  );
  const project = await Deno.makeTempDir();
  try {
    const r = await runPreflight([
      "restart",
      "-f",
      `${project}/compose.yml`,
      "--project-directory",
      project,
      "--tail-lines",
      "5",
    ], docker.env());
    assert.deepEqual(r.code, 0, `exit code\n${r.stdout}\n${r.stderr}`);
    const polls = await docker.polls();
    assert(
      polls >= 7,
      `accepted a status from before the restart after ${polls} polls`,
    );
    assert(r.stderr.includes("backend is healthy after the restart"), r.stderr);
    // A host command: plain lines, not the container's [entrypoint] marker.
    assert(r.stderr.startsWith("Restarting backend...\n"), r.stderr);
    assert(!r.stderr.includes("[entrypoint]"), r.stderr);
    // Periodic progress (not a terminal): one line per state change.
    assert(r.stderr.includes("backend: running, not restarted yet"), r.stderr);
    assert(/backend: starting, health check exited 1/.test(r.stderr), r.stderr);

    const calls = await docker.calls();
    const prefix =
      `compose -f ${project}/compose.yml --project-directory ${project}`;
    assert(calls.includes(`${prefix} restart backend`), calls.join("\n"));
    const since = await docker.newStart();
    assert(
      calls.includes(
        `${prefix} logs --no-color --since ${since} --tail 5 backend`,
      ),
      `logs not asked since the new start ${since}:\n${calls.join("\n")}`,
    );
    // Only the lines of the new run.
    assert(r.stdout.includes("Application startup complete."), r.stdout);
    assert(!r.stdout.includes("before the restart"), r.stdout);
    assert(/── Doctor ──/.test(r.stdout), r.stdout);
    assert(
      /✓\s+Compose\s+service backend\s+running \(healthy\)/.test(r.stdout),
      r.stdout,
    );
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

Deno.test("restart falls back to docker-compose (Compose v1) where docker has no compose plugin", async () => {
  await using docker = await standin("COMPOSE=v1\nHEALTHY_AFTER=2\n");
  const r = await runPreflight(["restart", "--tail-lines", "5"], docker.env());
  assert.deepEqual(r.code, 0, `exit code\n${r.stdout}\n${r.stderr}`);
  assert(r.stderr.includes("backend is healthy after the restart"), r.stderr);
  const calls = await docker.calls();
  assert(calls.includes("docker-compose restart backend"), calls.join("\n"));
  assert(
    calls.some((c) => c.startsWith("docker-compose ps --all -q backend")),
    calls.join("\n"),
  );
  // v1's logs have no --since: each container's own docker logs.
  const since = await docker.newStart();
  assert(
    calls.includes(`logs --timestamps --since ${since} --tail 5 ${ID}`),
    `logs not asked since the new start ${since}:\n${calls.join("\n")}`,
  );
  assert(
    r.stdout.includes(
      "stack-backend-1  | INFO:     Application startup complete.",
    ),
    r.stdout,
  );
  assert(!r.stdout.includes("before the restart"), r.stdout);
  assert(
    /✓\s+Compose\s+cli\s+.*1\.29\.2 \(docker-compose v1\)/.test(r.stdout),
    r.stdout,
  );
  assert(
    /✓\s+Compose\s+service backend\s+running \(healthy\) · Up \d+ (seconds|minutes|hours) \(healthy\)/
      .test(r.stdout),
    r.stdout,
  );
});

Deno.test("restart gives up after --timeout with the last health-check output (exit 1)", async () => {
  await using docker = await standin("HEALTHY_AFTER=never\n");
  const started = performance.now();
  const r = await runPreflight(
    ["restart", "backend", "--timeout", "3s"],
    docker.env(),
  );
  assert.deepEqual(r.code, 1, `exit code\n${r.stdout}\n${r.stderr}`);
  assert(performance.now() - started < 30_000, "bounded by the timeout");
  assert(
    /✗ backend did not become healthy within 3s: backend: unhealthy, health check exited 1/
      .test(r.stderr),
    r.stderr,
  );
  assert(
    /── Last health check of stack-backend-1: exit 1 at \S+ ──\nunhealthy: http:\/\/127\.0\.0\.1:8000\/health: connection refused/
      .test(r.stdout),
    r.stdout,
  );
  assert(
    r.stdout.includes("── Doctor ──"),
    "doctor summary after a failure too",
  );
});

Deno.test("restart stops waiting at once when the container exited after the restart and nothing will start it again", async () => {
  await using docker = await standin(
    "EXIT_AFTER_RESTART=1\nSTALE_HEALTH_POLLS=0\n",
  );
  const started = performance.now();
  const r = await runPreflight(["restart", "--timeout", "2m"], docker.env());
  assert.deepEqual(r.code, 1, `exit code\n${r.stderr}`);
  assert(
    performance.now() - started < 30_000,
    "did not wait for the 2m timeout",
  );
  assert(
    r.stderr.includes(
      `✗ backend will not come back: backend: exited with code 3 after the restart, and its restart policy is "no"`,
    ),
    r.stderr,
  );
});

Deno.test("restart exits 2 with a clear message when docker compose is not available", async () => {
  await using docker = await standin("COMPOSE=missing\n");
  const r = await runPreflight(["restart"], docker.env());
  assert.deepEqual(r.code, 2, `exit code\n${r.stderr}`);
  assert(
    r.stderr.includes(
      "docker compose is not available: docker: unknown command: docker compose",
    ),
    r.stderr,
  );
  assert(
    !(await docker.calls()).some((c) => c.includes("restart")),
    "nothing restarted",
  );
  const none = await runPreflight(["restart"], docker.env("/nonexistent"));
  assert.deepEqual(none.code, 2, "exit code without any docker");
  assert(
    none.stderr.includes(
      "docker compose is not available: 'docker' was not found on PATH",
    ),
    none.stderr,
  );
});

Deno.test("restart of a service without a container, or of an unknown one, exits 1 without restarting", async () => {
  await using docker = await standin("CONTAINERS=0\n");
  const r = await runPreflight(["restart"], docker.env());
  assert.deepEqual(r.code, 1, `exit code\n${r.stderr}`);
  assert(
    r.stderr.includes(
      "Service 'backend' has no container to restart: start it with 'docker compose up -d backend'",
    ),
    r.stderr,
  );
  const unknown = await runPreflight(["restart", "frontend"], docker.env());
  assert.deepEqual(unknown.code, 1, `exit code\n${unknown.stderr}`);
  assert(
    unknown.stderr.includes("no such service: frontend"),
    unknown.stderr,
  );
  assert(
    !(await docker.calls()).some((c) => / restart /.test(` ${c} `)),
    "nothing restarted",
  );
});

Deno.test("restart --no-logs shows no log lines and does not ask for them", async () => {
  await using docker = await standin("HEALTHY_AFTER=1\n");
  const r = await runPreflight(["restart", "--no-logs"], docker.env());
  assert.deepEqual(r.code, 0, `exit code\n${r.stderr}`);
  assert(!r.stdout.includes("── Log of"), r.stdout);
  assert(
    !(await docker.calls()).some((c) => c.includes(" logs ")),
    "logs asked",
  );
  assert(r.stdout.includes("── Doctor ──"), r.stdout);
});
