/**
 * Usage: deno task demo [PREFLIGHT_RUN_OPTIONS...]
 *        (or: deno run -A scripts/demo.ts [PREFLIGHT_RUN_OPTIONS...])
 *   e.g. deno task demo --log-level debug      deno task demo --log-format json
 *   PREFLIGHT_BIN=PATH runs that executable instead of src/main.ts.
 *
 * The whole startup sequence on a machine that has only Deno: `preflight
 * run` waits for a PostgreSQL that comes up a few seconds late (PGlite, an
 * embedded PostgreSQL compiled to WebAssembly, served over TCP by
 * pglite-socket in this process), runs a migration (examples/demo/migrate.ts)
 * under the migration lock, prints its summary line and hands over to an app
 * (examples/demo/app.ts). The demo then probes the app with `preflight probe
 * --json`, lets it stop by itself, closes the database and exits 0 (1 when a
 * step went wrong). The database lives in memory: nothing is left on disk.
 *
 * Everything is printed on standard output in the order it happened:
 * preflight's `[entrypoint]` markers (its standard error), the migration's
 * and the app's `[migrate]`/`[app]` lines, and this script's `[demo]` lines.
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { preflightArgv } from "../tests/_cli.ts";

/** How long PostgreSQL stays down after preflight starts, so the wait is visible. */
const DB_DELAY_MS = 3_000;
/** The demo gives up (and cleans up) when the app has not started by then. */
const APP_START_DEADLINE_MS = 50_000;
/** How long the app may take to stop by itself after the probe. */
const APP_STOP_MS = 15_000;
/**
 * PGlite is a single-session database; pglite-socket multiplexes client
 * connections onto that one session. preflight's lock connection stays open
 * during the whole migration, so with pglite-socket's default of one
 * connection every migration attempt would be refused (tried: six failed
 * attempts, exit 3). With several, all clients share the session, and with
 * it the advisory lock: the lock excludes nothing on PGlite, which is
 * harmless with the demo's single replica.
 */
const MAX_CONNECTIONS = 8;

const MIGRATE = new URL("../examples/demo/migrate.ts", import.meta.url)
  .pathname;
