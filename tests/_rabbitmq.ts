/**
 * Throwaway RabbitMQ nodes (Debian's `rabbitmq-server`) for integration
 * tests: a node of its own name, with its own `epmd`, AMQP, TLS and
 * distribution ports free on 127.0.0.1, its database, logs and Erlang cookie
 * in a temp directory, and users, virtual hosts and permissions from a
 * definitions file. A node boots in several seconds here; tests share one
 * where they can. Stopped and removed by `stop()` / `await using`, also when
 * a test fails.
 *
 * ```ts
 * await using mq = await startRabbitMq({ users: [{ name: "app", password: "pw", vhosts: ["app"] }], vhosts: ["app"] });
 * const url = mq.url({ user: "app", password: "pw", vhost: "app" });
 * ```
 */
import { freePort } from "./_servers.ts";
import { createTlsFiles, type TlsFiles } from "./_redis.ts";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const EPMD = "/usr/bin/epmd";

/** Why RabbitMQ tests cannot run here, or undefined when they can. */
export function rabbitMqMissing(): string | undefined {
  for (const file of [SERVER, EPMD]) {
    try {
      Deno.statSync(file);
    } catch {
      return `${file} not found (apt-get install -y rabbitmq-server)`;
    }
  }
  return undefined;
}

/** A user of the node and the virtual hosts it may use. */
export interface RabbitMqUser {
  name: string;
  password: string;
  /** Virtual hosts with every permission. */
  vhosts: string[];
}

/** How {@linkcode startRabbitMq} sets up the node. */
export interface RabbitMqOptions {
  users?: RabbitMqUser[];
  /** Virtual hosts to create (default: only "/"). */
  vhosts?: string[];
  /** Also listen for AMQPS with a certificate signed by a fresh CA (`caFile`). */
  tls?: boolean;
  /** Choose the ports but boot only on `start()`: connections are refused until then. */
  deferStart?: boolean;
}

/** Parts of a URL built by {@linkcode RabbitMqServer.url}. */
export interface RabbitMqUrlOptions {
  user?: string;
  password?: string;
  /** Encoded into the path ("/" becomes %2F); none: no path. */
  vhost?: string;
  /** amqps:// to the TLS port, with `cacertfile` (default true when given). */
  tls?: boolean;
}

/** A throwaway RabbitMQ node. */
export interface RabbitMqServer extends AsyncDisposable {
  readonly host: string;
  /** The AMQP port. */
  readonly port: number;
  /** The AMQPS port, when `tls` is on. */
  readonly tlsPort?: number;
  readonly caFile?: string;
  /** Resolves when the broker answers the protocol header with Connection.Start. */
  readonly ready: Promise<void>;
  url(opts?: RabbitMqUrlOptions): string;
  /** Boots a `deferStart` node; resolves at once (await `ready`). */
  start(): void;
  /** The node's log so far. */
  log(): Promise<string>;
  /** Stops the node and its epmd, removes its files. Idempotent. */
  stop(): Promise<void>;
}

// Nodes and directories left when the process ends (a test crashed before
// its cleanup): only synchronous calls work in an unload handler.
const live = new Set<number>(); // process group ids
const dirs = new Set<string>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const group of live) {
      try {
        Deno.kill(-group, "SIGKILL");
      } catch { /* already exited */ }
    }
    for (const dir of dirs) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    }
  });
}

/** RabbitMQ's default hash: base64(salt ‖ SHA-256(salt ‖ password)), 4-byte salt. */
async function passwordHash(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(4));
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new Uint8Array([...salt, ...new TextEncoder().encode(password)]),
    ),
  );
  return btoa(String.fromCharCode(...salt, ...digest));
}

async function definitions(opts: RabbitMqOptions): Promise<string> {
  const users = opts.users ?? [];
  return JSON.stringify({
    users: await Promise.all(users.map(async (u) => ({
      name: u.name,
      password_hash: await passwordHash(u.password),
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: [],
    }))),
    vhosts: (opts.vhosts ?? ["/"]).map((name) => ({ name })),
    permissions: users.flatMap((u) =>
      u.vhosts.map((vhost) => ({
        user: u.name,
        vhost,
        configure: ".*",
        write: ".*",
        read: ".*",
      }))
    ),
  });
}

