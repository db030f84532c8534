/**
 * `deno task demo` end to end: the real demo (PGlite over pglite-socket,
 * preflight run, the Deno migration and app, preflight probe), checked by
 * its output, its exit code and what it leaves running.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

/** The startup markers a newcomer should see, in this order. */
const MARKERS = [
  "[demo] Started preflight run (pid ",
  "[entrypoint] Waiting for Postgres at 127.0.0.1:",
  "[demo] PostgreSQL (PGlite) is now accepting connections",
  "[entrypoint] ✓ DB connectivity check complete.",
  "[entrypoint] Running database migrations...",
  "[entrypoint] Deno attempt 1/",
  "[migrate] Table demo_items is current",
  "[entrypoint] ✓ Migrations applied successfully.",
  "[entrypoint] Startup: wait ",
  "[entrypoint] Starting Deno application...",
  "[app] Listening on http://127.0.0.1:",
  '{"target":"http://127.0.0.1:',
  "[demo] probe exit code 0",
  '"status":"ok","wait":"ready","migrations":"applied","demo_items":1',
  "[demo] Cleaned up",
];

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function portOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("deno task demo shows the startup sequence in order, exits 0 and leaves nothing running", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Liveness only: the demo normally takes well under a minute.
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 90_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const context = `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  assert(!killed, `demo still running after 90s${context}`);
  assert.equal(out.code, 0, `demo exit code${context}`);

  let at = 0;
  for (const marker of MARKERS) {
    const found = stdout.indexOf(marker, at);
    assert(found >= 0, `missing or out of order: '${marker}'${context}`);
    at = found + marker.length;
  }

  const summary = stdout.match(
    /\[entrypoint\] Startup: wait \d+\.\d\ds, migrate \d+\.\d\ds \(1 attempt\), handover at \d+\.\d\ds/,
  );
  assert(summary, `summary line${context}`);

  const probeLine = stdout.split("\n").find((l) => l.startsWith('{"target":'));
  const probe = JSON.parse(probeLine!);
  assert.equal(probe.ok, true, `probe result${context}`);

  // The password given to preflight never shows.
  assert(!stdout.includes("demo-password"), `password leaked${context}`);

  // Nothing left behind: the preflight/app process (exec keeps the PID),
  // the database port and the app port are all gone.
  const pid = Number(stdout.match(/Started preflight run \(pid (\d+)\)/)![1]);
  const ports = stdout.match(
    /listen on 127\.0\.0\.1:(\d+) in \d+s; the app on http:\/\/127\.0\.0\.1:(\d+)\/health/,
  );
  assert(ports, `ports line${context}`);
  if (Deno.build.os === "linux") {
    assert(!pidAlive(pid), `preflight/app pid ${pid} still running`);
  }
  assert(!(await portOpen(Number(ports[1]))), "database port still open");
  assert(!(await portOpen(Number(ports[2]))), "app port still open");
});
