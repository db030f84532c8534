/**
 * Real servers for integration tests: throwaway PostgreSQL clusters on free
 * ports, and in-process "fault" servers that imitate what a check meets when
 * nothing real answers (a Docker proxy with no backend, a silent peer, a slow
 * or garbage-speaking one). Everything listens on loopback only and is removed
 * by `cleanup()` / `await using`, also when a test fails.
 *
 * ```ts
 * await using pg = await startPostgres({ auth: "scram", tls: true });
 * const url = pg.url("postgres", pg.password, "postgres", { sslmode: "require" });
 * ```
 */

const PG_BIN = "/usr/lib/postgresql/15/bin";
const PSQL = "/usr/bin/psql";
const PG_USER = "postgres";

// ---------------------------------------------------------------------------
// Ports

/**
 * A TCP port that was free on 127.0.0.1 and on ::1 a moment ago: servers here
 * listen on both, and a port free on one address only can be busy on the
 * other (another test's server on ::1), which a test would then reach.
 */
export function freePort(): number {
  for (let i = 0; i < 50; i++) {
    const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = v4.addr as Deno.NetAddr;
    try {
      if (hasIpv6Loopback()) Deno.listen({ hostname: "::1", port }).close();
      return port;
    } catch {
      // Busy on ::1: try another.
    } finally {
      v4.close();
    }
  }
  throw new Error("no port free on both 127.0.0.1 and ::1");
}

/**
 * A port nobody listens on, so connecting to it is refused: below the
 * ephemeral range (32768 and up on Linux), so no server a parallel test
 * starts on port 0 is given it, and free on both loopback addresses.
 */
export function closedPort(): number {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      if (hasIpv6Loopback()) Deno.listen({ hostname: "::1", port }).close();
      return port;
    } catch {
      // In use: try another.
    }
  }
  throw new Error("no closed port found");
}

let ipv6Cache: boolean | undefined;

/** True when this host can listen on `::1` (IPv6 loopback). */
export function hasIpv6Loopback(): boolean {
  if (ipv6Cache === undefined) {
    try {
      Deno.listen({ hostname: "::1", port: 0 }).close();
      ipv6Cache = true;
    } catch {
      ipv6Cache = false;
    }
  }
  return ipv6Cache;
}

// ---------------------------------------------------------------------------
// Processes

interface RunOptions {
  /** Run as the `postgres` OS user (the server refuses to run as root). */
  asPostgres?: boolean;
  stdin?: string;
  env?: Record<string, string>;
}

/** Runs a command to completion; throws with its output when it fails. */
async function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const [file, argv] = opts.asPostgres
    ? ["runuser", ["-u", PG_USER, "--", cmd, ...args]]
    : [cmd, args];
  const child = new Deno.Command(file, {
    args: argv,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `${cmd} ${
        args.join(" ")
      } failed with code ${out.code}:\n${stderr}${stdout}`,
    );
  }
  return { stdout, stderr };
}

let postgresIds: { uid: number; gid: number } | undefined;

async function postgresOwner(): Promise<{ uid: number; gid: number }> {
  if (!postgresIds) {
    const uid = Number((await run("id", ["-u", PG_USER])).stdout.trim());
    const gid = Number((await run("id", ["-g", PG_USER])).stdout.trim());
    postgresIds = { uid, gid };
  }
  return postgresIds;
}

/** A fresh temporary directory owned by the `postgres` OS user. */
async function postgresTempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  const { uid, gid } = await postgresOwner();
  await Deno.chown(dir, uid, gid);
  return dir;
}

