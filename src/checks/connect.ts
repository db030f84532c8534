/**
 * Opening a TCP (or TLS) connection to a host for a check: every address the
 * name resolves to is tried (`localhost` is often `::1` and `127.0.0.1`), a
 * name that does not resolve yet is "not ready", and the attempt ends when
 * the signal aborts.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { hostPort } from "./target.ts";

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
    );
  }
}

function abortReason(signal: AbortSignal): Error {
  return new NotReadyError(
    signal.reason instanceof Error && signal.reason.name === "TimeoutError"
      ? "timed out"
      : "aborted",
  );
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

/** Classifies a socket error: refused, reset, unreachable are transient. */
export function connectError(e: unknown, where: string): Error {
  if (e instanceof NotReadyError || e instanceof PermanentError) return e;
  const name = (e as Error)?.name ?? "";
  const msg = (e as Error)?.message ?? String(e);
  if (name === "ConnectionRefused") {
    return new NotReadyError(`connection refused by ${where}`);
  }
  if (name === "ConnectionReset") {
    return new NotReadyError(`connection reset by ${where}`);
  }
  if (name === "TimedOut") {
    return new NotReadyError(`connection to ${where} timed out`);
  }
  if (
    /certificate|UnknownIssuer|NotValidForName|BadCertificate|CertNotValid|InvalidCertificate/i
      .test(msg)
  ) {
    return new PermanentError(
      `TLS certificate error from ${where}: ${msg.split("\n")[0]}`,
    );
  }
  return new NotReadyError(`cannot connect to ${where}: ${msg.split("\n")[0]}`);
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
