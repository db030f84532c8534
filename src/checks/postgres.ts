/**
 * `postgres://` and `postgresql://` targets.
 *
 * Without a user (`postgres://HOST:PORT`) the check is `pg_isready`'s: it
 * sends a startup packet and reads the first reply. An authentication demand
 * or any error means the server is up; SQLSTATE 57P03 ("the database system
 * is starting up", a standby not yet accepting) means not ready, and so does
 * anything that is not a PostgreSQL reply (a proxy that accepts and closes, a
 * silent or garbage-speaking peer). No client library does this, so the few
 * bytes of protocol are spoken here.
 *
 * With a user (`postgres://USER[:PASS]@HOST:PORT/DB?sslmode=...`) the check
 * logs in and runs `SELECT 1` with postgres.js, loaded only on this path.
 */
import type { Check, CheckFactory } from "./check.ts";
import { NotReadyError, PermanentError } from "./check.ts";
import { connectAny, connectError, raceAbort, resolveAll } from "./connect.ts";
import { hostPort, type Target } from "./target.ts";
import { scrub } from "../config/redact.ts";
import { type SslMode, sslModeOf, sslOption } from "./postgres_options.ts";

export { sslModeOf };

/**
 * Longest a single attempt may take when the caller's signal never aborts: a
 * silent peer must not hang a check forever.
 */
export const MAX_ATTEMPT_MS = 30_000;

/** User name sent by the user-less probe; it shows up in the server log when the probe is rejected. */
export const PROBE_USER = "preflight_probe";

/** SQLSTATE `cannot_connect_now`: starting up, shutting down, standby not accepting. */
const CANNOT_CONNECT_NOW = "57P03";

// ---------------------------------------------------------------------------
// Protocol (pure)

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

/** The server's message and detail, as one line without a final period. */
function serverMessage(message: string, detail?: string): string {
  const text = detail ? `${message}. ${detail}` : message;
  return text.replace(/\s+/g, " ").replace(/\.$/, "");
}

// ---------------------------------------------------------------------------
// Attempt deadline

/**
 * The caller's signal combined with {@linkcode MAX_ATTEMPT_MS}. Built on
 * `AbortSignal.timeout`, not `setTimeout`: in this Deno the first
 * `setTimeout` of a process costs about 12 ms, and a check that succeeds at
 * once (`probe`, a dependency already up) would pay it. The timer is not
 * ref'd and ends by itself.
 */
function attemptSignal(outer: AbortSignal): AbortSignal {
  return AbortSignal.any([outer, AbortSignal.timeout(MAX_ATTEMPT_MS)]);
}

function timedOut(signal: AbortSignal): boolean {
  const r = signal.reason;
  return r instanceof Error && r.name === "TimeoutError";
}

// ---------------------------------------------------------------------------
// User-less probe

/** The startup packet of {@linkcode ping}: the same for every attempt. */
function probeStartup(): Uint8Array {
  return startupMessage({
    user: PROBE_USER,
    database: "postgres",
    application_name: "preflight",
  });
}

/**
 * One `pg_isready`-level attempt: sends `startup` (from
 * {@linkcode probeStartup}) and resolves when the server answers as
 * accepting connections.
 */
async function ping(
  target: Target,
  startup: Uint8Array,
  outer: AbortSignal,
): Promise<void> {
  const where = hostPort(target);
  const signal = attemptSignal(outer);
  let conn: Deno.TcpConn | undefined;
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
    conn = await connectAny({ host: target.host, port: target.port, signal });
    if (signal.aborted) throw abortError(signal, where);
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
    if (signal.aborted) throw abortError(signal, where);
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
function terminate(conn: Deno.TcpConn): void {
  conn.write(TERMINATE).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  });
}

function abortError(signal: AbortSignal, where: string): NotReadyError {
  return new NotReadyError(
    timedOut(signal)
      ? `no answer from ${where} before the attempt timed out`
      : `check of ${where} aborted`,
  );
}

type Answer = Exclude<FirstReply, { kind: "partial" | "garbage" }>;

/**
 * Reads one whole backend message. `pending` holds bytes received but not yet
 * consumed, so a second call continues where the first stopped.
 */
