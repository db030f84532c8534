/**
 * Throwaway `redis-server` processes for integration tests: on a free port of
 * 127.0.0.1, no persistence, an optional password, ACL user and TLS. Stopped
 * and removed by `stop()` / `await using`, also when a test fails.
 *
 * ```ts
 * await using redis = await startRedis({ password: "s3cret", tls: true });
 * const url = redis.url({ db: 2 }); // rediss://:s3cret@127.0.0.1:PORT/2?cacert=...
 * ```
 */
import { freePort } from "./_servers.ts";

const REDIS_SERVER = "redis-server";

/** How {@linkcode startRedis} configures the server. */
export interface RedisOptions {
  /** Password of the `default` user (`requirepass`). */
  password?: string;
  /**
   * An ACL user with every permission and this password; with it, the
   * `default` user is disabled unless `password` is also given.
   */
  user?: { name: string; password: string };
  /** Serve TLS only (`--tls-port`), with a certificate for localhost/127.0.0.1/::1 signed by a fresh CA (`caFile`). */
  tls?: boolean;
}

/** Parts of the URL {@linkcode RedisServer.url} builds. */
export interface RedisUrlOptions {
  /** User name; default none, or `user.name` if only an ACL user exists. */
  user?: string;
  /** Password; default the server's (`user.password` for the ACL user). `null` for none. */
  password?: string | null;
  /** Database number. */
  db?: number;
  /** Add `?cacert=` with the test CA (default true when TLS is on). */
  cacert?: boolean;
}

/** A running throwaway Redis. */
export interface RedisServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The CA that signed the server certificate, when `tls` is on. */
  readonly caFile?: string;
  /** A `redis://` (or `rediss://`) URL for this server. */
  url(opts?: RedisUrlOptions): string;
  /** The server's log so far. */
  log(): Promise<string>;
  /** Stops the server and removes its files. Idempotent. */
  stop(): Promise<void>;
}

let tlsSupport: Promise<boolean> | undefined;

/** True when the installed `redis-server` was built with TLS (Debian's is). */
export function redisSupportsTls(): Promise<boolean> {
  tlsSupport ??= (async () => {
    try {
      const out = await new Deno.Command("ldd", {
        args: [await which(REDIS_SERVER)],
        stdout: "piped",
        stderr: "null",
      }).output();
      return /libssl/.test(new TextDecoder().decode(out.stdout));
    } catch {
      return false;
    }
  })();
  return tlsSupport;
}

async function which(cmd: string): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    try {
      const path = `${dir}/${cmd}`;
      await Deno.stat(path);
      return path;
    } catch { /* not here */ }
  }
  throw new Error(`${cmd} not found (apt-get install -y redis-server)`);
}

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed with code ${out.code}: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
}

const OPENSSL_CONF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = preflight test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
`;

/** PEM files of a fresh CA and a server certificate for localhost, 127.0.0.1 and ::1. */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Creates a CA and a server certificate it signs, with `openssl`, in `dir`. */
export async function createTlsFiles(dir: string): Promise<TlsFiles> {
  const conf = `${dir}/openssl.cnf`;
  await Deno.writeTextFile(conf, OPENSSL_CONF);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await run("openssl", [
    "req",
    "-x509",
    "-new",
    "-config",
    conf,
    "-extensions",
    "v3_ca",
    ...ec,
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "30",
  ], dir);
  await run("openssl", [
    "req",
    "-new",
    "-config",
    conf,
    ...ec,
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "30",
    "-extfile",
    conf,
    "-extensions",
    "v3_server",
    "-out",
    "server.crt",
  ], dir);
  return {
    caFile: `${dir}/ca.crt`,
    certFile: `${dir}/server.crt`,
    keyFile: `${dir}/server.key`,
  };
}

// Servers still running when the process ends (a test crashed before its
// cleanup) are killed; only synchronous calls work in an unload handler.
const live = new Map<Deno.ChildProcess, string>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const [child, dir] of live) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    }
  });
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with no persistence
 * (`--save "" --appendonly no`, in an empty temp directory) and resolves when
 * it answers connections.
 */
export async function startRedis(
  opts: RedisOptions = {},
): Promise<RedisServer> {
  if (opts.tls && !(await redisSupportsTls())) {
    throw new Error("redis-server was built without TLS");
  }
  hookUnload();
  const dir = await Deno.makeTempDir({ prefix: "preflight-redis-" });
  let tls: TlsFiles | undefined;
  try {
    if (opts.tls) tls = await createTlsFiles(dir);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
  const logFile = `${dir}/redis.log`;

  const args = (port: number) => {
    const a = [
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      logFile,
      "--daemonize",
      "no",
      "--databases",
      "16",
    ];
    if (tls) {
      a.push(
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        tls.certFile,
        "--tls-key-file",
        tls.keyFile,
        "--tls-ca-cert-file",
        tls.caFile,
        "--tls-auth-clients",
        "no",
      );
    } else a.push("--port", String(port));
    if (opts.password !== undefined) a.push("--requirepass", opts.password);
    else if (opts.user) a.push("--user", "default", "off");
    if (opts.user) {
      a.push(
        "--user",
        opts.user.name,
        "on",
        `>${opts.user.password}`,
        "~*",
        "&*",
        "+@all",
      );
    }
    return a;
  };

  let child: Deno.ChildProcess | undefined;
  let stderr: Promise<string> = Promise.resolve("");
  let port = 0;
  // Another process may take the free port before redis binds it: retry.
  for (let attempt = 1;; attempt++) {
    port = freePort();
    child = new Deno.Command(REDIS_SERVER, {
      args: args(port),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    live.set(child, dir);
    // Read as it comes (config errors are printed there), so the pipe never fills.
    stderr = new Response(child.stderr).text().catch(() => "");
    if (await waitListening(port, child.status)) break;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    live.delete(child);
    const out = await stderr;
    const log = await Deno.readTextFile(logFile).catch(() => "");
    if (attempt < 3 && /in use/i.test(log + out)) continue;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`redis-server did not start:\n${out}${log}`);
  }

  const proc = child;
  const procStderr = stderr;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      try {
        proc.kill("SIGTERM");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch { /* already exited */ }
      }, 5000);
      await proc.status;
      await procStderr;
      clearTimeout(timer);
      live.delete(proc);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };

  const scheme = tls ? "rediss" : "redis";
  return {
    host: "127.0.0.1",
    port,
    tls: !!tls,
    caFile: tls?.caFile,
    url(u = {}) {
      const user = u.user ??
        (opts.password === undefined ? opts.user?.name : undefined);
      const password = u.password === null ? undefined : u.password ??
        (user !== undefined && user === opts.user?.name
          ? opts.user.password
          : opts.password);
      const auth = user === undefined && password === undefined
        ? ""
        : `${encodeURIComponent(user ?? "")}${
          password === undefined ? "" : `:${encodeURIComponent(password)}`
        }@`;
      const path = u.db === undefined ? "" : `/${u.db}`;
      const query = tls && (u.cacert ?? true)
        ? `?cacert=${encodeURIComponent(tls.caFile)}`
        : "";
      return `${scheme}://${auth}127.0.0.1:${port}${path}${query}`;
    },
    log: () => Deno.readTextFile(logFile).catch(() => ""),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Polls until something listens on the port (true) or the process exits (false). */
async function waitListening(
  port: number,
  exited: Promise<Deno.CommandStatus>,
): Promise<boolean> {
  let done = false;
  exited.then(() => done = true, () => done = true);
  const deadline = Date.now() + 20_000;
  while (!done && Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
