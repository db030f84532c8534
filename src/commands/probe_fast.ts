/**
 * The healthy probe's short cut.
 *
 * `probe` runs every few seconds in every container, and nearly always in the
 * same situation: no option but perhaps `--timeout`, the default target (or
 * plain `http://` URLs of IPv4 addresses), and an app that answers 2xx. This
 * module answers exactly that case with a few lines of code, before the
 * configuration, target and check modules are loaded (loading and
 * first-compiling them is most of a probe's cost).
 *
 * It can only say "healthy". Whenever it is not certain that the full probe
 * (commands/probe.ts) would answer 0 for the same command line and
 * environment — any other option or probe variable, any other kind of URL, a
 * refused connection, a status other than 2xx, a response it does not read in
 * full, no complete answer within {@linkcode FAST_WINDOW_MS} — it declines at
 * once, and main.ts runs the full probe with what is left of the deadline
 * (nearly all of it). So the full probe alone decides every unhealthy verdict
 * and writes every message; tests/probe_fast_test.ts checks both directions
 * of that claim against the full probe, alone and through the CLI.
 */

import { parseDuration } from "../config/duration.ts";

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

/** What the short cut checks, and its deadline. */
export interface FastPlan {
  readonly targets: FastTarget[];
  readonly timeoutMs: number;
}

/** A `--timeout` value as the full probe reads it, or undefined if it would not accept it. */
function timeoutOf(raw: string): number | undefined {
  const ms = parseDuration(raw.trim());
  return ms === undefined || ms === 0 ? undefined : ms;
}

/**
 * The short cut's plan for a probe command line, when all of it is in the
 * short cut's domain: plain targets and at most one `--timeout`, and none of
 * {@linkcode PROBE_VARIABLES} but a valid `PREFLIGHT_TIMEOUT`. Undefined
 * otherwise (the full probe then runs, and reports any error).
 */
export function fastPlan(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): FastPlan | undefined {
  if (args[0] !== "probe") return undefined;
  let timeoutMs = DEFAULT_PROBE_TIMEOUT_MS;
  for (const name of PROBE_VARIABLES) {
    const value = env[name];
    if (value === undefined) continue;
    if (name !== "PREFLIGHT_TIMEOUT") return undefined;
    const ms = timeoutOf(value);
    if (ms === undefined) return undefined;
    timeoutMs = ms;
  }
  let texts: string[] = [];
  let flag = false;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-")) {
      texts.push(arg);
      continue;
    }
    // The flag wins over the variable, and may be given once.
    if (flag) return undefined;
    flag = true;
    let raw: string | undefined;
    if (arg === "--timeout" || arg === "-t") raw = args[++i];
    else if (arg.startsWith("--timeout=")) raw = arg.slice(10);
    else if (arg.startsWith("-t=")) raw = arg.slice(3);
    else return undefined;
    const ms = raw === undefined ? undefined : timeoutOf(raw);
    if (ms === undefined) return undefined;
    timeoutMs = ms;
  }
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
  return { targets: out, timeoutMs };
}

/**
 * The variables of the options a probe has (the full probe reads no other,
 * and an env file can only be named by one of these). Written out so the
 * short cut does not load the option table; tests/probe_fast_test.ts checks
 * the list against that table.
 */
export const PROBE_VARIABLES: readonly string[] = [
  "PREFLIGHT_TIMEOUT",
  "PREFLIGHT_HTTP_STATUS",
  "PREFLIGHT_JSON",
  "PREFLIGHT_ENV_FILE",
  "PREFLIGHT_LOG_FORMAT",
  "PREFLIGHT_LOG_LEVEL",
  "PREFLIGHT_LOG_PREFIX",
];

/**
 * Longest the short cut waits for the answers, in ms (a tenth of the deadline
 * when that is shorter): a healthy health endpoint answers in a few ms, and
 * whatever takes longer is left to the full probe with nearly all of the
 * deadline still to go, so its verdict and message are its own.
 */
export const FAST_WINDOW_MS = 250;

/**
 * The probe's default `--timeout`, in ms. Written out so the short cut does
 * not load the option table; tests/probe_fast_test.ts checks it against that
 * table.
 */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** True when `text` holds a complete response head with a 2xx status. */
export function isHealthyHead(text: string): boolean {
  const eol = text.indexOf("\r\n");
  if (eol < 0 || !text.includes("\r\n\r\n")) return false;
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(text.slice(0, eol));
  return m !== null && m[1][0] === "2";
}

/** The bytes of an ASCII text (the request is ASCII by construction). */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Where the head ends (`\r\n\r\n`), or -1. */
function headEnd(buf: Uint8Array, n: number): number {
  for (let i = 3; i < n; i++) {
    if (
      buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 &&
      buf[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

async function healthy(
  t: FastTarget,
  connecting: Promise<Deno.TcpConn>,
  expired: Promise<never>,
): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Promise.race([connecting, expired]);
    const bytes = ascii(t.request);
    for (let off = 0; off < bytes.length;) {
      off += await Promise.race([conn.write(bytes.subarray(off)), expired]);
    }
    const buf = new Uint8Array(16 * 1024);
    let n = 0;
    while (n < buf.length) {
      const got = await Promise.race([conn.read(buf.subarray(n)), expired]);
      if (got === null) break;
      n += got;
      const end = headEnd(buf, n);
      // Latin-1 is enough to read a status line; bytes beyond ASCII in the
      // head can only make it "not healthy" here, and the full probe decides.
      if (end >= 0) {
        return isHealthyHead(String.fromCharCode(...buf.subarray(0, end)));
      }
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
 * True only when every target answered 2xx within the short cut's window;
 * false, as soon as one did not, means "ask the full probe", never
 * "unhealthy".
 */
export function probeHealthy(
  targets: readonly FastTarget[],
  timeoutMs: number,
): Promise<boolean> {
  // Connect first: the window is set up while the kernel connects.
  const connecting = targets.map((t) =>
    Deno.connect({ hostname: t.hostname, port: t.port })
  );
  // Rejected when the window ends or a target is not healthy: every pending
  // exchange then stops and closes its connection.
  let giveUp!: () => void;
  const over = new Promise<never>((_, reject) => {
    giveUp = () => reject(new Error("declined"));
  });
  over.catch(() => {});
  const patience = AbortSignal.timeout(
    Math.max(1, Math.min(FAST_WINDOW_MS, Math.floor(timeoutMs / 10))),
  );
  patience.onabort = giveUp;
  return new Promise<boolean>((resolve) => {
    let left = targets.length;
    targets.forEach((t, i) =>
      healthy(t, connecting[i], over).then((ok) => {
        if (ok && --left > 0) return;
        patience.onabort = null;
        if (!ok) giveUp();
        resolve(ok);
      })
    );
  });
}
