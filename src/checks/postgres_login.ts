/**
 * The login-level PostgreSQL check, for a target with a user: log in as
 * libpq would (postgres_session.ts: sslmode fallbacks, host lists, socket
 * directories) and judge the session by target_session_attrs.
 *
 * The first attempt logs in at once: the server is usually up already, and
 * that attempt also brings the client's code in (loaded and run once, a
 * first login costs twice a later one). Every later attempt first asks the
 * server, with the cheap startup packet of the user-less check
 * (postgres_ping.ts), whether it accepts connections, and logs in only once
 * it says so: while the server starts, an attempt is one small exchange
 * instead of a client's whole connection, and the login starts the moment
 * the server is ready. Readiness is still the login: the ping alone never
 * makes it ready.
 */
import { NotReadyError } from "./check.ts";
import { attemptSignal } from "./attempt_signal.ts";
import type { Endpoint, PostgresTarget } from "./postgres_url.ts";
import { sessionAttrsOf } from "./postgres_options.ts";
import { ping, startupMessage } from "./postgres_ping.ts";
import {
  attrsMismatch,
  closeSession,
  openSession,
} from "./postgres_session.ts";

/**
 * The startup packet of the ping: the target's own user and database, so
 * the server's log shows nothing a login would not (`pg_isready -U`).
 */
function loginStartup(target: PostgresTarget): Uint8Array {
  return startupMessage({
    user: target.username ?? "postgres",
    database: target.path || target.username || "postgres",
    application_name: "preflight",
  });
}

/**
 * Builds the attempt of one server: ping, then log in and check the
 * session against target_session_attrs.
 */
export function loginAttempt(
  target: PostgresTarget,
): (ep: Endpoint, signal: AbortSignal) => Promise<void> {
  const startup = loginStartup(target);
  const attrs = sessionAttrsOf(target);
  const tried = new Set<Endpoint>();
  return async (ep, outer) => {
    const signal = attemptSignal(outer);
    if (tried.has(ep)) await ping(ep, startup, signal);
    else tried.add(ep);
    const session = await openSession(target, ep, signal, {
      applicationName: "preflight",
    });
    try {
      const why = attrsMismatch(session, attrs);
      // A standby may be promoted: not ready yet, rather than broken.
      if (why !== undefined) throw new NotReadyError(why);
    } finally {
      await closeSession(session);
    }
  };
}
