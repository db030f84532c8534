/**
 * `redis://[USER:PASS@]HOST:PORT[/N]` and `rediss://` (TLS), default port
 * 6379: ready when `AUTH` (when a password is given), `SELECT N` (when a
 * database number is given) and `PING` succeed (redis_session.ts). A
 * `LOADING` reply is not ready; wrong credentials, `DENIED` (protected mode)
 * and a database out of range are permanent. Query options other than
 * `cacert` are the app's client's (redis-py's `ssl_cert_reqs`...): ignored.
 */
import type { TargetKind } from "./kind.ts";
import { parseEndpointUrl } from "./endpoint_url.ts";
import { connectRedis, type RedisTarget } from "./redis_session.ts";
import { hostPort, invalidTarget } from "./target.ts";

const FORM = "a redis://[USER:PASSWORD@]HOST[:PORT][/N] or rediss:// URL";
const DEFAULT_PORTS = { redis: 6379, rediss: 6379 };

/** The Redis kind. */
export const kind: TargetKind<RedisTarget> = {
  schemes: ["redis", "rediss"],
  defaultPorts: DEFAULT_PORTS,
  speaksProtocol: true,
  reference: [[
    "`redis://[USER:PASS@]HOST:PORT[/N]`, `rediss://`",
    "`AUTH` (when given), `SELECT N` and `PING` succeed; `LOADING`, `BUSY`, `MASTERDOWN` are not ready; `rediss://...?cacert=PATH` adds a CA",
  ]],
  parse(text, source) {
    const target = parseEndpointUrl(text, source, {
      defaultPorts: DEFAULT_PORTS,
      form: FORM,
    });
    if (target.path !== "" && !/^\d+$/.test(target.path)) {
      throw invalidTarget(
        source,
        target.id,
        "the Redis database must be a number, as in redis://HOST:6379/0",
      );
    }
    return target;
  },
  check: (target) => ({
    id: target.id,
    async check(signal) {
      const session = await connectRedis(target, signal);
      try {
        await session.expect(["PING"], "PONG");
      } finally {
        session.conn.close();
      }
    },
  }),
  describe: (target) =>
    `Redis at ${hostPort(target)}${
      target.scheme === "rediss" ? " over TLS" : ""
    }${target.path ? ` (database ${target.path})` : ""}`,
};
