/**
 * `tcp://HOST:PORT` (and a bare `HOST:PORT`, as wait-for-it takes it):
 * ready when a TCP connection is established. Every address the name
 * resolves to is tried at once (connect.ts).
 */
import { connectAny } from "./connect.ts";
import { type EndpointUrl, parseEndpointUrl } from "./endpoint_url.ts";
import type { TargetKind } from "./kind.ts";
import { hostPort, invalidTarget } from "./target.ts";

/** A parsed `tcp://` URL. */
export type TcpTarget = EndpointUrl;

/** The TCP kind. */
export const kind: TargetKind<TcpTarget> = {
  schemes: ["tcp"],
  defaultPorts: {},
  reference: [[
    "`HOST:PORT`, `tcp://HOST:PORT`",
    "a TCP connection is established",
  ]],
  parse(text, source) {
    const target = parseEndpointUrl(text, source, {
      defaultPorts: { tcp: undefined },
      form: "tcp://HOST:PORT",
    });
    if (target.path !== "" || target.params.size > 0) {
      throw invalidTarget(
        source,
        target.id,
        "a tcp:// target has no path or query, expected tcp://HOST:PORT",
      );
    }
    return target;
  },
  check: (target) => ({
    id: target.id,
    async check(signal) {
      const conn = await connectAny({
        host: target.host,
        port: target.port,
        signal,
      });
      conn.close();
    },
  }),
  describe: (target) => `TCP port ${hostPort(target)}`,
};
