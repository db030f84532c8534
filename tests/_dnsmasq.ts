/**
 * A throwaway `dnsmasq` (Debian's package) serving test records on a free
 * port of 127.0.0.1, UDP and TCP: no upstream servers, no /etc/hosts, no
 * system configuration; names under `test.` are local, so an unknown one is
 * NXDOMAIN. Addresses come from a hosts file that `setHosts()` rewrites
 * during a test: dnsmasq re-reads it on SIGHUP, and `setHosts()` returns
 * once dnsmasq has logged the re-read. CNAME, SRV and TXT records are fixed
 * at start.
 *
 * ```ts
 * await using dns = await startDnsmasq({ hosts: { "db.test": ["10.0.0.5"] } });
 * const url = `dns://db.test?server=${dns.server}`;
 * ```
 */
import { freePort } from "./_servers.ts";

const DNSMASQ = "/usr/sbin/dnsmasq";

/** Why dnsmasq tests cannot run here, or undefined when they can. */
export function dnsmasqMissing(): string | undefined {
  try {
    Deno.statSync(DNSMASQ);
  } catch {
    return `${DNSMASQ} not found (apt-get install -y dnsmasq)`;
  }
  return undefined;
}

/** Names and their addresses (IPv4 and IPv6 mixed). */
export type Hosts = Record<string, string[]>;

/** The records of {@linkcode startDnsmasq}. */
export interface DnsmasqOptions {
  hosts?: Hosts;
  /** alias → target (the target must be in `hosts`, as dnsmasq requires). */
  cnames?: Record<string, string>;
  srv?: {
    name: string;
    target: string;
    port: number;
    priority?: number;
    weight?: number;
  }[];
  /** name → text. */
  txt?: Record<string, string>;
}

/** A running dnsmasq. */
export interface DnsmasqServer extends AsyncDisposable {
  readonly port: number;
  /** `127.0.0.1:PORT`, as a `server=` option takes it. */
  readonly server: string;
  /** Replaces the addresses and waits until dnsmasq has re-read them. */
  setHosts(hosts: Hosts): Promise<void>;
  /** What dnsmasq logged so far (queries included). */
  log(): string;
  /** Stops dnsmasq and removes its files. Idempotent. */
  stop(): Promise<void>;
}

function hostsFile(hosts: Hosts): string {
  return Object.entries(hosts)
    .flatMap(([name, addresses]) => addresses.map((a) => `${a} ${name}`))
    .join("\n") + "\n";
}

// Servers left when the process ends (a test crashed before its cleanup).
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

/** Starts dnsmasq and resolves once it has read its hosts file and answers. */
export async function startDnsmasq(
  opts: DnsmasqOptions = {},
): Promise<DnsmasqServer> {
  const missing = dnsmasqMissing();
  if (missing) throw new Error(missing);
  hookUnload();
  const dir = await Deno.makeTempDir({ prefix: "preflight-dnsmasq-" });
  dirs.add(dir);
  // dnsmasq drops root for its own user, which must still read the file.
  await Deno.chmod(dir, 0o755);
  const hosts = `${dir}/hosts`;
  await Deno.writeTextFile(hosts, hostsFile(opts.hosts ?? {}), { mode: 0o644 });
  await Deno.chmod(hosts, 0o644);

  const records = [
    ...Object.entries(opts.cnames ?? {}).map(([a, t]) => `--cname=${a},${t}`),
    ...(opts.srv ?? []).map((s) =>
      `--srv-host=${s.name},${s.target},${s.port},${s.priority ?? 0},${
        s.weight ?? 0
      }`
    ),
    ...Object.entries(opts.txt ?? {}).map(([n, t]) => `--txt-record=${n},${t}`),
  ];

  let text = "";
  let reads = 0;
  const waiters = new Set<() => void>();
  let child: Deno.ChildProcess | undefined;
  let port = 0;
  // Another process may take the free port before dnsmasq binds it: retry.
  for (let attempt = 1;; attempt++) {
    port = freePort();
    text = "";
    child = new Deno.Command(DNSMASQ, {
      args: [
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--log-facility=-",
        "--log-queries",
        "--pid-file=",
        `--port=${port}`,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--local=/test/",
        `--addn-hosts=${hosts}`,
        ...records,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    live.add(child);
    const proc = child;
    // Logs come line by line on stderr; each "read HOSTS" is a (re)load.
    (async () => {
      const decoder = new TextDecoderStream();
      for await (const chunk of proc.stderr.pipeThrough(decoder)) {
        text += chunk;
        reads = text.split(`read ${hosts}`).length - 1;
        for (const w of waiters) w();
      }
      for (const w of waiters) w();
    })().catch(() => {});
    const status = proc.status.then((s) => {
      live.delete(proc);
      for (const w of waiters) w();
      return s;
    });
    const first = await untilLogged(() => reads >= 1, status, waiters);
    if (first) break;
    if (attempt < 3 && /in use/i.test(text)) continue;
    throw new Error(`dnsmasq did not start:\n${text}`);
  }

  const proc = child;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      try {
        proc.kill("SIGTERM");
      } catch { /* already exited */ }
      await proc.status;
      live.delete(proc);
      dirs.delete(dir);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };
  return {
    port,
    server: `127.0.0.1:${port}`,
    async setHosts(next) {
      const before = reads;
      await Deno.writeTextFile(hosts, hostsFile(next));
      proc.kill("SIGHUP");
      if (!(await untilLogged(() => reads > before, proc.status, waiters))) {
        throw new Error(`dnsmasq exited:\n${text}`);
      }
    },
    log: () => text,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Resolves true when `done()` holds (checked at each log line), false if the process exits first. */
function untilLogged(
  done: () => boolean,
  exited: Promise<unknown>,
  waiters: Set<() => void>,
): Promise<boolean> {
  return new Promise((resolve) => {
    let over = false;
    const check = () => {
      if (over || !done()) return;
      over = true;
      waiters.delete(check);
      resolve(true);
    };
    waiters.add(check);
    exited.then(() => {
      if (over) return;
      over = true;
      waiters.delete(check);
      resolve(done());
    });
    check();
  });
}