async function readReply(
  conn: Deno.TcpConn,
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
      if (signal.aborted) throw abortError(signal, where);
      if ((e as Error)?.name === "ConnectionReset") {
        throw new NotReadyError(
          `connection reset by ${where} before the server answered`,
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

// ---------------------------------------------------------------------------
// Login with postgres.js

/** Server errors that no amount of waiting fixes. */
function permanentSqlState(code: string): boolean {
  return code.startsWith("28") || // invalid_authorization_specification, invalid_password
    code === "3D000" || // invalid_catalog_name: unknown database
    code === "42501"; // insufficient_privilege: no CONNECT on the database
}

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

/**
 * Classifies an error from a login attempt: credentials, unknown database
 * and certificate problems are permanent; everything about reaching the
 * server is transient. Messages keep the server's own words.
 */
export function classifyLoginError(e: unknown, where: string): Error {
  if (e instanceof NotReadyError || e instanceof PermanentError) return e;
  const err = (e ?? {}) as {
    name?: string;
    code?: unknown;
    message?: string;
    detail?: string;
  };
  const code = typeof err.code === "string" ? err.code : "";
  const message = (err.message ?? String(e)).split("\n")[0];
  if (err.name === "PostgresError" && /^[0-9A-Z]{5}$/.test(code)) {
    if (permanentSqlState(code)) {
      return new PermanentError(
        `${where} rejected the login: ${message} (${code})`,
      );
    }
    if (code === CANNOT_CONNECT_NOW) {
      return new NotReadyError(
        `${where} answered: ${serverMessage(message, err.detail)} (${code})`,
      );
    }
    return new NotReadyError(`login to ${where} failed: ${message} (${code})`);
  }
  if (
    TLS_CODES.has(code) ||
    /certificate|altnames|self[- ]signed|UnknownIssuer|NotValidForName/i.test(
      message,
    )
  ) {
    return new PermanentError(
      `TLS certificate error from ${where}: ${message}`,
    );
  }
  switch (code) {
    case "ECONNREFUSED":
      return new NotReadyError(`connection refused by ${where}`);
    case "ECONNRESET":
    case "EPIPE":
      return new NotReadyError(`connection reset by ${where} during the login`);
    case "ETIMEDOUT":
    case "CONNECT_TIMEOUT":
      return new NotReadyError(`connection to ${where} timed out`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new NotReadyError(`host of ${where} does not resolve (${code})`);
    case "CONNECTION_CLOSED":
    case "CONNECTION_ENDED":
    case "CONNECTION_DESTROYED":
      return new NotReadyError(
        `connection closed by ${where} before the login completed`,
      );
    case "SASL_SIGNATURE_MISMATCH":
      return new PermanentError(
        `${where} failed SCRAM server authentication: its signature does not match`,
      );
    case "AUTH_TYPE_NOT_IMPLEMENTED":
      return new PermanentError(`${where} asks for ${message}`);
  }
  return new NotReadyError(`cannot log in to ${where}: ${message}`);
}

/** Masks the target's password (and any registered secret) in a message. */
function safe(error: Error, password: string | undefined): Error {
  let msg = scrub(error.message);
  if (password) {
    for (const form of [password, encodeURIComponent(password)]) {
      msg = msg.split(form).join("***");
    }
  }
  if (msg === error.message) return error;
  return error instanceof PermanentError
    ? new PermanentError(msg)
    : new NotReadyError(msg);
}

/** Picks the address to log in to: the only one, or the first of several that accepts TCP. */
async function pickAddress(
  target: Target,
  signal: AbortSignal,
): Promise<string> {
  const addrs = await raceAbort(resolveAll(target.host), signal);
  if (addrs.length === 1) return addrs[0];
  const conn = await connectAny({
    host: target.host,
    port: target.port,
    signal,
  });
  const address = (conn.remoteAddr as Deno.NetAddr).hostname;
  conn.close();
  return address;
}

/** First byte of any answer to an SSLRequest ('S', 'N') or a startup packet. */
const FIRST_BYTES = "SNREv";

/** One login + `SELECT 1` attempt with postgres.js. */
async function login(
  target: Target,
  mode: SslMode,
  outer: AbortSignal,
): Promise<void> {
  const where = hostPort(target);
  const signal = attemptSignal(outer);
  const sockets = new Set<import("node:net").Socket>();
  let sql: import("postgres").Sql | undefined;
  let notPostgres: string | undefined;
  let noTls: string | undefined;
  const tlsRequired = mode !== "disable" && mode !== "allow" &&
    mode !== "prefer";
  try {
    const address = await pickAddress(target, signal);
    const ssl = sslOption(mode, target);
    const [{ default: postgres }, net] = await raceAbort(
      Promise.all([import("postgres"), import("node:net")]),
      signal,
    );
    let opened = 0;
    // `socket` is supported but not in postgres.js' types, hence no literal
    // passed directly (it would fail the excess property check).
    const options = {
      // Informational only: the socket below is what connects.
      host: address,
      port: target.port,
      user: target.username,
      password: target.password,
      database: target.path || undefined,
      ssl,
      max: 1,
      prepare: false,
      fetch_types: false,
      connect_timeout: Math.ceil(MAX_ATTEMPT_MS / 1000),
      onnotice: () => {},
      connection: { application_name: "preflight" },
      // postgres.js reconnects in a loop when the peer closes during the
      // startup; one socket per attempt turns that into an error at once.
      socket: () =>
        new Promise((resolve, reject) => {
          if (opened++ > 0) {
            return reject(
              new NotReadyError(
                `connection closed by ${where} before the login completed`,
              ),
            );
          }
          const socket = net.connect({ host: address, port: target.port });
          sockets.add(socket);
          const fail = (err?: Error) =>
            reject(
              err ?? Object.assign(new Error("closed"), {
                code: "CONNECTION_CLOSED",
              }),
            );
          socket.once("error", fail);
          socket.once("close", () => fail());
          // A peer that is not PostgreSQL would otherwise leave postgres.js
          // waiting for the rest of a "message" until the attempt times out.
          socket.once("data", (chunk: Uint8Array) => {
            const first = String.fromCharCode(chunk[0]);
            if (!FIRST_BYTES.includes(first)) {
              notPostgres = `${where} is not answering as PostgreSQL: ` +
                `unexpected first byte ${hexByte(chunk[0])}`;
              socket.destroy();
            } else if (first === "N" && tlsRequired) {
              // 'N' to the SSLRequest: postgres.js would go on with a TLS
              // handshake the server cannot understand.
              noTls =
                `${where} does not support TLS, but sslmode=${mode} requires it`;
              socket.destroy();
            }
          });
          socket.once("connect", () => {
            socket.off("error", fail);
            resolve(socket);
          });
        }),
    };
    sql = postgres(options);
    const rows = await raceAbort(sql`select 1 as ok`, signal);
    if (rows[0]?.ok !== 1) {
      throw new NotReadyError(`${where} answered SELECT 1 with something else`);
    }
  } catch (e) {
    if (notPostgres) throw new NotReadyError(notPostgres);
    if (noTls) throw new PermanentError(noTls);
    if (signal.aborted && !(e instanceof PermanentError)) {
      throw safe(
        new NotReadyError(
          timedOut(signal)
            ? `login to ${where} did not complete before the attempt timed out`
            : `check of ${where} aborted`,
        ),
        target.password,
      );
    }
    throw safe(classifyLoginError(e, where), target.password);
  } finally {
    if (sql) await sql.end({ timeout: 0 }).catch(() => {});
    for (const s of sockets) s.destroy();
  }
}

// ---------------------------------------------------------------------------

/**
 * Builds a PostgreSQL check: `pg_isready`-level without a user, login and
 * `SELECT 1` with one. An invalid `sslmode` is a configuration error.
 */
export const postgresCheck: CheckFactory = (target): Check => {
  const mode = sslModeOf(target);
  // Built once, with the check, rather than on each attempt.
  const startup = target.username === undefined ? probeStartup() : undefined;
  return {
    id: target.id,
    check: (signal) =>
      startup !== undefined
        ? ping(target, startup, signal)
        : login(target, mode, signal),
  };
};
