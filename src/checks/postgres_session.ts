/**
 * Logging in to PostgreSQL as libpq does, with postgres.js for the
 * protocol: each server of a host list (TCP, or a Unix-socket directory as
 * `DIR/.s.PGSQL.PORT`), `sslmode` with its fallbacks (`prefer`: TLS, then
 * plain when the server refuses the TLS session; `allow`: plain, then TLS),
 * and `target_session_attrs` judged on the session itself
 * (`pg_is_in_recovery()`, `transaction_read_only`). Used by the login check
 * and by the migration lock, which keeps its session.
 */
import {
  type Endpoint,
  pgAddress,
  type PostgresTarget,
} from "./postgres_url.ts";
import { timedOut } from "../time/timeout_signal.ts";
import { hideSecrets, NotReadyError, PermanentError } from "./check.ts";
import { connectAny, raceAbort, resolveAll } from "./connect.ts";
import { isSocketDir, socketPath } from "./postgres_hosts.ts";
import {
  type SessionAttrs,
  sessionAttrsOf,
  type SslMode,
  sslModeOf,
  sslOption,
} from "./postgres_options.ts";
import { classifyLoginError } from "./postgres_errors.ts";

type Sql = import("postgres").Sql;

/** A logged-in session on one server, with what target_session_attrs looks at. */
export interface PgSession {
  readonly sql: Sql;
  readonly endpoint: Endpoint;
  /** The server, for messages: `host:port` or the socket file. */
  readonly where: string;
  /** `pg_is_in_recovery()`: a standby. */
  readonly standby: boolean;
  /** `transaction_read_only` of the new session (a hot standby, or default_transaction_read_only). */
  readonly readOnly: boolean;
}

/** What {@linkcode openSession} passes to postgres.js besides the server and login. */
export interface SessionOptions {
  /** `application_name` of the session. */
  readonly applicationName: string;
  /** Extra postgres.js options (timeouts of a session that is kept). */
  readonly extra?: Record<string, unknown>;
}

/** First byte of any answer to an SSLRequest ('S', 'N') or a startup packet. */
const FIRST_BYTES = "SNREv";

function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}

/** Picks the address to log in to: the only one, or the first of several that accepts TCP. */
async function pickAddress(ep: Endpoint, signal: AbortSignal): Promise<string> {
  const addrs = await raceAbort(resolveAll(ep.host), signal);
  if (addrs.length === 1) return addrs[0];
  const conn = await connectAny({ host: ep.host, port: ep.port, signal });
  const address = (conn.remoteAddr as Deno.NetAddr).hostname;
  conn.close();
  return address;
}

/** How one login attempt went wrong, for the sslmode fallbacks. */
class AttemptError extends Error {
  constructor(
    readonly failure: unknown,
    /** The server answered the SSLRequest with 'S': the session was TLS. */
    readonly tls: boolean,
  ) {
    super("login attempt failed", { cause: failure });
  }
}

type SslValue = ReturnType<typeof sslOption>;

/**
 * One login on one server with one `ssl` setting; resolves with the session
 * and its attributes, or rejects with an {@linkcode AttemptError}.
 */
