/**
 * `postgres://` and `postgresql://` targets, default port 5432, with libpq's
 * URL syntax (postgres_url.ts: host lists, socket directories, `sslmode`,
 * `target_session_attrs`).
 *
 * Without a user the check is `pg_isready`'s (postgres_ping.ts): the first
 * reply to a startup packet. With a user it logs in as libpq would and
 * judges the session (postgres_login.ts). A host list is ready when one of
 * its servers is (all are tried at once).
 */
import type { TargetKind } from "./kind.ts";
import { combineFailures } from "./postgres_session.ts";
import {
  type Endpoint,
  parsePostgresUrl,
  pgAddress,
  type PostgresTarget,
} from "./postgres_url.ts";
import { ping, probeStartup } from "./postgres_ping.ts";
import { loginAttempt } from "./postgres_login.ts";

/**
 * Runs `attempt` on every server of the target at once; resolves as soon
 * as one is ready, else rejects with their failures combined.
 */
function anyServer(
  hosts: readonly Endpoint[],
  attempt: (ep: Endpoint) => Promise<void>,
): Promise<void> {
  if (hosts.length === 1) return attempt(hosts[0]);
  return Promise.any(hosts.map(attempt)).catch((e: AggregateError) => {
    throw combineFailures(e.errors as Error[]);
  });
}

/** The PostgreSQL kind. */
export const kind: TargetKind<PostgresTarget> = {
  schemes: ["postgres", "postgresql"],
  defaultPorts: { postgres: 5432, postgresql: 5432 },
  speaksProtocol: true,
  reference: [
    [
      "`postgres://HOST:PORT` (no user)",
      'the server answers a startup packet as accepting connections (`pg_isready`): "starting up" (57P03) is not ready; an authentication demand means up',
    ],
    [
      "`postgres://USER[:PASS]@HOST:PORT/DB[?sslmode=...]`, `postgresql://`, `postgresql+DRIVER://`",
      "login succeeds and `SELECT 1` returns; `sslmode` = `disable`, `allow`, `prefer` (default), `require`, `verify-ca`, `verify-full`; `sslrootcert=PATH` or `system`; `target_session_attrs`; host lists and Unix-socket directories as libpq reads them",
    ],
  ],
  parse: parsePostgresUrl,
  check(target) {
    // Built once, with the check, rather than on each attempt.
    const startup = target.username === undefined ? probeStartup() : undefined;
    const login = startup === undefined ? loginAttempt(target) : undefined;
    return {
      id: target.id,
      check: (signal) =>
        anyServer(
          target.hosts,
          login
            ? (ep) => login(ep, signal)
            : (ep) => ping(ep, startup!, signal),
        ),
    };
  },
  describe: (target) =>
    `PostgreSQL at ${pgAddress(target)}${
      target.username === undefined
        ? ""
        : ` as ${target.username}${target.path ? ` on ${target.path}` : ""}`
    }`,
};
