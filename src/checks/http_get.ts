/**
 * One `GET` of an `http://` or `https://` target, written by hand over a
 * socket (HTTP/1.1, `Connection: close`), reading the status line, the
 * headers and as much of the body as asked for: `probe` runs every few
 * seconds in every container, and Deno's first `fetch` costs more than the
 * rest of a probe. Used by the check and by `doctor` (which reads the body).
 *
 * `https://` verifies the certificate against the default roots (plus
 * `DENO_CERT`); a certificate error is permanent.
 */
import { hideSecrets, NotReadyError, PermanentError } from "./check.ts";
import { connectAny, connectError, raceAbort } from "./connect.ts";
import type { EndpointUrl } from "./endpoint_url.ts";
import { hostPort } from "./target.ts";
import { timedOut } from "../time/timeout_signal.ts";

/** A parsed `http://` or `https://` URL. */
export type HttpTarget = EndpointUrl;

/** Most bytes read for the status line and headers. */
const MAX_HEAD = 16 * 1024;

const encoder = new TextEncoder();

/** The request bytes for a target: path and query, Host, Basic auth when the URL has a user. */
export function httpRequest(target: HttpTarget): Uint8Array {
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

/** A response: status, lower-cased headers, and as much of the body as was asked for. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: Uint8Array;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function headerEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

/** Decodes a chunked body as far as it goes. */
function dechunk(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let eol = pos;
    while (
      eol + 1 < bytes.length && !(bytes[eol] === 13 && bytes[eol + 1] === 10)
    ) eol++;
    if (eol + 1 >= bytes.length) break;
    const size = parseInt(
      new TextDecoder().decode(bytes.subarray(pos, eol)).split(";")[0],
      16,
    );
    if (!(size > 0)) break;
    parts.push(bytes.subarray(eol + 2, Math.min(bytes.length, eol + 2 + size)));
    pos = eol + 2 + size + 2;
  }
  return parts.reduce(concat, new Uint8Array(0));
}

/**
 * An interim response (`100 Continue`, `103 Early Hints`...): a head with no
 * body, followed by the final response on the same connection. `101
 * Switching Protocols` ends HTTP instead, so it counts as final.
 */
function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

/**
 * Reads the status line and headers of the final response (interim 1xx
 * responses are skipped), then up to `maxBody` bytes of the body (0: none;
 * the connection is closed without reading it).
 */
async function readResponse(
  conn: Deno.Conn,
  signal: AbortSignal,
  where: string,
  maxBody: number,
): Promise<HttpResponse> {
  const buf = new Uint8Array(8192);
  let bytes: Uint8Array = new Uint8Array(0);
  let end = -1;
  let head: { status: number; headers: Map<string, string> } | undefined;
  let interim = 0;
  while (true) {
    const n = await raceAbort(conn.read(buf), signal);
    if (n === null) break;
    bytes = concat(bytes, buf.subarray(0, n));
    // One read may hold an interim head and the final one: parse until a
    // final head is complete or more bytes are needed.
    while (end < 0) {
      end = headerEnd(bytes);
      // A fresh decoder each time: no state carried between responses.
      const text = new TextDecoder().decode(
        end >= 0 ? bytes.subarray(0, end) : bytes.subarray(0, MAX_HEAD),
      );
      const parsed = parseHead(end >= 0 ? text + "\r\n" : text);
      if (parsed === "not-http") {
        throw new NotReadyError(
          `${where} did not answer with HTTP (it sent ${
            JSON.stringify(text.slice(0, 24))
          })`,
        );
      }
      if (end < 0) {
        if (bytes.length < MAX_HEAD) break;
        if (!parsed) {
          throw new NotReadyError(`${where} sent no HTTP status line`);
        }
        // Headers longer than we read: the status is what matters.
        if (!isInterim(parsed.status)) {
          return { ...parsed, body: new Uint8Array(0) };
        }
        throw new NotReadyError(
          `${where} sent an interim HTTP ${parsed.status} head of more than ${MAX_HEAD} bytes`,
        );
      }
      if (isInterim(parsed!.status)) {
        // Skip it; the final response follows. Bounded, as a peer could
        // send interim heads forever.
        if (++interim > 16) {
          throw new NotReadyError(
            `${where} sent only interim HTTP ${parsed!.status} responses`,
          );
        }
        bytes = bytes.subarray(end + 4);
        end = -1;
        continue;
      }
      head = parsed!;
      if (maxBody === 0) return { ...head, body: new Uint8Array(0) };
    }
    if (!head) continue;
    const length = Number(head.headers.get("content-length") ?? NaN);
    const got = bytes.length - (end + 4);
    if (got >= maxBody || got >= length) break;
  }
  if (!head) {
    const parsed = parseHead(new TextDecoder().decode(bytes));
    if (parsed && parsed !== "not-http" && !isInterim(parsed.status)) {
      return { ...parsed, body: new Uint8Array(0) };
    }
    throw new NotReadyError(
      interim > 0
        ? `connection closed by ${where} before a final HTTP response (only interim ones)`
        : `connection closed by ${where} before an HTTP response`,
    );
  }
  let body: Uint8Array = bytes.subarray(end + 4);
  if (/chunked/i.test(head.headers.get("transfer-encoding") ?? "")) {
    body = dechunk(body);
  }
  return { ...head, body: body.subarray(0, maxBody) };
}

/**
 * One `GET` of a target over a plain socket (TLS for https), reading up to
 * `maxBody` bytes of the body. Failures are typed and worded for logs:
 * NotReadyError (refused, reset, not HTTP, timed out), PermanentError (TLS
 * certificate); the password never appears.
 */
export async function httpGet(
  target: HttpTarget,
  signal: AbortSignal,
  maxBody = 0,
): Promise<HttpResponse> {
  const where = hostPort(target);
  let conn: Deno.Conn | undefined;
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
    await raceAbort(writeAll(conn, httpRequest(target)), signal);
    return await readResponse(conn, signal, where, maxBody);
  } catch (e) {
    if (signal.aborted && !(e instanceof PermanentError)) {
      throw new NotReadyError(
        `no HTTP response from ${where} (${
          timedOut(signal) ? "timed out" : "aborted"
        })`,
        { cause: e },
      );
    }
    throw hideSecrets(connectError(e, where), target.password);
  } finally {
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
