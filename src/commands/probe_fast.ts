/**
 * The healthy probe's short cut.
 *
 * `probe` runs every few seconds in every container, and nearly always in the
 * same situation: no options, the default target (or plain `http://` URLs of
 * IPv4 addresses), and an app that answers 2xx. This module answers exactly
 * that case with a few lines of code, before the configuration, target and
 * check modules are loaded (loading and first-compiling them is most of a
 * probe's cost).
 *
 * It can only say "healthy". Whenever it is not certain that the full probe
 * (commands/probe.ts) would answer 0 for the same command line and
 * environment — any option, any `PREFLIGHT_*` variable, any other kind of
 * URL, a refused connection, a status other than 2xx, a response it does not
 * read in full — it declines, and main.ts runs the full probe with what is
 * left of the deadline. So the full probe alone decides every unhealthy
 * verdict and writes every message; tests/probe_fast_test.ts checks both
 * directions of that claim against the full probe.
 */

/** One target the short cut can check: where to connect, what to send. */
export interface FastTarget {
  readonly hostname: string;
  readonly port: number;
  readonly request: string;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
/**
 * `http://A.B.C.D:PORT/path` with nothing the URL parser would rewrite: no
 * leading zeros (octal in WHATWG URLs), no user, query, fragment, percent
 * escape or dot segment, only unreserved characters in the path.
 */
const SIMPLE_HTTP = new RegExp(
  `^http://(${OCTET}(?:\\.${OCTET}){3})(?::([1-9]\\d{0,4}))?` +
    "((?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?)$",
);

/**
 * The targets of a probe command line, when every one is in the short cut's
 * domain; undefined otherwise (the full probe then runs).
 */
export function fastTargets(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): FastTarget[] | undefined {
  if (args[0] !== "probe") return undefined;
  // Every variable that configures a probe is PREFLIGHT_* (env files too).
  for (const name in env) if (name.startsWith("PREFLIGHT_")) return undefined;
  let texts = args.slice(1);
  if (texts.length === 0) {
    // The default target, as defaultProbeTarget builds it from PORT.
    const port = env.PORT || "8000";
    if (!/^[1-9]\d{0,4}$/.test(port)) return undefined;
    texts = [`http://127.0.0.1:${port}/health`];
  }
  const out: FastTarget[] = [];
  for (const text of texts) {
    const m = SIMPLE_HTTP.exec(text);
    if (!m) return undefined;
    const port = m[2] === undefined ? 80 : Number(m[2]);
    if (port > 65535) return undefined;
    const host = port === 80 ? m[1] : `${m[1]}:${port}`;
    out.push({
      hostname: m[1],
      port,
      // Byte for byte what checks/http.ts sends (tested).
      request: `GET ${m[3] || "/"} HTTP/1.1\r\nHost: ${host}\r\n` +
        "User-Agent: preflight\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    });
  }
  return out;
}

/**
 * The probe's default `--timeout`, in ms: no PREFLIGHT_TIMEOUT applies here,
 * by construction. Written out so the short cut does not load the option
 * table; tests/probe_fast_test.ts checks it against that table.
 */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** True when `text` holds a complete response head with a 2xx status. */
export function isHealthyHead(text: string): boolean {
  const eol = text.indexOf("\r\n");
  if (eol < 0 || !text.includes("\r\n\r\n")) return false;
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(text.slice(0, eol));
  return m !== null && m[1][0] === "2";
}

async function healthy(t: FastTarget, expired: Promise<never>) {
  let conn: Deno.TcpConn | undefined;
  const connecting = Deno.connect({ hostname: t.hostname, port: t.port });
  try {
    conn = await Promise.race([connecting, expired]);
    const bytes = new TextEncoder().encode(t.request);
    for (let off = 0; off < bytes.length;) {
      off += await Promise.race([conn.write(bytes.subarray(off)), expired]);
    }
    const buf = new Uint8Array(16 * 1024);
    let n = 0;
    while (n < buf.length) {
      const got = await Promise.race([conn.read(buf.subarray(n)), expired]);
      if (got === null) break;
      n += got;
      const text = new TextDecoder().decode(buf.subarray(0, n));
      if (text.includes("\r\n\r\n")) return isHealthyHead(text);
    }
    return false;
  } catch {
    connecting.then((c) => c !== conn && c.close(), () => {});
    return false;
  } finally {
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/**
 * True only when every target answered 2xx within `timeoutMs`; false means
 * "ask the full probe", never "unhealthy".
 */
export async function probeHealthy(
  targets: readonly FastTarget[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = AbortSignal.timeout(timeoutMs);
  let onAbort!: () => void;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error("deadline"));
    deadline.onabort = onAbort;
  });
  expired.catch(() => {});
  const results = await Promise.all(targets.map((t) => healthy(t, expired)));
  deadline.onabort = null;
  return results.every(Boolean);
}
