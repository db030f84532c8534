/** `tcp://HOST:PORT`: ready when a TCP connection is established. */
import type { Check, CheckFactory } from "./check.ts";
import { connectAny } from "./connect.ts";

/** Builds a TCP check. */
export const tcpCheck: CheckFactory = (target): Check => ({
  id: target.id,
  async check(signal) {
    const conn = await connectAny({
      host: target.host,
      port: target.port,
      signal,
    });
    conn.close();
  },
});