/** Spawns a command in a new process group (setsid), so that the whole group can be signalled. */
function spawnGroup(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Deno.ChildProcess {
  return new Deno.Command("setsid", {
    args: [cmd, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a RabbitMQ node (unless `deferStart`) and resolves when it is
 * booting; `ready` resolves when its AMQP port answers with
 * Connection.Start.
 */
export async function startRabbitMq(
  opts: RabbitMqOptions = {},
): Promise<RabbitMqServer> {
  const missing = rabbitMqMissing();
  if (missing) throw new Error(missing);
  hookUnload();
  const dir = await Deno.makeTempDir({ prefix: "preflight-rabbitmq-" });
  dirs.add(dir);
  let tls: TlsFiles | undefined;
  const port = freePort();
  const tlsPort = opts.tls ? freePort() : undefined;
  const distPort = freePort();
  const epmdPort = freePort();
  const node = `preflight-${crypto.randomUUID().slice(0, 8)}@localhost`;
  const logDir = `${dir}/log`;
  let epmd: Deno.ChildProcess | undefined;
  let server: Deno.ChildProcess | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      for (const child of [server, epmd]) {
        if (!child) continue;
        // The group: the start script, beam and its helpers.
        try {
          Deno.kill(-child.pid, "SIGTERM");
        } catch { /* already exited */ }
        const timer = setTimeout(() => {
          try {
            Deno.kill(-child.pid, "SIGKILL");
          } catch { /* already exited */ }
        }, 15_000);
        await child.status;
        clearTimeout(timer);
        live.delete(child.pid);
      }
      dirs.delete(dir);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };

  try {
    if (opts.tls) tls = await createTlsFiles(dir);
    await Deno.writeTextFile(
      `${dir}/definitions.json`,
      await definitions(opts),
    );
    const conf = [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      `load_definitions = ${dir}/definitions.json`,
      "log.console = false",
      "log.file.level = info",
      ...(tls
        ? [
          `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
          `ssl_options.cacertfile = ${tls.caFile}`,
          `ssl_options.certfile = ${tls.certFile}`,
          `ssl_options.keyfile = ${tls.keyFile}`,
          "ssl_options.verify = verify_none",
          "ssl_options.fail_if_no_peer_cert = false",
        ]
        : []),
    ];
    await Deno.writeTextFile(`${dir}/rabbitmq.conf`, conf.join("\n") + "\n");
    await Deno.writeTextFile(`${dir}/enabled_plugins`, "[].\n");
    await Deno.writeTextFile(`${dir}/advanced.config`, "[].\n");
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: dir, // the Erlang cookie goes there
      LANG: "C.UTF-8",
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
      RABBITMQ_LOG_BASE: logDir,
      RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.conf`,
      RABBITMQ_ADVANCED_CONFIG_FILE: `${dir}/advanced.config`,
      RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
      RABBITMQ_PLUGINS_EXPAND_DIR: `${dir}/plugins-expand`,
      RABBITMQ_PID_FILE: `${dir}/rabbitmq.pid`,
      // Distribution on loopback only, through our own epmd.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:
        "-kernel inet_dist_use_interface {127,0,0,1}",
      ERL_EPMD_ADDRESS: "127.0.0.1",
      ERL_EPMD_PORT: String(epmdPort),
    };
    epmd = spawnGroup(
      EPMD,
      ["-port", String(epmdPort), "-address", "127.0.0.1"],
      env,
    );
    live.add(epmd.pid);
    await untilListening(epmdPort, epmd.status);

    let ready: Promise<void> | undefined;
    const start = () => {
      if (server) return;
      server = spawnGroup(SERVER, [], env);
      live.add(server.pid);
      ready = untilStart(port, server.status, log);
      ready.catch(() => {}); // observed by whoever awaits it
    };
    const log = async () => {
      let text = "";
      try {
        for await (const e of Deno.readDir(logDir)) {
          if (e.name.endsWith(".log")) {
            text += await Deno.readTextFile(`${logDir}/${e.name}`);
          }
        }
      } catch { /* not written yet, or removed */ }
      return text;
    };
    if (!opts.deferStart) start();
    return {
      host: "127.0.0.1",
      port,
      tlsPort,
      caFile: tls?.caFile,
      get ready() {
        return ready ?? Promise.reject(new Error("the node was not started"));
      },
      url(u = {}) {
        const secure = u.tls ?? false;
        const auth = u.user === undefined
          ? ""
          : `${encodeURIComponent(u.user)}${
            u.password === undefined ? "" : `:${encodeURIComponent(u.password)}`
          }@`;
        const path = u.vhost === undefined
          ? ""
          : `/${encodeURIComponent(u.vhost)}`;
        const query = secure && tls
          ? `?cacertfile=${encodeURIComponent(tls.caFile)}`
          : "";
        return `${secure ? "amqps" : "amqp"}://${auth}127.0.0.1:${
          secure ? tlsPort : port
        }${path}${query}`;
      },
      start,
      log,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Polls until the port accepts TCP, or the process exits (then throws). */
async function untilListening(
  port: number,
  exited: Promise<unknown>,
): Promise<void> {
  let done = false;
  exited.then(() => done = true);
  const deadline = Date.now() + 20_000;
  while (!done && Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch { /* not yet */ }
    await delay(20);
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Polls until the AMQP port answers the protocol header with a method frame. */
async function untilStart(
  port: number,
  exited: Promise<unknown>,
  log: () => Promise<string>,
): Promise<void> {
  let done = false;
  exited.then(() => done = true);
  const deadline = Date.now() + 120_000;
  while (!done && Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]));
        const buf = new Uint8Array(1);
        if ((await conn.read(buf)) === 1 && buf[0] === 1) return;
      } finally {
        conn.close();
      }
    } catch { /* not yet */ }
    await delay(50);
  }
  throw new Error(
    `RabbitMQ ${done ? "exited" : "did not answer in 120 s"}:\n${await log()}`,
  );
}
