/**
 * The migration command runs in a process group of its own: a wrapper
 * script and the migrator it starts are stopped together, and the lock is
 * held until every process of the group has exited. preflight is NOT PID 1
 * here (a host, CI, `docker exec`, `docker run --init`), where a stop signal
 * used to reach the wrapper only. Real PostgreSQL, real signals.
 */
import assert from "node:assert/strict";
import { startPostgres } from "./_servers.ts";
import { preflightArgv } from "./_cli.ts";

const PYTHON = "/usr/bin/python3";

/** A preflight process whose stderr is collected as it comes. */
class Preflight {
  readonly child: Deno.ChildProcess;
  err = "";
  readonly done: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string>) {
    const [cmd, ...pre] = preflightArgv();
    const child = new Deno.Command(cmd, {
      args: [...pre, ...args],
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        NO_COLOR: "1",
        ...env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    const dec = new TextDecoder();
    this.#reading = (async () => {
      for await (const c of child.stderr) {
        this.err += dec.decode(c, { stream: true });
        for (const w of this.#waiters.splice(0)) w();
      }
    })();
    // Not waiting for the end of stderr: a process left behind may hold it.
    this.done = child.status;
  }

  /** Resolves when `text` appears on stderr (rejects if preflight exits first). */
  async waitFor(text: string): Promise<void> {
    while (!this.err.includes(text)) {
      const more = new Promise<void>((r) => this.#waiters.push(r));
      const ended = await Promise.race([
        more.then(() => false),
        this.done.then(() => true),
      ]);
      if (ended && !this.err.includes(text)) {
        throw new Error(`'${text}' never appeared:\n${this.err}`);
      }
    }
  }
}

/** Resolves once `path` exists, polling the file system (the migrator's own signal). */
async function fileAppears(path: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${path} never appeared`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * A wrapper script (as `make migrate` or `npm run migrate` are) that starts
 * a Python migrator in the foreground. On SIGTERM the migrator finishes its
 * step for `finishMs` and writes `done`; `ignoreTerm` makes it ignore
 * SIGTERM (only SIGKILL ends it). Without a signal it would run 20 s.
 */
async function writeMigration(
  dir: string,
  opts: { finishMs?: number; ignoreTerm?: boolean } = {},
): Promise<string> {
  await Deno.writeTextFile(
    `${dir}/migrator.py`,
    `import os, signal, sys, time
d = sys.argv[1]
term = []
signal.signal(signal.SIGTERM, signal.SIG_IGN if ${
      opts.ignoreTerm ? "True" : "False"
    } else (lambda *_: term.append(1)))
open(f"{d}/pid", "w").write(str(os.getpid()))
open(f"{d}/started", "w").write("started")
t0 = time.time()
while not term and time.time() - t0 < 20:
    time.sleep(0.02)
if term:
    open(f"{d}/term", "w").write("term")
    time.sleep(${(opts.finishMs ?? 0) / 1000})
open(f"{d}/done", "w").write("done")
`,
  );
  const wrapper = `${dir}/migrate.sh`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\n${PYTHON} ${dir}/migrator.py ${dir}\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  return wrapper;
}

Deno.test("a stop signal reaches the migrator a wrapper started, and the lock is held until it has exited: a second replica never migrates beside it", async () => {
  const password = "group-pw-3e7a";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
  });
  const dir = await Deno.makeTempDir();
  try {
    const wrapper = await writeMigration(dir, { finishMs: 1500 });
    const env = {
      DATABASE_URL: pg.url("postgres", password, "app"),
    };
    const first = new Preflight(["migrate", "--stop-timeout", "20s"], {
      ...env,
      MIGRATE_CMD: wrapper,
    });
    await first.waitFor("attempt 1/6...");
    await fileAppears(`${dir}/started`);
    first.child.kill("SIGTERM");
    // The migrator got the signal too (the whole group did) and is finishing.
    await fileAppears(`${dir}/term`);
    // A second replica now: it must wait for the lock until the migrator has
    // exited, and then find the migration done.
    const second = new Preflight(["migrate", "--timeout", "60s"], {
      ...env,
      MIGRATE_CMD:
        `/bin/sh -c 'test -f ${dir}/done && echo after > ${dir}/second || echo during > ${dir}/second'`,
    });
    const status = await first.done;
    assert.equal(status.code, 143, first.err);
    // preflight exited only after the migrator did.
    assert.equal(await Deno.readTextFile(`${dir}/done`), "done");
    assert.equal((await second.done).code, 0, second.err);
    assert.equal((await Deno.readTextFile(`${dir}/second`)).trim(), "after");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a migrator that ignores SIGTERM is SIGKILLed with its whole group after --stop-timeout, before preflight exits 143", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wrapper = await writeMigration(dir, { ignoreTerm: true });
    const p = new Preflight(["migrate", "--stop-timeout", "300ms"], {
      MIGRATE_CMD: wrapper,
    });
    await p.waitFor("attempt 1/6...");
    await fileAppears(`${dir}/pid`);
    const pid = Number(await Deno.readTextFile(`${dir}/pid`));
    p.child.kill("SIGTERM");
    const status = await p.done;
    assert.equal(status.code, 143, p.err);
    assert.ok(!alive(pid), `the migrator (pid ${pid}) outlived preflight`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a migration that exits leaving a process of its group behind: preflight stops it before going on, and says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The wrapper backgrounds the migrator and exits 0 at once.
    const wrapper = await writeMigration(dir, { finishMs: 200 });
    await Deno.writeTextFile(
      wrapper,
      `#!/bin/sh\n${PYTHON} ${dir}/migrator.py ${dir} &\nwhile [ ! -f ${dir}/started ]; do sleep 0.02; done\nexit 0\n`,
    );
    const p = new Preflight(["migrate"], { MIGRATE_CMD: wrapper });
    const status = await p.done;
    assert.equal(status.code, 0, p.err);
    assert.match(
      p.err,
      /left processes running in its process group; stopping them/,
    );
    // The leftover got SIGTERM and had finished before preflight ended.
    assert.equal(await Deno.readTextFile(`${dir}/done`), "done");
    assert.equal(await Deno.readTextFile(`${dir}/term`), "term");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
