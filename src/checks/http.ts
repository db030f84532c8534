/**
 * `http://` and `https://`: ready when one `GET` answers with a 2xx status,
 * or with one of the statuses given by `--http-status`.
 *
 * The request is written by hand over a socket (HTTP/1.1, `Connection:
 * close`) and only the status line and headers are read: `probe` runs every
 * few seconds in every container, and Deno's first `fetch` costs more than
 * the rest of a probe.
 *
 * Redirects are not followed: a 3xx is the answer of the URL that was given,
 * so it is "not ready" (the message names the `Location`) unless its status
 * is listed in `--http-status`. A health endpoint that redirects usually
 * means a wrong URL (a missing or extra trailing slash, http instead of
 * https), and following it would check another endpoint than the one named.
 *
 * `https://` verifies the certificate against the default roots (plus
 * `DENO_CERT`); a certificate error is permanent.
 */
import {
  type Check,
  type CheckFactory,
  NotReadyError,
  PermanentError,
} from "./check.ts";
import { connectAny, connectError, raceAbort } from "./connect.ts";
import { hostPort, type Target } from "./target.ts";
import { redactUrl, scrub } from "../config/redact.ts";

/** Most bytes read for the status line and headers. */
const MAX_HEAD = 16 * 1024;

const encoder = new TextEncoder();

/** The request bytes for a target: path and query, Host, Basic auth when the URL has a user. */
export function httpRequest(target: Target): Uint8Array {
  const url = new URL(target.url);
  const defaultPort = target.scheme === "https" ? 443 : 80;
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const lines = [
    `GET ${url.pathname || "/"}${url.search} HTTP/1.1`,
    `Host: ${target.port === defaultPort ? host : `${host}:${target.port}`}`,
    "User-Agent: preflight",
    "Accept: */*",
    "Connection: close",
  ];
  if (target.username !== undefined) {
    const cred = `${target.username}:${target.password ?? ""}`;
    const bytes = encoder.encode(cred);
    lines.push(`Authorization: Basic ${btoa(String.fromCharCode(...bytes))}`);
  }
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}

/** The status and headers of a response head; undefined until the status line is complete. */
export function parseHead(
  text: string,
): { status: number; headers: Map<string, string> } | undefined | "not-http" {
  const eol = text.indexOf("\r\n");
  if (eol < 0) {
    // Enough bytes to tell it is not HTTP at all.
    return text.length >= 8 && !text.startsWith("HTTP/")
      ? "not-http"
      : undefined;
  }
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(text.slice(0, eol));
  if (!m) return "not-http";
  const headers = new Map<string, string>();
  for (const line of text.slice(eol + 2).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
  }
  return { status: Number(m[1]), headers };
}

async function readHead(
  conn: Deno.Conn,
  signal: AbortSignal,
  where: string,
): Promise<{ status: number; headers: Map<string, string> }> {
  const buf = new Uint8Array(4096);
  // One decoder per response: a shared streaming decoder would carry a
  // partial character from one peer's bytes into the next response.
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const n = await raceAbort(conn.read(buf), signal);
    if (n === null) {
      const head = parseHead(text);
      if (head && head !== "not-http") return head;
      throw new NotReadyError(
        `connection closed by ${where} before an HTTP response`,
      );
    }
    text += decoder.decode(buf.subarray(0, n), { stream: true });
    const head = parseHead(text);
    if (head === "not-http") {
      throw new NotReadyError(
        `${where} did not answer with HTTP (it sent ${
          JSON.stringify(text.slice(0, 24))
        })`,
      );
    }
    // Headers end at an empty line; a 3xx needs its Location.
    if (head && (text.includes("\r\n\r\n") || text.length >= MAX_HEAD)) {
      return head;
    }
    if (text.length >= MAX_HEAD) {
      throw new NotReadyError(`${where} sent no HTTP status line`);
    }
  }
}

/** Builds an HTTP check. */
export const httpCheck: CheckFactory = (target, options): Check => {
  const where = hostPort(target);
  const allowed = options.httpStatus;
  const isReady = (status: number) =>
    allowed && allowed.length > 0
      ? allowed.includes(status)
      : status >= 200 && status < 300;
  const hide = (text: string) => {
    let out = scrub(text);
    if (target.password) out = out.split(target.password).join("***");
    return out;
  };
  const request = httpRequest(target);

  return {
    id: target.id,
    async check(signal) {
      let conn: Deno.Conn | undefined;
      let head;
      try {
        const tcp = await connectAny({
          host: target.host,
          port: target.port,
          signal,
        });
        conn = tcp;
        if (target.scheme === "https") {
          conn = await raceAbort(
            Deno.startTls(tcp, { hostname: target.host }),
            signal,
            (late) => late.close(),
          );
          await raceAbort((conn as Deno.TlsConn).handshake(), signal);
        }
        await raceAbort(writeAll(conn, request), signal);
        head = await readHead(conn, signal, where);
      } catch (e) {
        if (signal.aborted && !(e instanceof PermanentError)) {
          const timedOut = (signal.reason as Error)?.name === "TimeoutError";
          throw new NotReadyError(
            `no HTTP response from ${where} (${
              timedOut ? "timed out" : "aborted"
            })`,
          );
        }
        const err = connectError(e, where);
        throw err instanceof PermanentError
          ? new PermanentError(hide(err.message))
          : new NotReadyError(hide(err.message));
      } finally {
        try {
          conn?.close();
        } catch { /* already closed */ }
      }
      if (isReady(head.status)) return;
      const location = head.headers.get("location");
      const detail = head.status >= 300 && head.status < 400 && location
        ? ` (redirect to '${hide(redactUrl(location))}', not followed)`
        : "";
      throw new NotReadyError(`HTTP ${head.status} from ${target.id}${detail}`);
    },
  };
};

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
