/**
 * `redis://[USER:PASS@]HOST:PORT[/N]` and `rediss://` (TLS): ready when
 * `AUTH` (when a password is given), `SELECT N` (when a database number is
 * given) and `PING` succeed.
 *
 * `rediss://` verifies the server certificate against the default roots plus
 * the PEM file named by the `cacert` query parameter
 * (`rediss://redis:6380/0?cacert=/certs/ca.pem`); there is no way to skip
 * verification. A user name without a password sends no `AUTH`.
 */
import {
  type Check,
  type CheckFactory,
  NotReadyError,
  PermanentError,
} from "./check.ts";
import { RespConnection, RespErrorReply, type RespValue } from "./resp.ts";
import { hostPort } from "./target.ts";

/**
 * Error replies that will not go away by retrying: credentials, permissions
 * and database number are configuration. Anything else (`LOADING`, `BUSY`,
 * `MASTERDOWN`, `TRYAGAIN`, "max number of clients reached"...) is transient.
 */
const PERMANENT = [
  /^NOAUTH\b/,
  /^WRONGPASS\b/,
  /^NOPERM\b/,
  /invalid password/i,
  /invalid username-password pair/i,
  /called without any password configured/i,
  /DB index is out of range/i,
  /invalid DB index/i,
  /SELECT is not allowed in cluster mode/i,
  /wrong number of arguments for 'auth'/i,
];

/** Builds a Redis check. */
export const redisCheck: CheckFactory = (target): Check => {
  const where = hostPort(target);
  const tls = target.scheme === "rediss";
  const caFile = target.params.get("cacert");
  let caCerts: Promise<string[] | undefined> | undefined;
  const loadCa = () =>
    caCerts ??= caFile
      ? Deno.readTextFile(caFile).then((pem) => [pem], (e) => {
        throw new PermanentError(
          `Cannot read the CA file '${caFile}' given by cacert in ${target.id}: ${
            (e as Error).message
          }`,
        );
      })
      : Promise.resolve(undefined);

  // A peer that echoes what it receives would otherwise print the password.
  const hide = (text: string) =>
    target.password ? text.split(target.password).join("***") : text;

  /** Turns a reply into a failure, or returns when it is the one expected. */
  const expect = (reply: RespValue, ok: string, step: string) => {
    if (reply === ok) return;
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
  };

  return {
    id: target.id,
    async check(signal) {
      const ca = tls ? await loadCa() : undefined;
      const conn = await RespConnection.connect({
        host: target.host,
        port: target.port,
        signal,
        tls: tls ? { caCerts: ca } : false,
      });
      try {
        if (target.password !== undefined) {
          const args = target.username
            ? ["AUTH", target.username, target.password]
            : ["AUTH", target.password];
          expect(await conn.command(args, signal), "OK", "AUTH");
        }
        if (target.path !== "") {
          expect(
            await conn.command(["SELECT", target.path], signal),
            "OK",
            `SELECT ${target.path}`,
          );
        }
        expect(await conn.command(["PING"], signal), "PONG", "PING");
      } finally {
        conn.close();
      }
    },
  };
};