const APP = new URL("../examples/demo/app.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/**
 * `preflight ARGS...` as the compiled binary would run (same permission
 * flags), or the executable named by PREFLIGHT_BIN (tests/_cli.ts).
 */
function preflight(args: string[]): string[] {
  return [...preflightArgv(), ...args];
}

function say(line: string): void {
  console.log(`[demo] ${line}`);
}

/** A port that was free a moment ago (bind port 0, read it, close). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** The variables Deno itself needs to run (cache location, PATH, Windows basics). */
function baseEnv(): Record<string, string> {
  const keep = [
    "PATH",
    "HOME",
    "DENO_DIR",
    "XDG_CACHE_HOME",
    "TMPDIR",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "LOCALAPPDATA",
    "APPDATA",
    "SystemRoot",
    "TERM",
    "NO_COLOR",
  ];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Copies `stream` to standard output line by line, calling `onLine` for each. */
async function forward(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      console.log(line);
      onLine(line);
    }
  }
  if (rest) {
    console.log(rest);
    onLine(rest);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `p`, or with `fallback` after `ms` (the timer is cleared either way). */
async function orAfter<T, F>(p: Promise<T>, ms: number, fallback: F) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<F>((r) => timer = setTimeout(() => r(fallback), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const dbPort = freePort();
  let appPort = freePort();
  while (appPort === dbPort) appPort = freePort();
  const healthUrl = `http://127.0.0.1:${appPort}/health`;

  say("preflight demo: a database that starts late, a migration, an app.");
  // PGlite takes a few seconds to compile and initialise, blocking this
  // process meanwhile; done first, so preflight's lines are relayed as they
  // come and the database opens its port exactly DB_DELAY_MS after
  // preflight starts.
  const t0 = performance.now();
  const db = await PGlite.create();
  say(
    `Embedded PostgreSQL (PGlite) initialised in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    }s.`,
  );
  say(
    `PostgreSQL will listen on 127.0.0.1:${dbPort} in ${
      DB_DELAY_MS / 1000
    }s; the app on ${healthUrl}.`,
  );

  const env = {
    ...baseEnv(),
    DB_HOST: "127.0.0.1",
    DB_PORT: String(dbPort),
    // PGlite accepts any user and password (it has no authentication) and
    // always serves the `postgres` database as the `postgres` user. Giving
    // credentials makes preflight take the migration lock. preflight masks
    // the password wherever it appears in its output, even inside other
    // words, so a password such as "postgres" would turn the database
    // target into "***://127.0.0.1:PORT"; a distinct value reads better.
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: "demo-password",
    POSTGRES_DB: "postgres",
    // A JSON array is taken literally: paths with spaces need no quoting.
    MIGRATE_CMD: JSON.stringify([Deno.execPath(), "run", "-A", MIGRATE]),
    PORT: String(appPort),
  };
  const argv = preflight([
    "run",
    // The demo should fail loudly rather than run the app without its
    // database or schema (the defaults, as in the old script, continue).
    "--on-timeout",
    "fail",
    "--on-migrate-failure",
    "fail",
    "--timeout",
    "40s",
    "--migrate-delay",
    "1s",
    // Options given to the demo go to `preflight run` and win over the above.
    ...Deno.args,
    "--",
    Deno.execPath(),
    "run",
    "-A",
    APP,
  ]);
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // With the default exec hand-over the app keeps this PID.
  say(`Started preflight run (pid ${child.pid}).`);

  const appListening = Promise.withResolvers<void>();
  const onLine = (line: string) => {
    if (line.startsWith("[app] Listening on ")) appListening.resolve();
  };
  const output = Promise.all([
    forward(child.stdout, onLine),
    forward(child.stderr, onLine),
  ]);

  let server: PGLiteSocketServer | undefined;
  let code = 1;
  let steps: Promise<number> | undefined;
  const stopChild = async () => {
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
      const done = await orAfter(child.status, 5_000, undefined);
      if (done) return;
    }
  };
  // Ctrl-C during the demo: stop the child and the database, then leave.
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    interrupted.resolve();
  };
  const interrupted = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);

  try {
    const exitedEarly = child.status.then((s) => s);
    steps = (async () => {
      await sleep(DB_DELAY_MS);
      // Interrupted meanwhile: the finally block below cleans up.
      if (stopping) return 130;
      server = new PGLiteSocketServer({
        db,
        host: "127.0.0.1",
        port: dbPort,
        maxConnections: MAX_CONNECTIONS,
      });
      await server.start();
      say(
        `PostgreSQL (PGlite) is now accepting connections on 127.0.0.1:${dbPort}, ${
          ((performance.now() - started) / 1000).toFixed(1)
        }s after preflight started.`,
      );

      const up = await orAfter(
        Promise.race([
          appListening.promise.then(() => "listening" as const),
          exitedEarly.then(() => "exited" as const),
        ]),
        APP_START_DEADLINE_MS,
        "timeout" as const,
      );
      if (stopping) return 130;
      if (up !== "listening") {
        say(
          up === "exited"
            ? `preflight exited with code ${
              (await child.status).code
            } before the app started.`
            : `The app did not start within ${APP_START_DEADLINE_MS / 1000}s.`,
        );
        return 1;
      }

      const probeArgv = preflight(["probe", "--json", healthUrl]);
      say(`$ preflight probe --json ${healthUrl}`);
      const probe = await new Deno.Command(probeArgv[0], {
        args: probeArgv.slice(1),
        env: baseEnv(),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (stopping) return 130;
      const probeOut = new TextDecoder().decode(probe.stdout).trim();
      const probeErr = new TextDecoder().decode(probe.stderr).trim();
      console.log(probeOut);
      if (probeErr) console.log(probeErr);
      say(`probe exit code ${probe.code} (0 = healthy).`);

      // The body the app's health endpoint gives, with preflight's status
      // variables (the probe only looks at the status code).
      try {
        const res = await fetch(healthUrl, {
          signal: AbortSignal.timeout(5_000),
        });
        say(`GET /health -> ${res.status} ${await res.text()}`);
      } catch (e) {
        say(`GET /health failed: ${(e as Error).message}`);
      }

      const status = await orAfter(child.status, APP_STOP_MS, undefined);
      if (!status) {
        say(`The app did not stop within ${APP_STOP_MS / 1000}s; stopping it.`);
        return 1;
      }
      say(`The app (pid ${child.pid}) exited with code ${status.code}.`);
      return probe.code === 0 && status.code === 0 ? 0 : 1;
    })();
    code = await Promise.race([
      steps,
      interrupted.promise.then(() => {
        say("Interrupted.");
        return 130;
      }),
    ]);
  } finally {
    await stopChild();
    // Once the child is gone the steps end quickly (a running probe has a
    // 3 s deadline); the database is closed only after them.
    await orAfter(steps ?? Promise.resolve(0), 5_000, undefined);
    await orAfter(output, 5_000, undefined);
    await server?.stop();
    await db.close();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    say(
      `Cleaned up: app and preflight stopped, PostgreSQL closed (it lived in memory). Exit ${code}.`,
    );
  }
  return code;
}

if (import.meta.main) {
  Deno.exit(await main());
}
