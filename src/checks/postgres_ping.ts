/**
 * The `pg_isready`-level PostgreSQL check, for a target without a user: it
 * sends a startup packet and reads the first reply. An authentication
 * demand or any error means the server is up; SQLSTATE 57P03 ("the
 * database system is starting up", a standby not yet accepting) means not
 * ready, and so does anything that is not a PostgreSQL reply (a proxy that
 * accepts and closes, a silent or garbage-speaking peer). No client library
 * does this, so the few bytes of protocol are spoken here. Like PQping, it
 * ignores target_session_attrs: judging a session needs a login.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { connectAny, connectError } from "./connect.ts";
import { abortedError, attemptSignal } from "./attempt_signal.ts";
import { type Endpoint, isSocketDir, socketPath } from "./postgres_hosts.ts";
import { pgAddress } from "./postgres_url.ts";
import { CANNOT_CONNECT_NOW, serverMessage } from "./postgres_errors.ts";

/** User name sent by the user-less probe; it shows up in the server log when the probe is rejected. */
const PROBE_USER = "preflight_probe";

/** Builds a protocol 3.0 StartupMessage with the given parameters. */
export function startupMessage(params: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(params)) {
    parts.push(enc.encode(k), new Uint8Array([0]), enc.encode(v));
    parts.push(new Uint8Array([0]));
  }
  parts.push(new Uint8Array([0]));
  const bodyLength = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(8 + bodyLength);
  const view = new DataView(out.buffer);
  view.setInt32(0, out.length);
  view.setInt32(4, 3 << 16); // protocol 3.0
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Terminate ('X'): ends a session politely once it is established. */
const TERMINATE = new Uint8Array([0x58, 0, 0, 0, 4]);

/** Largest first reply accepted; real ones are a few hundred bytes. */
const MAX_REPLY = 64 * 1024;

/** What the first bytes from the server say. */
export type FirstReply =
  /** More bytes are needed. */
  | { kind: "partial" }
  /** An authentication request ('R'); `code` 0 is AuthenticationOk. */
  | { kind: "auth"; code: number; length: number }
  /** An ErrorResponse ('E') with its fields (`C` SQLSTATE, `M` message...). */
  | { kind: "error"; fields: Record<string, string>; length: number }
  /** A message to skip before the answer (NoticeResponse, NegotiateProtocolVersion). */
  | { kind: "skip"; length: number }
  /** Not a PostgreSQL reply. */
  | { kind: "garbage"; reason: string };

function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}

/**
 * Parses the first backend message in `bytes`. `length` is the number of
 * bytes the message takes (type byte included).
 */
