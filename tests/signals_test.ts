/**
 * Stop signals before and after the hand-over, with preflight as PID 1 of
 * its own PID namespace (`unshare --pid --fork --mount-proc`), as in a
 * container: a shell there ignores SIGTERM; preflight must not.
 * Bounds on time here are generous liveness limits (a broken build would
 * take the whole 60 s budget), not speed claims.
 */
import assert from "node:assert/strict";
import { preflightArgv } from "./_cli.ts";
import { startPostgres } from "./_servers.ts";

class Pid1 {
  readonly child: Deno.ChildProcess;
  readonly err: string[] = [];
  readonly done: Promise<Deno.CommandStatus>;
  private reading: Promise<void>;
  /** Called on each chunk of stderr: waitFor's wake-ups. */
  private waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    const child = new Deno.Command("unshare", {
      args: ["--pid", "--fork", "--mount-proc", ...preflightArgv(), ...args],
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        ...env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    const dec = new TextDecoder();
    this.reading = (async () => {
      for await (const c of child.stderr) {
        this.err.push(dec.decode(c, { stream: true }));
        for (const w of this.waiters.splice(0)) w();
      }
    })();
    this.done = this.child.status;
  }

  /**
   * The host PID of the namespace's PID 1 (preflight). Called once preflight
   * has written something, so unshare's child exists; the loop only covers
   * a /proc read racing the fork.
   */
  async pid1(): Promise<number> {
    for (let i = 0; i < 200; i++) {
      try {
        const kids = (await Deno.readTextFile(
          `/proc/${this.child.pid}/task/${this.child.pid}/children`,
        )).trim();
        if (kids) return Number(kids.split(/\s+/)[0]);
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("no PID 1 in the namespace");
  }

  /** Resolves when `text` appears on stderr; rejects if preflight ends first. */
  async waitFor(text: string): Promise<void> {
    while (!this.err.join("").includes(text)) {
      const more = new Promise<boolean>((r) =>
        this.waiters.push(() => r(false))
      );
      const ended = await Promise.race([more, this.reading.then(() => true)]);
      if (ended && !this.err.join("").includes(text)) {
        throw new Error(`'${text}' never appeared in:\n${this.err.join("")}`);
      }
    }
  }

  async kill(sig: Deno.Signal): Promise<{ code: number; ms: number }> {
    const pid = await this.pid1();
    const t0 = performance.now();
    Deno.kill(pid, sig);
    const status = await this.done;
    const ms = performance.now() - t0;
    await this.reading;
    return { code: status.code, ms };
  }
}

for (
  const [sig, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGHUP", 129],
    // A PID 1 without a handler ignores SIGQUIT: preflight must listen.
    ["SIGQUIT", 131],
  ] as const
) {
  Deno.test(`as PID 1, ${sig} during the wait stops preflight promptly with exit ${code}`, async () => {
    const p = new Pid1(["wait", "--timeout", "60s", "tcp://127.0.0.1:1"]);
    await p.waitFor("Waiting for tcp://127.0.0.1:1");
    const r = await p.kill(sig);
    assert.equal(r.code, code, p.err.join(""));
    // Liveness, not speed: the bug is a wait to the 60 s deadline.
    assert.ok(r.ms < 10_000, `took ${Math.round(r.ms)} ms`);
  });
}

Deno.test("as PID 1, SIGTERM during a migration reaches the migration child, releases the lock, and preflight exits 143", async () => {
  const password = "sig-pw-90d1";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
  });
  const tmp = await Deno.makeTempDir();
  try {
    const script = `${tmp}/migrate.sh`;
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\ntrap 'echo got-term > ${tmp}/term; exit 0' TERM\necho migration-started >&2\nwhile :; do sleep 0.05; done\n`,
    );
    await Deno.chmod(script, 0o755);
    const p = new Pid1(["run", "--", "true"], {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: "app",
      MIGRATE_CMD: script,
    });
    // Said by the script once its TERM trap is set.
    await p.waitFor("migration-started");
    // The lock is held while the migration runs.
    assert.equal(
      (await pg.psql(
        "select count(*) from pg_locks where locktype = 'advisory'",
        "app",
      )).trim(),
      "1",
    );
    const r = await p.kill("SIGTERM");
    assert.equal(r.code, 143, p.err.join(""));
    assert.equal((await Deno.readTextFile(`${tmp}/term`)).trim(), "got-term");
    let locks = "";
    for (let i = 0; i < 100; i++) {
      locks = (await pg.psql(
        "select count(*) from pg_locks where locktype = 'advisory'",
        "app",
      )).trim();
      if (locks === "0") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(locks, "0", "the advisory lock outlived preflight");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("as PID 1, a migration child that ignores SIGTERM is killed after --stop-timeout and preflight exits 143", async () => {
  const p = new Pid1([
    "run",
    "--no-wait",
    "--stop-timeout",
    "300ms",
    "--",
    "true",
  ], {
    MIGRATE_CMD:
      `/bin/sh -c 'trap "" TERM; echo ignoring-term >&2; while :; do sleep 0.05; done'`,
  });
  // Said once SIGTERM is ignored: the signal cannot arrive before.
  await p.waitFor("ignoring-term");
  const r = await p.kill("SIGTERM");
  assert.equal(r.code, 143, p.err.join(""));
  assert.ok(
    r.ms >= 250,
    `stopped after ${Math.round(r.ms)} ms, before the stop timeout`,
  );
  assert.ok(r.ms < 10_000, `took ${Math.round(r.ms)} ms`);
});

Deno.test("as PID 1 in supervise mode, SIGTERM is forwarded to the app and preflight exits with 143 when it dies of it", async () => {
  const p = new Pid1([
    "run",
    "--no-wait",
    "--no-migrate",
    "--supervise",
    "--",
    "/bin/sh",
    "-c",
    "echo app-started >&2; exec sleep 60",
  ]);
  // The app itself says it runs: the signal then goes through forwarding.
  await p.waitFor("app-started");
  const r = await p.kill("SIGTERM");
  assert.equal(r.code, 143, p.err.join(""));
  assert.ok(r.ms < 10_000, `took ${Math.round(r.ms)} ms`);
});

Deno.test("the watchdog stops an app whose health URL starts failing, and preflight exits 1", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const app = `${tmp}/app.py`;
    // Healthy for its first 3 requests, then 503; records that it was stopped.
    await Deno.writeTextFile(
      app,
      `import http.server, signal, sys
port = int(sys.argv[1]); n = [0]
def stop(*_):
    open(sys.argv[2], "w").write("stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n[0] += 1
        self.send_response(200 if n[0] <= 3 else 503); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
`,
    );
    const port = (() => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const p = (l.addr as Deno.NetAddr).port;
      l.close();
      return p;
    })();
    const p = new Pid1([
      "run",
      "--no-wait",
      "--no-migrate",
      "--watchdog",
      `http://127.0.0.1:${port}/health`,
      "--watchdog-interval",
      "300ms",
      "--watchdog-failures",
      "2",
      "--",
      "/usr/bin/python3",
      app,
      String(port),
      `${tmp}/stopped`,
    ]);
    const status = await p.done;
    assert.equal(status.code, 1, p.err.join(""));
    assert.match(
      p.err.join(""),
      /Watchdog: .* failed 2 times in a row; stopping the app/,
    );
    assert.equal(await Deno.readTextFile(`${tmp}/stopped`), "stopped");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
