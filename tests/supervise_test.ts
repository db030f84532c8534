/**
 * The supervised hand-over against real processes and real signals: in
 * process for exit codes and the watchdog's stop, and through
 * tests/fixtures/supervise_entry.ts (also as PID 1 of a new PID namespace)
 * for signal forwarding and zombie reaping.
 */
import assert from "node:assert/strict";
import { superviseApp } from "../src/handover/supervise_app.ts";
import { SpawnError } from "../src/errors.ts";

const ENTRY = new URL("./fixtures/supervise_entry.ts", import.meta.url)
  .pathname;
const RECORD = new URL("./fixtures/record_signals.py", import.meta.url)
  .pathname;
const DENO = Deno.execPath();
/** New PID namespaces (`unshare --pid`) need root. */
const CAN_UNSHARE = Deno.build.os === "linux" && Deno.uid() === 0;
const PYTHON = "/usr/bin/python3";
const ENV = { PATH: "/usr/bin:/bin" };

/** Polls until `fn` returns a value other than undefined (10 s at most). */
async function until<T>(what: string, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return undefined;
  }
};

/** A process whose output is collected as it comes, for waiting on lines. */
class Proc {
  readonly child: Deno.ChildProcess;
  out = "";
  err = "";
  readonly #done: Promise<unknown>;
  constructor(cmd: string, args: string[], env?: Record<string, string>) {
    this.child = new Deno.Command(cmd, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (
      s: ReadableStream<Uint8Array>,
      to: "out" | "err",
    ) => {
      const dec = new TextDecoder();
      for await (const chunk of s) this[to] += dec.decode(chunk);
    };
    this.#done = Promise.all([
      collect(this.child.stdout, "out"),
      collect(this.child.stderr, "err"),
    ]);
  }
  waitFor(text: string): Promise<true> {
    return until(
      `'${text}' in output:\n${this.out}\n${this.err}`,
      () => this.out.includes(text) || undefined,
    );
  }
  async code(): Promise<number> {
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }
}

/** supervise_entry.ts STOP_MS -- python3 record_signals.py TERM_ACTION */
function supervised(stopMs: number, termAction: string, pid1 = false): Proc {
  const args = [
    "run",
    "-A",
    ENTRY,
    String(stopMs),
    "--",
    PYTHON,
    RECORD,
    termAction,
  ];
  return pid1
    ? new Proc("unshare", ["--pid", "--fork", "--mount-proc", DENO, ...args])
    : new Proc(DENO, args);
}

/** The host PIDs of a process's children, from every thread's list. */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(
      `/proc/${pid}/task/${task.name}/children`,
    );
    for (const p of text.split(" ")) if (p.trim()) pids.push(Number(p));
  }
  return pids;
}