export function parseFirstReply(bytes: Uint8Array): FirstReply {
  if (bytes.length === 0) return { kind: "partial" };
  const type = String.fromCharCode(bytes[0]);
  if (!"REvN".includes(type)) {
    return {
      kind: "garbage",
      reason: `unexpected first byte ${hexByte(bytes[0])}`,
    };
  }
  if (bytes.length < 5) return { kind: "partial" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(1);
  if (len < 4 || len > MAX_REPLY || (type === "R" && len < 8)) {
    return { kind: "garbage", reason: `invalid message length ${len}` };
  }
  const length = len + 1;
  if (bytes.length < length) return { kind: "partial" };
  if (type === "R") return { kind: "auth", code: view.getInt32(5), length };
  if (type === "E") {
    const fields: Record<string, string> = {};
    const dec = new TextDecoder();
    let at = 5;
    while (at < length && bytes[at] !== 0) {
      const key = String.fromCharCode(bytes[at]);
      const end = bytes.indexOf(0, at + 1);
      if (end < 0 || end >= length) {
        return { kind: "garbage", reason: "malformed error message" };
      }
      fields[key] = dec.decode(bytes.subarray(at + 1, end));
      at = end + 1;
    }
    return { kind: "error", fields, length };
  }
  return { kind: "skip", length };
}

/**
 * The verdict on an ErrorResponse to the startup packet, as libpq's PQping
 * gives it: 57P03 is "rejecting connections" (not ready); any other SQLSTATE
 * means the server is up (wrong user, database, pg_hba, too many clients...);
 * an error without SQLSTATE is "no response" (not ready).
 */
export function errorVerdict(
  fields: Record<string, string>,
  where: string,
): "ready" | NotReadyError {
  const code = fields.C ?? "";
  const message = fields.M ?? "no message";
  if (!/^[0-9A-Z]{5}$/.test(code)) {
    return new NotReadyError(
      `${where} answered with an error without SQLSTATE: ${message}`,
    );
  }
  if (code === CANNOT_CONNECT_NOW) {
    return new NotReadyError(
      `${where} answered: ${serverMessage(message, fields.D)} (${code})`,
    );
  }
  return "ready";
}

/** The startup packet of {@linkcode ping}: the same for every attempt. */
export function probeStartup(): Uint8Array {
  return startupMessage({
    user: PROBE_USER,
    database: "postgres",
    application_name: "preflight",
  });
}

/** Opens a connection to one server: TCP, or its socket file for a Unix-socket directory. */
async function connectTo(
  ep: Endpoint,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (!isSocketDir(ep.host)) {
    return await connectAny({ host: ep.host, port: ep.port, signal });
  }
  const path = socketPath(ep);
  try {
    return await Deno.connect({ transport: "unix", path });
  } catch (e) {
    // No socket file yet: the server has not started (or not created it).
    if (e instanceof Deno.errors.NotFound) {
      throw new NotReadyError(`no socket ${path} (server not started)`, {
        cause: e,
      });
    }
    throw connectError(e, path);
  }
}

/**
 * One `pg_isready`-level attempt on one server: sends `startup` (from
 * {@linkcode probeStartup}) and resolves when the server answers as
 * accepting connections.
 */
export async function ping(
  ep: Endpoint,
  startup: Uint8Array,
  outer: AbortSignal,
): Promise<void> {
  const where = pgAddress(ep);
  const signal = attemptSignal(outer);
  let conn: Deno.Conn | undefined;
  let closed = false;
  const close = () => {
    if (closed || !conn) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  // Closing the socket is what interrupts a pending read.
  signal.addEventListener("abort", close, { once: true });
  try {
    conn = await connectTo(ep, signal);
    if (signal.aborted) throw abortedError(signal, `answer from ${where}`);
    await conn.write(startup);
    const pending = { buf: new Uint8Array(0) };
    for (;;) {
      const reply = await readReply(conn, pending, where, signal);
      if (reply.kind === "skip") continue;
      if (reply.kind === "auth") {
        // Past authentication (trust) the session exists: end it politely,
        // in the background, since the answer is known. During an
        // authentication exchange a bare close is what pg_isready does, and
        // the server logs nothing for it.
        if (reply.code === 0) {
          closed = true; // terminate() closes it
          terminate(conn);
        }
        return;
      }
      const verdict = errorVerdict(reply.fields, where);
      if (verdict === "ready") return;
      throw verdict;
    }
  } catch (e) {
    if (signal.aborted) throw abortedError(signal, `answer from ${where}`);
    throw e instanceof NotReadyError || e instanceof PermanentError
      ? e
      : connectError(e, where);
  } finally {
    signal.removeEventListener("abort", close);
    close();
  }
}

/**
 * Sends Terminate and closes `conn` once it is written, without making the
 * caller wait for either; takes the connection over (the caller's `close`
 * then has nothing to do).
 */
function terminate(conn: Deno.Conn): void {
  conn.write(TERMINATE).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  });
}

type Answer = Exclude<FirstReply, { kind: "partial" | "garbage" }>;

/**
 * Reads one whole backend message. `pending` holds bytes received but not yet
 * consumed, so a second call continues where the first stopped.
 */
async function readReply(
  conn: Deno.Conn,
  pending: { buf: Uint8Array },
  where: string,
  signal: AbortSignal,
): Promise<Answer> {
  const chunk = new Uint8Array(4096);
  for (;;) {
    const reply = parseFirstReply(pending.buf);
    if (reply.kind === "garbage") {
      throw new NotReadyError(
        `${where} is not answering as PostgreSQL: ${reply.reason}`,
      );
    }
    if (reply.kind !== "partial") {
      pending.buf = pending.buf.slice(reply.length);
      return reply;
    }
    let n: number | null;
    try {
      n = await conn.read(chunk);
    } catch (e) {
      if (signal.aborted) throw abortedError(signal, `answer from ${where}`);
      if ((e as Error)?.name === "ConnectionReset") {
        throw new NotReadyError(
          `connection reset by ${where} before the server answered`,
          { cause: e },
        );
      }
      throw connectError(e, where);
    }
    if (n === null) {
      throw new NotReadyError(
        pending.buf.length === 0
          ? `connection closed by ${where} before the server answered`
          : `connection closed by ${where} in the middle of its answer`,
      );
    }
    const next = new Uint8Array(pending.buf.length + n);
    next.set(pending.buf);
    next.set(chunk.subarray(0, n), pending.buf.length);
    pending.buf = next;
  }
}
