/**
 * Reading a MySQL/MariaDB server's first packet over a fresh connection: the
 * user-less check and `doctor`'s server version both come from it. No
 * credentials are sent and no client library is loaded.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { ByteStream } from "./byte_stream.ts";
import { attemptSignal } from "./attempt_signal.ts";
import {
  decodeGreetingPacket,
  type Greeting,
  MysqlProtocolError,
  parseGreeting,
} from "./mysql_packet.ts";
import { hostPort } from "./target.ts";

/**
 * Connects to `host:port` and reads the server's greeting (handshake or
 * error). Closes the connection without logging in: the server notes an
 * "aborted connection" warning, as it does for `mysqladmin ping` without a
 * user. Every failure is a `NotReadyError` (refused, closed, silent until the
 * attempt ends, bytes that are not MySQL), except a TLS certificate error
 * (`PermanentError`, not reached here as the greeting is never encrypted).
 */
export async function readGreeting(
  endpoint: { readonly host: string; readonly port: number },
  outer: AbortSignal,
): Promise<Greeting> {
  const where = hostPort(endpoint);
  const signal = attemptSignal(outer);
  using stream = await ByteStream.connect({
    host: endpoint.host,
    port: endpoint.port,
    where,
    signal,
  });
  try {
    const packet = await stream.read(decodeGreetingPacket, "greeting");
    return parseGreeting(packet.payload);
  } catch (e) {
    // Not MySQL (yet): a proxy with nothing behind it, another service on
    // the port. Transient, as for PostgreSQL: what listens may change.
    if (e instanceof MysqlProtocolError) {
      throw new NotReadyError(
        `${where} is not answering as MySQL: ${e.message}`,
        { cause: e },
      );
    }
    throw e instanceof NotReadyError || e instanceof PermanentError
      ? e
      : new NotReadyError(`cannot read the greeting of ${where}: ${e}`, {
        cause: e,
      });
  }
}
