/**
 * A logged-in connection to the Redis server of a `redis://` or `rediss://`
 * target, and what Redis' error replies mean for readiness: shared by the
 * check and `doctor`, so both give the same reasons.
 *
 * `rediss://` verifies the server certificate against the default roots plus
 * the PEM file named by the `cacert` query parameter; there is no way to
 * skip verification. A user name without a password sends no `AUTH`.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { RespConnection, RespErrorReply, type RespValue } from "./resp.ts";
import type { EndpointUrl } from "./endpoint_url.ts";
import { hostPort } from "./target.ts";

/** A parsed `redis://` or `rediss://` URL; `path` is the database number ("" for none). */
export type RedisTarget = EndpointUrl;

/**
 * Error replies that will not go away by retrying: credentials, permissions,
 * protected mode and database number are configuration. Anything else (`LOADING`, `BUSY`,
 * `MASTERDOWN`, `TRYAGAIN`, "max number of clients reached"...) is transient.
 */
const PERMANENT = [
  /^NOAUTH\b/,
  /^WRONGPASS\b/,
  /^NOPERM\b/,
  // Protected mode: no password set and the client is not on loopback. The
  // server's configuration must change; waiting does not help.
  /^DENIED\b/,
  /invalid password/i,
  /invalid username-password pair/i,
  /called without any password configured/i,
  /DB index is out of range/i,
  /invalid DB index/i,
  /SELECT is not allowed in cluster mode/i,
  /wrong number of arguments for 'auth'/i,
];

/**
 * Opens a connection to the Redis server of a `redis://` or `rediss://`
 * target and logs in: `AUTH` when a password is given, `SELECT` when a
 * database number is. Failures are classified as for the check (so `doctor`
 * reports the same reasons); the caller closes the returned connection.
 */
export async function connectRedis(
  target: RedisTarget,
  signal: AbortSignal,
): Promise<RedisSession> {
  const where = hostPort(target);
  const tls = target.scheme === "rediss";
  const caCerts = tls ? await readCa(target) : undefined;
  const conn = await RespConnection.connect({
    host: target.host,
    port: target.port,
    signal,
    tls: tls ? { caCerts } : false,
  });
  const session: RedisSession = {
    conn,
    async expect(args, ok) {
      const step = args.length === 1 || args[0] === "AUTH"
        ? String(args[0])
        : args.join(" ");
      expectReply(await conn.command(args, signal), ok, step, target, where);
    },
  };
  try {
    if (target.password !== undefined) {
      await session.expect(
        target.username
          ? ["AUTH", target.username, target.password]
          : ["AUTH", target.password],
        "OK",
      );
    }
    if (target.path !== "") await session.expect(["SELECT", target.path], "OK");
    return session;
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** A logged-in connection, from {@linkcode connectRedis}. */
export interface RedisSession {
  readonly conn: RespConnection;
  /**
   * Sends a command and fails unless the reply is `ok`: an error reply that
   * retrying cannot fix (credentials, permissions, database number) throws
   * `PermanentError`, anything else `NotReadyError`.
   */
  expect(args: string[], ok: string): Promise<void>;
}

/** The extra CA certificates named by `?cacert=PATH` (read at each attempt: it may be rotated). */
async function readCa(target: RedisTarget): Promise<string[] | undefined> {
  const file = target.params.get("cacert");
  if (!file) return undefined;
  try {
    return [await Deno.readTextFile(file)];
  } catch (e) {
    throw new PermanentError(
      `Cannot read the CA file '${file}' given by cacert in ${target.id}: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
}

/** Turns a reply into a failure, or returns when it is the one expected. */
function expectReply(
  reply: RespValue,
  ok: string,
  step: string,
  target: RedisTarget,
  where: string,
): void {
  if (reply === ok) return;
  // A peer that echoes what it receives would otherwise print the password.
  const hide = (text: string) =>
    target.password ? text.split(target.password).join("***") : text;
  if (reply instanceof RespErrorReply) {
    const msg = hide(reply.message);
    if (!PERMANENT.some((re) => re.test(msg))) {
      throw new NotReadyError(`${where} answered ${step} with: ${msg}`);
    }
    if (/^NOAUTH\b/.test(msg) && !target.password) {
      throw new PermanentError(
        `${where} requires a password and ${target.id} gives none: ${msg}`,
      );
    }
    throw new PermanentError(`${where} refused ${step}: ${msg}`);
  }
  throw new NotReadyError(
    `unexpected reply to ${step} from ${where}: ${
      hide(JSON.stringify(reply)).slice(0, 100)
    }`,
  );
}