function stateOf(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** The host PID of the PID 1 that `unshare --fork` started. */
function namespaceInit(unshare: Proc): Promise<number> {
  return until("the namespace's PID 1", () => childrenOf(unshare.child.pid)[0]);
}

Deno.test("superviseApp resolves with the app's exit code", async () => {
  const code = await superviseApp(["sh", "-c", "exit 42"], ENV, {
    stopTimeoutMs: 10_000,
  });
  assert.equal(code, 42);
});

Deno.test("superviseApp resolves with 128+N when signal N killed the app", async () => {
  const code = await superviseApp(["sh", "-c", "kill -USR1 $$"], ENV, {
    stopTimeoutMs: 10_000,
  });
  assert.equal(code, 128 + 10);
});

Deno.test("superviseApp gives the app exactly the environment passed", async () => {
  const check = '[ "$A" = "two words" ] && [ -z "${HOME+set}" ]';
  const code = await superviseApp(["sh", "-c", check], {
    ...ENV,
    A: "two words",
  }, { stopTimeoutMs: 10_000 });
  assert.equal(code, 0);
});

Deno.test("superviseApp throws SpawnError 127 for a missing app and 126 for a directory", async () => {
  await assert.rejects(
    superviseApp(["no-such-app-x1"], ENV, { stopTimeoutMs: 1000 }),
    (e) => e instanceof SpawnError && e.code === 127,
  );
  await assert.rejects(
    superviseApp(["/tmp"], ENV, { stopTimeoutMs: 1000 }),
    (e) => e instanceof SpawnError && e.code === 126,
  );
});

Deno.test("aborting stops the app with SIGTERM and resolves with its code", async () => {
  await withDir(async (dir) => {
    const stop = new AbortController();
    const script = `trap 'exit 5' TERM; touch ${dir}/ready; ` +
      "while :; do sleep 0.05; done";
    const run = superviseApp(["sh", "-c", script], ENV, {
      stopTimeoutMs: 30_000,
      signal: stop.signal,
    });
    await until("the app to be ready", () => exists(`${dir}/ready`));
    stop.abort();
    assert.equal(await run, 5);
  });
});

Deno.test("an app that outlives the stop timeout gets one SIGTERM, then SIGKILL: 137", async () => {
  await withDir(async (dir) => {
    const stop = new AbortController();
    const script = `trap 'echo term >> ${dir}/log' TERM; ` +
      `touch ${dir}/ready; while :; do sleep 0.05; done`;
    const run = superviseApp(["sh", "-c", script], ENV, {
      stopTimeoutMs: 500,
      signal: stop.signal,
    });
    await until("the app to be ready", () => exists(`${dir}/ready`));
    stop.abort();
    assert.equal(await run, 137);
    assert.equal(await Deno.readTextFile(`${dir}/log`), "term\n");
  });
});

Deno.test("every listed signal is forwarded to the app, and SIGTERM's exit code is returned", async () => {
  const p = supervised(30_000, "exit:3");
  await p.waitFor("ready");
  for (
    const sig of [
      "SIGHUP",
      "SIGINT",
      "SIGQUIT",
      "SIGUSR1",
      "SIGUSR2",
      "SIGWINCH",
    ] as const
  ) {
    Deno.kill(p.child.pid, sig);
    await p.waitFor(`got ${sig}`);
  }
  Deno.kill(p.child.pid, "SIGTERM");
  assert.equal(await p.code(), 3);
  assert.match(p.out, /got SIGTERM/);
});

Deno.test("a stopped app that ignores SIGTERM is killed after the stop timeout: 137", async () => {
  const p = supervised(500, "ignore");
  await p.waitFor("ready");
  Deno.kill(p.child.pid, "SIGTERM");
  assert.equal(await p.code(), 137);
  assert.match(p.err, /forwarding SIGTERM/);
});

Deno.test(
  "as PID 1, SIGTERM is forwarded and preflight exits 143 when the app dies of it",
  { ignore: !CAN_UNSHARE },
  async () => {
    const p = supervised(30_000, "default", true);
    await p.waitFor("ready");
    const init = await namespaceInit(p);
    Deno.kill(init, "SIGTERM");
    assert.equal(await p.code(), 143);
  },
);

Deno.test(
  "as PID 1, orphans left by the app are reaped while the app's own exit code is still reported",
  { ignore: !CAN_UNSHARE },
  async () => {
    await withDir(async (dir) => {
      // Two orphans: subshells whose parent exits at once, re-parented to
      // PID 1; they wait for go1. The app itself waits for go2, then exits 7.
      const wait = (f: string) =>
        `while [ ! -e ${dir}/${f} ]; do sleep 0.05; done`;
      const app = `for i in 1 2; do ( (${wait("go1")}) & ); done; ` +
        `touch ${dir}/ready; ${wait("go2")}; exit 7`;
      const p = new Proc("unshare", [
        "--pid",
        "--fork",
        "--mount-proc",
        DENO,
        "run",
        "-A",
        ENTRY,
        "30000",
        "--",
        "sh",
        "-c",
        app,
      ]);
      try {
        await until("the app to be ready", () => exists(`${dir}/ready`));
        const init = await namespaceInit(p);
        await until(
          "the orphans to be re-parented to PID 1",
          () => childrenOf(init).length === 3 || undefined,
        );
        await Deno.writeTextFile(`${dir}/go1`, "");
        // Without reaping, the two orphans stay as zombies children of PID 1.
        const left = await until("the orphans to be reaped", () => {
          const kids = childrenOf(init);
          return kids.length === 1 ? kids : undefined;
        });
        assert.notEqual(stateOf(left[0]), "Z");
        await Deno.writeTextFile(`${dir}/go2`, "");
        assert.equal(await p.code(), 7, p.err);
      } finally {
        await Deno.writeTextFile(`${dir}/go1`, "");
        await Deno.writeTextFile(`${dir}/go2`, "");
        await p.code();
      }
    });
  },
);

Deno.test("the watchdog's start period: an app that listens only after 1.5 s is not stopped for the refused checks before, and is once it fails after being healthy", async () => {
  const { runPreflight } = await import("./_cli.ts");
  await withDir(async (dir) => {
    const app = `${dir}/app.py`;
    // Refuses for 1.5 s (nothing listens), then healthy for 3 requests, then
    // 503; records what it went through.
    await Deno.writeTextFile(
      app,
      `import http.server, signal, sys, time
port = int(sys.argv[1]); log = open(sys.argv[2], "a", buffering=1); n = [0]
def stop(*_):
    log.write("stopped\\n"); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
time.sleep(1.5)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n[0] += 1
        ok = n[0] <= 3
        log.write("200\\n" if ok else "503\\n")
        self.send_response(200 if ok else 503); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", port), H)
log.write("listening\\n")
server.serve_forever()
`,
    );
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const r = await runPreflight(
      [
        "run",
        "--no-wait",
        "--no-migrate",
        "--watchdog",
        `http://127.0.0.1:${port}/health`,
        "--watchdog-interval",
        "200ms",
        "--watchdog-failures",
        "2",
        "--",
        PYTHON,
        app,
        String(port),
        `${dir}/log`,
      ],
      {},
      { timeoutMs: 60_000 },
    );
    const log = (await Deno.readTextFile(`${dir}/log`)).split("\n");
    assert.equal(r.code, 1, r.stderr);
    // It lived to listen, served its healthy answers, and was stopped after
    // two 503s in a row.
    assert.deepEqual(log.slice(0, 4), ["listening", "200", "200", "200"]);
    assert.equal(log.filter((l) => l === "503").length, 2, log.join(","));
    assert.ok(log.includes("stopped"), log.join(","));
    assert.match(r.stderr, /failed: .*refused.* \(start period: not counted\)/);
    assert.match(r.stderr, /HTTP 503 .* \(2\/2\)/);
  });
});

Deno.test("a supervised app starts with the signal state preflight was started with: nothing blocked, SIGPIPE default, inherited ignores kept", async () => {
  const { preflightArgv } = await import("./_cli.ts");
  const launch = new URL("./fixtures/launch.py", import.meta.url).pathname;
  const out = await new Deno.Command(PYTHON, {
    args: [
      launch,
      "--ignore",
      "USR2",
      "--",
      ...preflightArgv(),
      "run",
      "--no-wait",
      "--no-migrate",
      "--supervise",
      "--",
      "/bin/cat",
      "/proc/self/status",
    ],
    env: { PATH: "/usr/bin:/bin", NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const status = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const mask = (name: string) =>
    BigInt(`0x${
      /^(\w+):\s*([0-9a-f]+)$/m.exec(
        status.split("\n").find((l) => l.startsWith(name + ":")) ?? "",
      )?.[2] ?? "0"
    }`);
  assert.equal(mask("SigBlk"), 0n, status);
  // Only SIGUSR2 (12), as inherited; not SIGPIPE, which the runtime ignores.
  assert.equal(mask("SigIgn"), 1n << 11n, status);
});
