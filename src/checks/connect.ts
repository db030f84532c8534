/**
 * Opening a TCP (or TLS) connection to a host for a check: every address the
 * name resolves to is tried (`localhost` is often `::1` and `127.0.0.1`), a
 * name that does not resolve yet is "not ready", and the attempt ends when
 * the signal aborts.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { hostPort } from "./target.ts";
import { timedOut } from "../time/timeout_signal.ts";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for an IPv4 or IPv6 literal (no name resolution needed). */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) ||
    (host.includes(":") && /^[0-9a-f:.%a-z]+$/i.test(host));
}

/** Resolves a host name to every address, as getaddrinfo does (/etc/hosts included). */
export async function resolveAll(host: string): Promise<string[]> {
  if (isIpLiteral(host)) return [host];
  // Loaded only for names: `probe` of 127.0.0.1 does not pay for node:dns.
  const { lookup } = await import("node:dns/promises");
  try {
    const found = await lookup(host, { all: true, verbatim: true });
    const addrs = [...new Set(found.map((a) => a.address))];
    if (addrs.length === 0) throw new Error("no address");
    return addrs;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    throw new NotReadyError(
      `host '${host}' does not resolve${code ? ` (${code})` : ""}`,
      { cause: e },
    );
  }
}

function abortReason(signal: AbortSignal): Error {
  return new NotReadyError(timedOut(signal) ? "timed out" : "aborted");
}

/** Rejects when the signal aborts; the returned function removes the listener. */
export function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal,
  onLate?: (v: T) => void,
): Promise<T> {
  if (signal.aborted) {
    p.then((v) => onLate?.(v), () => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.then((v) => onLate?.(v), () => {});
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) onLate?.(v);
        else resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** TLS verification failures of `node:tls` (the npm clients), by code. */
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const CERTIFICATE =
  /certificate|altnames|self[- ]signed|UnknownIssuer|NotValidForName|BadCertificate|CertNotValid|InvalidCertificate/i;

/**
 * Classifies a failure to reach a server, from `Deno.connect` (error names)
 * or from `node:net` inside an npm client (error codes), worded once for
 * every check, `doctor` and the migration lock: refused, reset, timed out
 * and unresolved are transient; a TLS certificate the roots do not vouch
 * for is permanent. Errors already classified pass through; anything else
 * is "cannot connect", transient. The original is the `cause`.
 */
export function connectError(e: unknown, where: string): Error {
  if (e instanceof NotReadyError || e instanceof PermanentError) return e;
  return reachFailure(e, where) ??
    new NotReadyError(
      `cannot connect to ${where}: ${messageOf(e)}`,
      { cause: e },
    );
}

function messageOf(e: unknown): string {
  return String((e as { message?: unknown })?.message ?? e).split("\n")[0];
}

/**
 * The failure to reach `where` that `e` is (see {@linkcode connectError}),
 * or undefined when it is not one: a protocol's classifier asks this first,
 * then words its own errors.
 */
export function reachFailure(e: unknown, where: string): Error | undefined {
  const err = (e ?? {}) as { name?: unknown; code?: unknown };
  const name = typeof err.name === "string" ? err.name : "";
  const code = typeof err.code === "string" ? err.code : "";
  const msg = messageOf(e);
  const cause = { cause: e };
  if (name === "ConnectionRefused" || code === "ECONNREFUSED") {
    return new NotReadyError(`connection refused by ${where}`, cause);
  }
  if (
    name === "ConnectionReset" || name === "BrokenPipe" ||
    code === "ECONNRESET" || code === "EPIPE"
  ) {
    return new NotReadyError(`connection reset by ${where}`, cause);
  }
  if (name === "TimedOut" || code === "ETIMEDOUT") {
    return new NotReadyError(`connection to ${where} timed out`, cause);
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new NotReadyError(
      `host of ${where} does not resolve (${code})`,
      cause,
    );
  }
  if (TLS_CODES.has(code) || CERTIFICATE.test(msg)) {
    return new PermanentError(
      `TLS certificate error from ${where}: ${msg}`,
      cause,
    );
  }
  return undefined;
}

export interface ConnectOptions {
  host: string;
  port: number;
  signal: AbortSignal;
}

/**
 * Connects to the first address of `host` that accepts, trying all of them
 * at once (a dead IPv6 address must not delay a live IPv4 one).
 */
export async function connectAny(opts: ConnectOptions): Promise<Deno.TcpConn> {
  const where = hostPort(opts);
  const addrs = await raceAbort(resolveAll(opts.host), opts.signal);
  const errors: unknown[] = [];
  return await new Promise<Deno.TcpConn>((resolve, reject) => {
    let pending = addrs.length;
    let won = false;
    const onAbort = () => {
      if (!won) {
        won = true;
        reject(abortReason(opts.signal));
      }
    };
    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener("abort", onAbort, { once: true });
    for (const hostname of addrs) {
      Deno.connect({ hostname, port: opts.port }).then((conn) => {
        if (won) {
          conn.close();
          return;
        }
        won = true;
        opts.signal.removeEventListener("abort", onAbort);
        resolve(conn);
      }, (e) => {
        errors.push(e);
        if (--pending === 0 && !won) {
          won = true;
          opts.signal.removeEventListener("abort", onAbort);
          reject(connectError(errors[0], where));
        }
      });
    }
  });
}
