/**
 * Throwaway MariaDB servers (Debian's `mariadb-server`) for integration
 * tests: a data directory copied from one `mariadb-install-db` per process,
 * `mariadbd` on a free port of 127.0.0.1 with its socket and log in a temp
 * directory, users and a database created at start-up by an init file (as
 * the official Docker image's entrypoint does). Stopped and removed by
 * `stop()` / `await using`, also when a test fails.
 *
 * The initialisation window is real: `mariadbd` creates its TCP socket, then
 * runs the init file, and only then sends handshakes. With `gated: true` the
 * init file ends by reading a FIFO, so the server stays in that window —
 * port open, no greeting — until the test calls `release()`.
 *
 * ```ts
 * await using db = await startMariaDb({ users: [{ name: "app", password: "pw" }], database: "app" });
 * const url = db.url({ user: "app", password: "pw", database: "app" });
 * ```
 */
import { freePort } from "./_servers.ts";

const MARIADBD = "/usr/sbin/mariadbd";
const INSTALL_DB = "/usr/bin/mariadb-install-db";
const CLIENT = "/usr/bin/mariadb";
const OS_USER = "mysql";

/** Why MariaDB tests cannot run here, or undefined when they can. */
export function mariaDbMissing(): string | undefined {
  for (const file of [MARIADBD, INSTALL_DB, CLIENT]) {
    try {
      Deno.statSync(file);
    } catch {
      return `${file} not found (apt-get install -y mariadb-server)`;
    }
  }
  if (Deno.uid?.() !== 0) {
    return "starting mariadbd as the mysql user needs root";
  }
  return undefined;
}

/** How {@linkcode startMariaDb} sets up the server. */
export interface MariaDbOptions {
  /** Accounts `'NAME'@'%'` with every privilege, created by the init file. */
  users?: { name: string; password: string }[];
  /** A database created by the init file. */
  database?: string;
  /** More statements for the init file (one per line, no DELIMITER). */
  initSql?: string[];
  /** Hold the server in its initialisation window until `release()`. */
  gated?: boolean;
  /** Choose the port but start only on `start()`: connections are refused until then. */
  deferStart?: boolean;
  /** More `mariadbd` options, e.g. `--max-connections=1`. */
  args?: string[];
}

/** Parts of a URL built by {@linkcode MariaDbServer.url}. */
export interface MariaDbUrlOptions {
  user?: string;
  password?: string;
  database?: string;
  /** `mysql` (default) or `mariadb`. */
  scheme?: string;
}

/** A throwaway MariaDB server. */
export interface MariaDbServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Resolves when the server sends handshakes (rejects if it exits first). */
  readonly ready: Promise<void>;
  /** A target URL; without a user, `mysql://127.0.0.1:PORT`. */
  url(opts?: MariaDbUrlOptions): string;
  /** Starts a `deferStart` server (or a stopped one); resolves when it is listening (not yet ready when gated). */
  start(): Promise<void>;
  /** Ends the initialisation window of a gated server. */
  release(): Promise<void>;
  /** Runs SQL as root over the Unix socket; tab-separated rows without headers. */
  sql(statement: string): Promise<string>;
  /** The server's error log so far. */
  log(): Promise<string>;
  /** Stops the server (SIGTERM, SIGKILL after 20 s); keeps the files. */
  stop(): Promise<void>;
  /** Stops the server and removes its files. Idempotent. */
  cleanup(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed with code ${out.code}:\n${
        new TextDecoder().decode(out.stderr)
      }${text}`,
    );
  }
  return text;
}

let owner: Promise<{ uid: number; gid: number }> | undefined;

function mysqlOwner(): Promise<{ uid: number; gid: number }> {
  owner ??= (async () => ({
    uid: Number((await run("id", ["-u", OS_USER])).trim()),
    gid: Number((await run("id", ["-g", OS_USER])).trim()),
  }))();
  return owner;
}

/** A temp directory owned by `mysql`, readable by all (the harness runs as root). */
async function serverDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  const { uid, gid } = await mysqlOwner();
  await Deno.chown(dir, uid, gid);
  await Deno.chmod(dir, 0o755);
  return dir;
}

// Servers and directories left when the process ends (a test crashed before
// its cleanup): only synchronous calls work in an unload handler.
const live = new Set<Deno.ChildProcess>();
const dirs = new Set<string>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    for (const dir of dirs) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    }
  });
}

let template: Promise<string> | undefined;

// mariadb-install-db takes most of a second; a copy of its result a tenth.
function templateDataDir(): Promise<string> {
  template ??= (async () => {
    hookUnload();
    const dir = await serverDir("preflight-mariadb-template-");
    dirs.add(dir);
    await run(INSTALL_DB, [
      "--no-defaults",
      `--datadir=${dir}/data`,
      `--user=${OS_USER}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      "--skip-name-resolve",
    ]);
    return `${dir}/data`;
  })();
  return template;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function sqlIdent(s: string): string {
  return `\`${s.replaceAll("`", "``")}\``;
}

/**
 * Starts a MariaDB server on a free port of 127.0.0.1 (and its Unix socket)
 * and resolves once it is listening; `ready` resolves when it sends
 * handshakes (at once unless `gated`).
 */