async function loginOnce(
  target: PostgresTarget,
  ep: Endpoint,
  ssl: SslValue,
  tlsRequired: string | undefined,
  signal: AbortSignal,
  opts: SessionOptions,
): Promise<PgSession> {
  const where = pgAddress(ep);
  const socketFile = isSocketDir(ep.host) ? socketPath(ep) : undefined;
  const sockets = new Set<import("node:net").Socket>();
  let sql: Sql | undefined;
  let tls = false;
  let refusal: Error | undefined;
  try {
    const address = socketFile ? undefined : await pickAddress(ep, signal);
    const [{ default: postgres }, net] = await raceAbort(
      Promise.all([import("postgres"), import("node:net")]),
      signal,
    );
    let opened = 0;
    // `socket` is supported but not in postgres.js' types, hence no literal
    // passed directly (it would fail the excess property check).
    const options = {
      // Informational only: the socket below is what connects.
      host: address ?? "localhost",
      port: ep.port,
      user: target.username,
      password: target.password,
      database: target.path || undefined,
      ssl,
      max: 1,
      prepare: false,
      fetch_types: false,
      connect_timeout: 30,
      onnotice: () => {},
      connection: { application_name: opts.applicationName },
      ...opts.extra,
      // postgres.js reconnects in a loop when the peer closes during the
      // startup; one socket per session turns that into an error at once.
      socket: () =>
        new Promise((resolve, reject) => {
          if (opened++ > 0) {
            return reject(
              new NotReadyError(
                `connection closed by ${where} before the login completed`,
              ),
            );
          }
          const socket = socketFile
            ? net.connect({ path: socketFile })
            : net.connect({ host: address!, port: ep.port });
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
              refusal = new NotReadyError(
                `${where} is not answering as PostgreSQL: unexpected first byte ${
                  hexByte(chunk[0])
                }`,
              );
              socket.destroy();
            } else if (ssl !== false && first === "S") {
              tls = true;
            } else if (ssl !== false && first === "N" && tlsRequired) {
              // 'N' to the SSLRequest: postgres.js would go on with a TLS
              // handshake the server cannot understand.
              refusal = new PermanentError(
                `${where} does not support TLS, but ${tlsRequired} requires it`,
              );
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
    const rows = await raceAbort(
      sql`select pg_is_in_recovery() as standby,
                 current_setting('transaction_read_only') as ro`,
      signal,
    );
    const row = rows[0];
    if (row === undefined || typeof row.standby !== "boolean") {
      throw new NotReadyError(`${where} answered its first query with nothing`);
    }
    const session: PgSession = {
      sql,
      endpoint: ep,
      where,
      standby: row.standby,
      readOnly: row.ro === "on",
    };
    sql = undefined; // the caller's now
    return session;
  } catch (e) {
    throw new AttemptError(refusal ?? e, tls);
  } finally {
    if (sql) {
      await sql.end({ timeout: 0 }).catch(() => {});
      for (const s of sockets) s.destroy();
    }
  }
}

/** The `ssl` settings to try in turn for a mode, as libpq does. */
function sslPlan(
  mode: SslMode,
  target: PostgresTarget,
  socket: boolean,
): { ssl: SslValue; required?: string }[] {
  // libpq never uses TLS over a Unix socket, whatever the sslmode.
  if (socket || mode === "disable") return [{ ssl: false }];
  if (mode === "allow") {
    return [{ ssl: false }, {
      ssl: sslOption("require", target),
      required: "sslmode=allow's second try",
    }];
  }
  if (mode === "prefer") {
    return [{ ssl: sslOption("prefer", target) }, { ssl: false }];
  }
  return [{ ssl: sslOption(mode, target), required: `sslmode=${mode}` }];
}

/**
 * Logs in to one server, with libpq's sslmode fallbacks: `prefer` retries
 * without TLS when the TLS session failed (the server refused it with an
 * error, e.g. `hostssl ... reject`, or the handshake failed); `allow`
 * retries with TLS when the plain login got an error from the server.
 * Failures are classified (NotReadyError / PermanentError), secrets masked.
 */
export async function openSession(
  target: PostgresTarget,
  ep: Endpoint,
  signal: AbortSignal,
  opts: SessionOptions,
): Promise<PgSession> {
  const where = pgAddress(ep);
  const mode = sslModeOf(target);
  const plan = sslPlan(mode, target, isSocketDir(ep.host));
  let first: AttemptError | undefined;
  for (let i = 0; i < plan.length; i++) {
    try {
      return await loginOnce(
        target,
        ep,
        plan[i].ssl,
        plan[i].required,
        signal,
        opts,
      );
    } catch (e) {
      const err = e as AttemptError;
      first ??= err;
      if (signal.aborted) break;
      const serverError = (err.failure as Error)?.name === "PostgresError";
      const retry = i + 1 < plan.length &&
        (mode === "prefer" ? err.tls : serverError);
      if (retry) continue;
      // allow's TLS try failing says less than the plain login's error.
      const shown = mode === "allow" && i > 0 ? first : err;
      throw describe(shown.failure, where, signal, target);
    }
  }
  throw describe(first?.failure, where, signal, target);
}

/** A login failure as the checks word it, without any secret. */
function describe(
  e: unknown,
  where: string,
  signal: AbortSignal,
  target: PostgresTarget,
): Error {
  if (signal.aborted && !(e instanceof PermanentError)) {
    return hideSecrets(
      new NotReadyError(
        timedOut(signal)
          ? `login to ${where} did not complete before the attempt timed out`
          : `check of ${where} aborted`,
      ),
      target.password,
    );
  }
  return hideSecrets(classifyLoginError(e, where), target.password);
}

/** Why a session does not meet target_session_attrs, or undefined when it does. */
export function attrsMismatch(
  s: Pick<PgSession, "standby" | "readOnly" | "where">,
  attrs: SessionAttrs,
): string | undefined {
  const ok = attrs === "any" || attrs === "prefer-standby" ||
    (attrs === "read-write" && !s.readOnly) ||
    (attrs === "read-only" && s.readOnly) ||
    (attrs === "primary" && !s.standby) ||
    (attrs === "standby" && s.standby);
  if (ok) return undefined;
  const state = s.standby
    ? "a standby (in recovery, read-only)"
    : s.readOnly
    ? "a primary whose sessions are read-only (default_transaction_read_only)"
    : "a primary (read-write)";
  return `${s.where} is ${state}, not what target_session_attrs=${attrs} asks for`;
}

/**
 * Combines the failures of every server of a host list: one server's own
 * failure as it is; for several, permanent only when every one is.
 */
export function combineFailures(errors: readonly Error[]): Error {
  if (errors.length === 1) return errors[0];
  const text = errors.map((e) => e.message).join("; ");
  return errors.every((e) => e instanceof PermanentError)
    ? new PermanentError(text)
    : new NotReadyError(text);
}

/** Closes a session (its socket too), without waiting for the server. */
export async function closeSession(s: PgSession): Promise<void> {
  await s.sql.end({ timeout: 0 }).catch(() => {});
}

/**
 * A session on the server libpq would pick: the servers in order, the first
 * that logs in and meets target_session_attrs (`prefer-standby`: the first
 * standby, else the first that logs in). The caller ends the session.
 * Rejects with the combined failures.
 */
export async function connectPostgres(
  target: PostgresTarget,
  signal: AbortSignal,
  opts: SessionOptions,
): Promise<PgSession> {
  const attrs = sessionAttrsOf(target);
  const errors: Error[] = [];
  let fallback: PgSession | undefined;
  for (const ep of target.hosts) {
    let s: PgSession;
    try {
      s = await openSession(target, ep, signal, opts);
    } catch (e) {
      errors.push(e as Error);
      if (signal.aborted) break;
      continue;
    }
    if (attrs === "prefer-standby" && !s.standby) {
      if (fallback) await closeSession(s);
      else fallback = s;
      continue;
    }
    const why = attrsMismatch(s, attrs);
    if (why === undefined) {
      if (fallback) await closeSession(fallback);
      return s;
    }
    errors.push(new NotReadyError(why));
    await closeSession(s);
  }
  if (fallback) return fallback;
  throw combineFailures(errors);
}
