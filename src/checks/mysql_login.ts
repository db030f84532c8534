/**
 * The login-level MySQL/MariaDB check: log in with the npm `mysql2` client
 * and run `SELECT 1`, under the attempt's deadline. `mysql2` is imported
 * here, and this module only when a target with a user is checked, so
 * nothing else pays for loading it.
 */
import { hideSecrets, NotReadyError, PermanentError } from "./check.ts";
import { connectAny, raceAbort, reachFailure, resolveAll } from "./connect.ts";
import {
  abortedError,
  attemptSignal,
  MAX_ATTEMPT_MS,
} from "./attempt_signal.ts";
import { hostPort } from "./target.ts";
import type { MysqlEndpoint } from "./mysql.ts";

/**
 * Server errors that waiting does not fix: credentials, account rules,
 * unknown database, authentication the client cannot do. Everything else the
 * server says (too many connections, shutdown in progress, a Galera node not
 * yet synced...) is transient.
 */
const PERMANENT_ERRNOS: ReadonlyMap<number, string> = new Map([
  [1044, "ER_DBACCESS_DENIED_ERROR"],
  [1045, "ER_ACCESS_DENIED_ERROR"],
  [1049, "ER_BAD_DB_ERROR"],
  // Blocked after max_connect_errors: stays so until FLUSH HOSTS.
  [1129, "ER_HOST_IS_BLOCKED"],
  [1130, "ER_HOST_NOT_PRIVILEGED"],
  [1227, "ER_SPECIFIC_ACCESS_DENIED_ERROR"],
  [1251, "ER_NOT_SUPPORTED_AUTH_MODE"],
  [1275, "ER_SERVER_IS_IN_SECURE_AUTH_MODE"],
  [1524, "ER_PLUGIN_IS_NOT_LOADED"],
  [1698, "ER_ACCESS_DENIED_NO_PASSWORD_ERROR"],
  [1862, "ER_MUST_CHANGE_PASSWORD_LOGIN"],
  [3118, "ER_ACCOUNT_HAS_BEEN_LOCKED"], // MySQL
  [3159, "ER_SECURE_TRANSPORT_REQUIRED"], // MySQL
  [4151, "ER_ACCOUNT_HAS_BEEN_LOCKED"], // MariaDB
]);

/**
 * Classifies an error from a `mysql2` login or query: the server errors of
 * {@linkcode PERMANENT_ERRNOS} and an authentication method `mysql2` cannot
 * speak are permanent; anything about reaching the server is transient. The
 * message keeps the server's own words and its error number.
 */
export function classifyMysqlError(e: unknown, where: string): Error {
  if (e instanceof NotReadyError || e instanceof PermanentError) return e;
  const err = (e ?? {}) as {
    code?: unknown;
    errno?: unknown;
    message?: string;
  };
  const code = typeof err.code === "string" ? err.code : "";
  const errno = typeof err.errno === "number" ? err.errno : undefined;
  const message = (err.message ?? String(e)).split("\n")[0].replace(/\.$/, "");
  const cause = { cause: e };
  // Server errors carry their ER_ name; socket errors an E... name.
  if (errno !== undefined && code.startsWith("ER_")) {
    if (PERMANENT_ERRNOS.has(errno)) {
      return new PermanentError(
        `${where} rejected the login: ${message} (${errno})`,
        cause,
      );
    }
    return new NotReadyError(
      `login to ${where} failed: ${message} (${errno})`,
      cause,
    );
  }
  if (
    /authentication using unknown plugin|auth_switch|AUTH_SWITCH/i.test(
      `${code} ${message}`,
    )
  ) {
    return new PermanentError(
      `${where} asks for an authentication method preflight cannot use: ${message}`,
      cause,
    );
  }
  if (code === "PROTOCOL_CONNECTION_LOST") {
    return new NotReadyError(
      `connection closed by ${where} before the login completed`,
      cause,
    );
  }
  // Reaching the server: worded as for every other check.
  return reachFailure(e, where) ??
    new NotReadyError(`cannot log in to ${where}: ${message}`, cause);
}

/**
 * The address to log in to: the only one, or the first of several that
 * accepts TCP (`localhost` may be `::1` with nothing listening there).
 */
async function pickAddress(
  target: MysqlEndpoint,
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

/**
 * One login and `SELECT 1` with `mysql2`. The attempt's signal destroys the
 * connection and its socket, so nothing outlives the attempt; `mysql2`'s own
 * `connectTimeout` is only a backstop.
 */
export async function mysqlLogin(
  target: MysqlEndpoint,
  outer: AbortSignal,
): Promise<void> {
  const where = hostPort(target);
  const signal = attemptSignal(outer);
  const sockets = new Set<import("node:net").Socket>();
  let conn: import("mysql2").Connection | undefined;
  let done = false;
  const destroy = () => {
    try {
      conn?.destroy();
    } catch { /* already gone */ }
    for (const s of sockets) s.destroy();
  };
  signal.addEventListener("abort", destroy, { once: true });
  try {
    const address = await pickAddress(target, signal);
    const [{ default: mysql }, net] = await raceAbort(
      Promise.all([import("mysql2"), import("node:net")]),
      signal,
    );
    if (signal.aborted) throw abortedError(signal, `login to ${where}`);
    conn = mysql.createConnection({
      user: target.username,
      password: target.password ?? "",
      database: target.path || undefined,
      connectTimeout: MAX_ATTEMPT_MS,
      // One socket we own, so that an abort can destroy it whatever state
      // mysql2 is in.
      stream: () => {
        const socket = net.connect({ host: address, port: target.port });
        sockets.add(socket);
        return socket;
      },
    });
    // A fatal error is also emitted as an event; unheard, it would crash.
    conn.on("error", () => {});
    const rows = await raceAbort(
      new Promise<unknown>((resolve, reject) =>
        conn!.query(
          "SELECT 1 AS ok",
          (err, result) => err ? reject(err) : resolve(result),
        )
      ),
      signal,
    );
    if ((rows as { ok?: unknown }[])[0]?.ok !== 1) {
      throw new NotReadyError(`${where} answered SELECT 1 with something else`);
    }
    done = true;
  } catch (e) {
    if (signal.aborted && !(e instanceof PermanentError)) {
      throw abortedError(signal, `completed login to ${where}`);
    }
    throw hideSecrets(classifyMysqlError(e, where), target.password);
  } finally {
    signal.removeEventListener("abort", destroy);
    // After a login, COM_QUIT ends the session politely (no "aborted
    // connection" in the server log), without the check waiting for it.
    if (done && conn) conn.end(() => destroy());
    else destroy();
  }
}