export async function startMariaDb(
  opts: MariaDbOptions = {},
): Promise<MariaDbServer> {
  const missing = mariaDbMissing();
  if (missing) throw new Error(missing);
  const source = await templateDataDir();
  const dir = await serverDir("preflight-mariadb-");
  dirs.add(dir);
  const dataDir = `${dir}/data`;
  const logFile = `${dir}/error.log`;
  const socket = `${dir}/mysqld.sock`;
  const gate = `${dir}/gate`;
  const { uid, gid } = await mysqlOwner();
  await run("cp", ["-a", source, dataDir]);

  let gated = opts.gated ?? false;
  const initFile = async () => {
    const lines: string[] = [];
    if (opts.database) {
      lines.push(`CREATE DATABASE IF NOT EXISTS ${sqlIdent(opts.database)};`);
    }
    for (const u of opts.users ?? []) {
      const account = `${sqlString(u.name)}@'%'`;
      lines.push(
        `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${
          sqlString(u.password)
        };`,
        `GRANT ALL PRIVILEGES ON *.* TO ${account};`,
      );
    }
    lines.push(...(opts.initSql ?? []));
    if (gated) {
      // Blocks the init file, and so the first handshake, until a writer
      // opens the FIFO (release()).
      await Deno.remove(gate).catch(() => {});
      await run("mkfifo", ["-m", "0666", gate]);
      lines.push(
        "CREATE TEMPORARY TABLE mysql.preflight_gate (line TEXT);",
        `LOAD DATA INFILE ${sqlString(gate)} INTO TABLE mysql.preflight_gate;`,
        "DROP TEMPORARY TABLE mysql.preflight_gate;",
      );
    }
    const file = `${dir}/init.sql`;
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    await Deno.chown(file, uid, gid);
    return file;
  };

  let port = freePort();
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> = Promise.resolve({
    success: true,
    code: 0,
    signal: null,
  });
  let ready: Promise<void> = Promise.resolve();
  let cleaned = false;

  const spawn = async () => {
    const init = await initFile();
    child = new Deno.Command(MARIADBD, {
      args: [
        "--no-defaults",
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--user=${OS_USER}`,
        `--pid-file=${dir}/mysqld.pid`,
        `--log-error=${logFile}`,
        "--skip-name-resolve",
        "--skip-log-bin",
        `--secure-file-priv=${dir}`,
        `--init-file=${init}`,
        "--innodb-buffer-pool-size=8M",
        "--innodb-log-file-size=4M",
        "--performance-schema=OFF",
        ...(opts.args ?? []),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    live.add(child);
    const proc = child;
    exited = proc.status.finally(() => live.delete(proc));
  };

  const log = () => Deno.readTextFile(logFile).catch(() => "");

  const start = async () => {
    // Another process may take the free port before mariadbd binds it.
    for (let attempt = 1;; attempt++) {
      await spawn();
      const outcome = await untilListening(port, exited, log);
      if (outcome === "listening") break;
      const text = await log();
      if (attempt < 3 && /already in use|Bind on TCP\/IP port/i.test(text)) {
        port = freePort();
        continue;
      }
      throw new Error(`mariadbd did not start:\n${text}`);
    }
    ready = untilGreeting(port, exited, log);
    ready.catch(() => {}); // observed by whoever awaits it
    if (!gated) await ready;
  };

  const stop = async () => {
    const proc = child;
    if (!proc || !live.has(proc)) return;
    if (gated) await release().catch(() => {});
    try {
      proc.kill("SIGTERM");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* already exited */ }
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };

  // Opening a FIFO for writing waits for its reader: the server, when its
  // init file reaches the gate. Once released, restarts are not gated.
  const release = async () => {
    if (!gated) return;
    gated = false;
    const writer = await Deno.open(gate, { write: true });
    await writer.write(new TextEncoder().encode("go\n"));
    writer.close();
  };

  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stop().catch(() => {});
    dirs.delete(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  try {
    if (!opts.deferStart) await start();
  } catch (e) {
    await cleanup();
    throw e;
  }

  return {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    dataDir,
    get ready() {
      return ready;
    },
    url(u = {}) {
      const auth = u.user === undefined
        ? ""
        : `${encodeURIComponent(u.user)}${
          u.password === undefined ? "" : `:${encodeURIComponent(u.password)}`
        }@`;
      const path = u.database === undefined
        ? ""
        : `/${encodeURIComponent(u.database)}`;
      return `${u.scheme ?? "mysql"}://${auth}127.0.0.1:${port}${path}`;
    },
    start,
    release,
    sql: (statement) =>
      run(CLIENT, [
        "--no-defaults",
        `--socket=${socket}`,
        "--user=root",
        "--batch",
        "--skip-column-names",
        `--execute=${statement}`,
      ]),
    log,
    stop,
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the port accepts TCP, or the server exits. */
async function untilListening(
  port: number,
  exited: Promise<unknown>,
  log: () => Promise<string>,
): Promise<"listening" | "exited"> {
  let done = false;
  exited.then(() => done = true);
  const deadline = Date.now() + 60_000;
  while (!done) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return "listening";
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      throw new Error(`mariadbd not listening after 60 s:\n${await log()}`);
    }
    await delay(20);
  }
  return "exited";
}

/**
 * Polls until a new connection gets a greeting: a handshake (protocol 10),
 * or an error packet (a server that refuses this host is up all the same).
 */
async function untilGreeting(
  port: number,
  exited: Promise<unknown>,
  log: () => Promise<string>,
): Promise<void> {
  let done = false;
  exited.then(() => done = true);
  const deadline = Date.now() + 120_000;
  while (!done) {
    if (Date.now() > deadline) {
      throw new Error(`mariadbd sent no greeting in 120 s:\n${await log()}`);
    }
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const buf = new Uint8Array(5);
        let got = 0;
        while (got < 5) {
          const n = await conn.read(buf.subarray(got));
          if (n === null) break;
          got += n;
        }
        if (got === 5 && (buf[4] === 10 || buf[4] === 0xff)) return;
      } finally {
        conn.close();
      }
    } catch { /* not yet */ }
    await delay(20);
  }
  throw new Error(`mariadbd exited before it was ready:\n${await log()}`);
}