// Live clusters and template directories, removed when the process ends even
// if a test forgot (or failed before) its cleanup. Only synchronous calls work
// in an unload handler, so leftovers get SIGQUIT (immediate shutdown).
const liveDataDirs = new Set<string>();
const tempDirs = new Set<string>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const data of liveDataDirs) killPostmasterSync(data);
    for (const dir of tempDirs) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    }
  });
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(
      Deno.readTextFileSync(`${dataDir}/postmaster.pid`).split("\n")[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function killPostmasterSync(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  try {
    Deno.kill(pid, "SIGQUIT");
  } catch { /* already exited */ }
}

// ---------------------------------------------------------------------------
// TLS material

/** A certificate authority made for one test run. */
export interface CertificateAuthority {
  /** PEM certificate, to pass as `sslrootcert`. */
  certFile: string;
  keyFile: string;
}

const OPENSSL_CONF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = $ENV::PF_CN
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  bytes[0] &= 0x7f;
  return "0x" +
    [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function opensslConf(dir: string): Promise<string> {
  const file = `${dir}/openssl.cnf`;
  await Deno.writeTextFile(file, OPENSSL_CONF);
  return file;
}

/**
 * Creates a new certificate authority with `openssl` in `dir` (a new temp
 * directory when omitted). Two calls give two unrelated CAs, for "wrong CA"
 * tests.
 */
export async function createCertificateAuthority(
  dir?: string,
): Promise<CertificateAuthority & AsyncDisposable> {
  const owned = dir === undefined;
  dir ??= await Deno.makeTempDir({ prefix: "preflight-ca-" });
  if (owned) {
    hookUnload();
    tempDirs.add(dir);
  }
  const conf = await opensslConf(dir);
  const certFile = `${dir}/ca.crt`;
  const keyFile = `${dir}/ca.key`;
  await run("openssl", [
    "req",
    "-x509",
    "-new",
    "-config",
    conf,
    "-extensions",
    "v3_ca",
    ...EC_KEY,
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "3650",
    "-set_serial",
    randomSerial(),
  ], { env: { PF_CN: `preflight test CA ${crypto.randomUUID()}` } });
  const removeDir = dir;
  return {
    certFile,
    keyFile,
    async [Symbol.asyncDispose]() {
      if (!owned) return;
      tempDirs.delete(removeDir);
      await Deno.remove(removeDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Issues a server certificate for `localhost`, 127.0.0.1 and ::1, signed by `ca`. */
async function createServerCertificate(
  ca: CertificateAuthority,
  dir: string,
): Promise<{ certFile: string; keyFile: string }> {
  const conf = await opensslConf(dir);
  const env = { PF_CN: "localhost" };
  const keyFile = `${dir}/server.key`;
  const csr = `${dir}/server.csr`;
  const certFile = `${dir}/server.crt`;
  await run("openssl", [
    "req",
    "-new",
    "-config",
    conf,
    ...EC_KEY,
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    csr,
  ], { env });
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-set_serial",
    randomSerial(),
    "-days",
    "3650",
    "-extfile",
    conf,
    "-extensions",
    "v3_server",
    "-out",
    certFile,
  ], { env });
  return { certFile, keyFile };
}

// ---------------------------------------------------------------------------
// PostgreSQL

/** How {@linkcode startPostgres} sets up the cluster. */
export interface PostgresOptions {
  /**
   * `trust` (default): any user logs in without a password over TCP.
   * `scram`: TCP logins need the superuser's password (`scram-sha-256`).
   */
  auth?: "trust" | "scram";
  /** Superuser (`postgres`) password; a random one when omitted. */
  password?: string;
  /** Serve TLS with a certificate for `localhost`/127.0.0.1/::1 signed by a fresh CA (`caFile`). */
  tls?: boolean;
  /**
   * Start as a standby that answers every login with SQLSTATE 57P03 ("not
   * accepting connections") until {@linkcode PgServer.promote} is called.
   */
  standby?: boolean;
  /**
   * Start the server only after this delay: `startPostgres` then returns at
   * once with the port chosen but nothing listening (connections refused),
   * and `ready` resolves when the server has started.
   */
  startDelayMs?: number;
  /** An extra database to create (owned by `postgres`). */
  database?: string;
  /**
   * pg_hba.conf lines for TCP clients, replacing the `host all all ...`
   * lines of `auth` (Unix-socket logins stay `trust`).
   */
  hba?: string[];
  /** Extra postgresql.conf lines, e.g. `log_connections = on`. */
  conf?: string[];
  /** False: no TCP listener at all, only the Unix socket in `socketDir`. */
  listenTcp?: boolean;
  /**
   * Make this server a streaming hot standby of `primary` (`pg_basebackup
   * -R`, `hot_standby = on`): it answers logins, read-only. Its password and
   * databases are the primary's.
   */
  replicaOf?: PgServer;
}

/** A running throwaway PostgreSQL 15 cluster. */
export interface PgServer extends AsyncDisposable {
  /** Address to connect to over TCP: `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** True when the server also listens on `::1`. */
  readonly ipv6: boolean;
  /** The superuser's password (meaningful with `auth: "scram"`). */
  readonly password: string;
  /** The CA that signed the server certificate, when `tls` is on. */
  readonly caFile?: string;
  /** The server's log (`log_line_prefix='%m '`). */
  readonly logFile: string;
  /** Directory of the Unix socket, for `psql -h`. */
  readonly socketDir: string;
  readonly dataDir: string;
  /** Resolves when the server is accepting connections (or, for a standby, answering 57P03). */
  readonly ready: Promise<void>;
  /**
   * A target URL for this server. Without `user`: `postgres://127.0.0.1:PORT`
   * (a `pg_isready`-level target). `params` become the query string.
   */
  url(
    user?: string,
    password?: string,
    db?: string,
    params?: Record<string, string>,
  ): string;
  /** Starts the server again in the same data directory and waits until it is ready. */
  start(): Promise<void>;
  /** Stops the server (fast shutdown); the data directory stays. */
  stop(): Promise<void>;
  /** Ends standby mode and waits until the server accepts connections. */
  promote(): Promise<void>;
  /** Runs SQL as `postgres` over the Unix socket with psql; returns the unaligned, tuples-only output. */
  psql(sql: string, db?: string): Promise<string>;
  /** The server log so far. */
  log(): Promise<string>;
  /** Stops the server (killing it if needed) and removes every file. Idempotent. */
  cleanup(): Promise<void>;
}

let templatePromise: Promise<string> | undefined;

// initdb takes most of a second; copying its result takes a tenth. One
// pristine cluster per process is copied for every server.
function templateDataDir(): Promise<string> {
  templatePromise ??= (async () => {
    hookUnload();
    const dir = await postgresTempDir("preflight-pg-template-");
    tempDirs.add(dir);
    await run(`${PG_BIN}/initdb`, [
      "-D",
      `${dir}/data`,
      "-U",
      PG_USER,
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ], { asPostgres: true });
    return `${dir}/data`;
  })();
  return templatePromise;
}

function sqlLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

function confValue(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/**
 * Creates and starts a throwaway PostgreSQL cluster listening on 127.0.0.1
 * (and ::1 when available) on a free port, its Unix socket and log in a temp
 * directory. Resolves once the server really accepts connections (unless
 * `startDelayMs` is given; then await `ready`).
 */
export async function startPostgres(
  opts: PostgresOptions = {},
): Promise<PgServer> {
  const template = await templateDataDir();
  const dir = await postgresTempDir("preflight-pg-");
  tempDirs.add(dir);
  const dataDir = `${dir}/data`;
  const logFile = `${dir}/server.log`;
  const password = opts.password ?? `pw-${crypto.randomUUID()}`;
  const ipv6 = hasIpv6Loopback();
  const owner = await postgresOwner();
  let port = freePort();
  let caFile: string | undefined;
  let stopped = true;
  let cleaned = false;
  let delayTimer: ReturnType<typeof setTimeout> | undefined;

  try {
    if (opts.replicaOf) {
      const primary = opts.replicaOf;
      await run(`${PG_BIN}/pg_basebackup`, [
        "-D",
        dataDir,
        "-R",
        "-X",
        "stream",
        "-h",
        primary.socketDir,
        "-p",
        String(primary.port),
        "-U",
        PG_USER,
        "--no-sync",
      ], { asPostgres: true });
      // Its own settings below, not the copied ones of the primary.
      await Deno.remove(`${dataDir}/postmaster.pid`).catch(() => {});
    } else {
      await run("cp", ["-a", template, dataDir]);
    }
    await Deno.writeTextFile(logFile, "");
    await Deno.chown(logFile, owner.uid, owner.gid);

    const ssl: string[] = [];
    if (opts.tls) {
      const tlsDir = `${dir}/tls`;
      await Deno.mkdir(tlsDir);
      const ca = await createCertificateAuthority(tlsDir);
      const server = await createServerCertificate(ca, tlsDir);
      // The server refuses a key readable by others or not its own.
      await Deno.chown(server.keyFile, owner.uid, owner.gid);
      await Deno.chmod(server.keyFile, 0o600);
      await Deno.chown(server.certFile, owner.uid, owner.gid);
      caFile = ca.certFile;
      ssl.push(
        "ssl = on",
        `ssl_cert_file = ${confValue(server.certFile)}`,
        `ssl_key_file = ${confValue(server.keyFile)}`,
      );
    }

    const method = opts.auth === "scram" ? "scram-sha-256" : "trust";
    await Deno.writeTextFile(
      `${dataDir}/pg_hba.conf`,
      [
        "local all all trust",
        // For pg_basebackup of a standby (replicaOf).
        "local replication all trust",
        ...(opts.hba ?? [
          `host all all 127.0.0.1/32 ${method}`,
          `host all all ::1/128 ${method}`,
        ]),
        "",
      ].join("\n"),
    );
    if (!opts.replicaOf) {
      await Deno.writeTextFile(
        `${dataDir}/postgresql.conf`,
        "\ninclude 'preflight_test.conf'\n",
        { append: true },
      );
    }

    const writeConf = () =>
      Deno.writeTextFile(
        `${dataDir}/preflight_test.conf`,
        [
          `listen_addresses = '${
            opts.listenTcp === false ? "" : ipv6 ? "127.0.0.1,::1" : "127.0.0.1"
          }'`,
          `port = ${port}`,
          `unix_socket_directories = ${confValue(dir)}`,
          "fsync = off",
          "synchronous_commit = off",
          "full_page_writes = off",
          "log_line_prefix = '%m '",
          "shared_buffers = 16MB",
          "max_connections = 40",
          ...(opts.standby ? ["hot_standby = off"] : []),
          ...(opts.replicaOf ? ["hot_standby = on"] : []),
          ...(opts.conf ?? []),
          ...ssl,
          "",
        ].join("\n"),
      );

    await writeConf();

    // Single-user mode sets the password and creates the database without
    // opening a port (it also works for a cluster that will be a standby).
    const setup: string[] = [];
    if (opts.auth === "scram") {
      setup.push(`ALTER ROLE postgres PASSWORD ${sqlLiteral(password)};`);
    }
    if (opts.database) {
      setup.push(`CREATE DATABASE ${sqlIdent(opts.database)};`);
    }
    if (setup.length > 0 && !opts.replicaOf) {
      const { stdout, stderr } = await run(
        `${PG_BIN}/postgres`,
        ["--single", "-D", dataDir, "-c", "fsync=off", "postgres"],
        { asPostgres: true, stdin: setup.join("\n") + "\n" },
      );
      if (/\bERROR:/.test(stderr + stdout)) {
        throw new Error(`cluster setup failed:\n${stderr}${stdout}`);
      }
    }
    if (opts.standby) {
      await Deno.writeTextFile(`${dataDir}/standby.signal`, "");
      await Deno.chown(`${dataDir}/standby.signal`, owner.uid, owner.gid);
    }

    const pgCtl = (...args: string[]) =>
      run(`${PG_BIN}/pg_ctl`, ["-D", dataDir, ...args], { asPostgres: true });

    const start = async () => {
      liveDataDirs.add(dataDir);
      // Another process may grab the free port before the server binds it;
      // then take another one.
      for (let attempt = 1;; attempt++) {
        await writeConf();
        try {
          // -w waits until the server accepts connections, or, for a
          // standby, until it is up and answering "not accepting".
          await pgCtl("-l", logFile, "-w", "-t", "60", "start");
          stopped = false;
          return;
        } catch (e) {
          const log = await Deno.readTextFile(logFile).catch(() => "");
          if (attempt < 3 && /could not bind|already in use/i.test(log)) {
            port = freePort();
            continue;
          }
          throw new Error(`${(e as Error).message}\nserver log:\n${log}`);
        }
      }
    };

    const stop = async (mode: "fast" | "immediate") => {
      if (postmasterPid(dataDir) === undefined) {
        stopped = true;
        return;
      }
      try {
        await pgCtl("-m", mode, "-w", "-t", "30", "stop");
      } catch {
        killPostmasterSync(dataDir);
      }
      stopped = true;
    };

    let ready: Promise<void>;
    if (opts.startDelayMs !== undefined) {
      ready = new Promise<void>((resolve, reject) => {
        delayTimer = setTimeout(() => {
          delayTimer = undefined;
          start().then(resolve, reject);
        }, opts.startDelayMs);
      });
      ready.catch(() => {}); // observed by whoever awaits `ready`
    } else {
      await start();
      ready = Promise.resolve();
    }

    const server: PgServer = {
      host: "127.0.0.1",
      get port() {
        return port;
      },
      ipv6,
      password,
      caFile,
      logFile,
      socketDir: dir,
      dataDir,
      ready,
      url(user, pass, db, params) {
        const auth = user === undefined
          ? ""
          : `${encodeURIComponent(user)}${
            pass === undefined ? "" : `:${encodeURIComponent(pass)}`
          }@`;
        const path = user === undefined && db === undefined
          ? ""
          : `/${encodeURIComponent(db ?? "postgres")}`;
        const query = params ? `?${new URLSearchParams(params)}` : "";
        return `postgres://${auth}127.0.0.1:${port}${path}${query}`;
      },
      start,
      stop: () => stop("fast"),
      async promote() {
        await pgCtl("-w", "-t", "60", "promote");
      },
      async psql(sql, db = "postgres") {
        const { stdout } = await run(PSQL, [
          "-X",
          "-A",
          "-t",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "-h",
          dir,
          "-p",
          String(port),
          "-U",
          PG_USER,
          "-d",
          db,
          "-c",
          sql,
        ]);
        return stdout.trim();
      },
      log: () => Deno.readTextFile(logFile),
      async cleanup() {
        if (cleaned) return;
        cleaned = true;
        if (delayTimer !== undefined) clearTimeout(delayTimer);
        await ready.catch(() => {});
        if (!stopped) await stop("immediate");
        killPostmasterSync(dataDir);
        liveDataDirs.delete(dataDir);
        tempDirs.delete(dir);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
      [Symbol.asyncDispose]() {
        return this.cleanup();
      },
    };
    return server;
  } catch (e) {
    if (delayTimer !== undefined) clearTimeout(delayTimer);
    if (!stopped) killPostmasterSync(dataDir);
    liveDataDirs.delete(dataDir);
    tempDirs.delete(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Fault servers

/**
 * What a fault server does with each connection:
 * - `accept-close`: accepts and closes at once (Docker's userland proxy with
 *   nothing behind it);
 * - `silent`: accepts, reads, never answers;
 * - `slow`: reads the first bytes, then trickles `payload` one byte per
 *   `intervalMs` and goes quiet;
 * - `garbage`: reads the first bytes, answers random bytes that no protocol
 *   here accepts (first byte 0xFF), and stays open.
 */
export type FaultKind = "accept-close" | "silent" | "slow" | "garbage";

/** Tuning of a fault server. */
export interface FaultOptions {
  /**
   * Bytes a `slow` server trickles. Default: the start of a PostgreSQL
   * ErrorResponse that claims 256 bytes and never completes; pass another
   * protocol's prefix to test its client.
   */
  payload?: Uint8Array;
  /** Delay between two bytes of a `slow` server; default 1000 ms. */
  intervalMs?: number;
}

/** A fault server listening on 127.0.0.1. */
export interface FaultServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** Number of connections accepted so far. */
  readonly accepted: number;
  /** Resolves once `n` connections in all have been accepted. */
  acceptedAtLeast(n: number): Promise<void>;
  /** Stops listening and closes every connection; waits for the handlers to end. */
  close(): Promise<void>;
}

const SLOW_DEFAULT = new Uint8Array([0x45, 0, 0, 1, 0, 0x53, 0x46, 0x41]);

/** Starts an in-process TCP server on a free 127.0.0.1 port that misbehaves as `kind` says. */
export function startFaultServer(
  kind: FaultKind,
  opts: FaultOptions = {},
): FaultServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const stop = new AbortController();
  let accepted = 0;
  let closing: Promise<void> | undefined;
  const waiters: { n: number; resolve: () => void }[] = [];

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stop.signal.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        stop.signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      stop.signal.addEventListener("abort", onAbort, { once: true });
    });

  const drain = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(4096);
    while ((await conn.read(buf)) !== null) { /* discard */ }
  };

  const handle = async (conn: Deno.Conn) => {
    switch (kind) {
      case "accept-close":
        return;
      case "silent":
        return await drain(conn);
      case "slow": {
        await conn.read(new Uint8Array(4096));
        for (const byte of opts.payload ?? SLOW_DEFAULT) {
          await sleep(opts.intervalMs ?? 1000);
          if (stop.signal.aborted) return;
          await conn.write(new Uint8Array([byte]));
        }
        return await drain(conn);
      }
      case "garbage": {
        await conn.read(new Uint8Array(4096));
        const junk = crypto.getRandomValues(new Uint8Array(64));
        junk[0] = 0xff;
        await conn.write(junk);
        return await drain(conn);
      }
    }
  };

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        for (const w of waiters.filter((w) => w.n <= accepted)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        conns.add(conn);
        const task: Promise<void> = handle(conn)
          .catch(() => {}) // the peer went away, or close() closed it
          .finally(() => {
            conns.delete(conn);
            handlers.delete(task);
            try {
              conn.close();
            } catch { /* already closed */ }
          });
        handlers.add(task);
      }
    } catch { /* listener closed */ }
  })();

  const close = () => {
    closing ??= (async () => {
      stop.abort();
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await acceptLoop;
      await Promise.all([...handlers]);
    })();
    return closing;
  };

  return {
    host: "127.0.0.1",
    port,
    get accepted() {
      return accepted;
    },
    acceptedAtLeast(n) {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
