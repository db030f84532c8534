/**
 * Opening (and closing) an AMQP 0-9-1 connection, for the `amqp://` check
 * and `doctor`: the protocol header, `Connection.Start`, and with
 * credentials `Start-Ok` (PLAIN), `Tune`/`Tune-Ok`, `Open` of the virtual
 * host, `Open-Ok`, then `Close`/`Close-Ok`. No AMQP library: these dozen
 * frames are all a readiness check needs.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { ByteStream } from "./byte_stream.ts";
import { attemptSignal } from "./attempt_signal.ts";
import {
  AmqpProtocolError,
  close,
  closeOk,
  type ConnectionMethod,
  decodeIncoming,
  decodeMethod,
  FRAME_METHOD,
  MAX_FRAME,
  open,
  PROTOCOL_HEADER,
  startOkPlain,
  tuneOk,
} from "./amqp_frame.ts";
import { hostPort } from "./target.ts";

/** What `Connection.Start` says about the broker. */
export type ServerStart = Extract<ConnectionMethod, { name: "start" }>;

/** A server's `Connection.Close`. */
export type ServerClose = Extract<ConnectionMethod, { name: "close" }>;

/** Where and as whom to open a connection. */
export interface AmqpEndpoint {
  readonly host: string;
  readonly port: number;
  /** Wrap the connection in TLS (amqps://). */
  readonly tls: boolean;
  /** Extra PEM roots for TLS besides the system's. */
  readonly caCerts?: string[];
  /** Log in and open `vhost` when given; stop at `Connection.Start` otherwise. */
  readonly login?: {
    readonly user: string;
    readonly password: string;
    readonly vhost: string;
  };
}

/** Longest wait for the broker's Close-Ok once the connection is known to open. */
const CLOSE_OK_MS = 1000;

/** Client properties: how the connection shows in the management UI and logs. */
const CLIENT_PROPERTIES = {
  product: "preflight",
  platform: "Deno",
  connection_name: "preflight readiness check",
  capabilities: {
    // Without it RabbitMQ answers wrong credentials by closing the socket,
    // which cannot be told from a broker going down; with it, 403 comes
    // first as Connection.Close.
    authentication_failure_close: true,
  },
};

/**
 * Reply codes of a server's `Connection.Close` that waiting does not fix:
 * wrong credentials, a virtual host that does not exist or refuses the
 * user, and handshake errors (the server does not accept what this client
 * sends). 320 CONNECTION_FORCED (shutdown), 506 RESOURCE_ERROR and 541
 * INTERNAL_ERROR are transient, and so is 530 when it is about a limit or
 * a virtual host that is down rather than about access.
 */
export function closeVerdict(
  c: ServerClose,
  where: string,
): NotReadyError | PermanentError {
  const text = c.replyText.replace(/\s+/g, " ").trim();
  const what = `${where} closed the connection: ${text} (${c.replyCode})`;
  switch (c.replyCode) {
    case 402: // INVALID_PATH
    case 403: // ACCESS_REFUSED
    case 501: // FRAME_ERROR
    case 502: // SYNTAX_ERROR
    case 503: // COMMAND_INVALID
    case 504: // CHANNEL_ERROR
    case 505: // UNEXPECTED_FRAME
    case 540: // NOT_IMPLEMENTED
      return new PermanentError(what);
    case 530: // NOT_ALLOWED
      return /limit|is down|maintenance|booting|starting/i.test(text)
        ? new NotReadyError(what)
        : new PermanentError(what);
  }
  return new NotReadyError(what);
}

/**
 * Opens a connection to an AMQP 0-9-1 broker: up to `Connection.Start`
 * without `login`, through `Open-Ok` and a clean `Close` with it. Resolves
 * with the broker's `Connection.Start`. Rejects with `NotReadyError` for
 * everything about reaching the broker (refused, reset, closed, silent until
 * the attempt ends, not speaking AMQP) and with `PermanentError` for what
 * waiting does not fix ({@linkcode closeVerdict}, a broker that speaks
 * another AMQP version or offers no PLAIN login, a TLS certificate error).
 */
export async function amqpHandshake(
  endpoint: AmqpEndpoint,
  outer: AbortSignal,
): Promise<ServerStart> {
  const where = hostPort(endpoint);
  const signal = attemptSignal(outer);
  using stream = await ByteStream.connect({
    host: endpoint.host,
    port: endpoint.port,
    where,
    signal,
    tls: endpoint.tls ? { caCerts: endpoint.caCerts } : undefined,
  });
  const next = (what: string) => readMethod(stream, what, where);
  try {
    await stream.write(PROTOCOL_HEADER, "the protocol header");
    const start = await next("Connection.Start");
    if (start.name !== "start") {
      throw unexpected(start, "Connection.Start", where);
    }
    // Without credentials there is no way to the polite Close: the socket
    // is dropped, and RabbitMQ logs "client unexpectedly closed TCP
    // connection" as a warning, as for any probe that leaves before logging
    // in. A target with a user closes cleanly.
    if (!endpoint.login) return start;
    const { user, password, vhost } = endpoint.login;
    if (!start.mechanisms.includes("PLAIN")) {
      throw new PermanentError(
        `${where} offers no PLAIN login (mechanisms: ${
          start.mechanisms.join(" ") || "none"
        })`,
      );
    }
    await stream.write(
      startOkPlain(CLIENT_PROPERTIES, user, password),
      "Connection.Start-Ok",
    );
    const tune = await next("Connection.Tune");
    if (tune.name !== "tune") throw unexpected(tune, "Connection.Tune", where);
    // Heartbeats off: the connection lives for one round trip.
    await stream.write(
      tuneOk(tune.channelMax, tune.frameMax || MAX_FRAME, 0),
      "Connection.Tune-Ok",
    );
    await stream.write(open(vhost), "Connection.Open");
    const opened = await next("Connection.Open-Ok");
    if (opened.name !== "open-ok") {
      throw unexpected(opened, "Connection.Open-Ok", where);
    }
    await closeCleanly(stream, where, signal);
    return start;
  } catch (e) {
    if (e instanceof ServerClosed) {
      // Polite, and it lets the broker log a clean close rather than a
      // dropped socket; the verdict does not depend on it.
      await stream.write(closeOk(), "Connection.Close-Ok").catch(() => {});
      throw e.verdict;
    }
    if (e instanceof AmqpProtocolError) {
      throw new NotReadyError(
        `${where} is not answering as AMQP 0-9-1: ${e.message}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** A `Connection.Close` from the server, carrying its verdict. */
class ServerClosed extends Error {
  constructor(readonly verdict: NotReadyError | PermanentError) {
    super(verdict.message);
  }
}

/**
 * Reads the next connection method on channel 0, skipping heartbeats and
 * `Blocked`/`Unblocked`; a server's `Close` becomes {@linkcode ServerClosed};
 * a server that answers with its own protocol header speaks another version.
 */
async function readMethod(
  stream: ByteStream,
  what: string,
  where: string,
): Promise<ConnectionMethod> {
  for (;;) {
    const incoming = await stream.read(decodeIncoming, what);
    if (incoming.kind === "protocol-header") {
      throw new PermanentError(
        `${where} does not speak AMQP 0-9-1: it answered with the protocol header of ${
          protocolName(incoming.version)
        }`,
      );
    }
    if (incoming.type !== FRAME_METHOD) continue; // heartbeat
    if (incoming.channel !== 0) {
      throw new AmqpProtocolError(`frame on channel ${incoming.channel}`);
    }
    const method = decodeMethod(incoming.payload);
    if (method.name === "blocked" || method.name === "unblocked") continue;
    if (method.name === "close") {
      throw new ServerClosed(closeVerdict(method, where));
    }
    return method;
  }
}

/** Sends Close and waits (briefly) for Close-Ok; the connection is already known to open. */
async function closeCleanly(
  stream: ByteStream,
  where: string,
  signal: AbortSignal,
): Promise<void> {
  try {
    await stream.write(close(200, "preflight check done"), "Connection.Close");
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(CLOSE_OK_MS)]);
    bounded.addEventListener("abort", () => stream.close(), { once: true });
    for (;;) {
      const m = await readMethod(stream, "Connection.Close-Ok", where);
      if (m.name === "close-ok") return;
    }
  } catch {
    // Ready already: a broker slow to confirm the close changes nothing.
  }
}

/**
 * The protocol a server's header names: "AMQP" then protocol id and version
 * (1.0: id 0, 2 for TLS, 3 for SASL; 0-9-1: 0 0 9 1; 0-8: 1 1 8 0).
 */
export function protocolName(version: readonly number[]): string {
  const [id, major, minor, revision] = version;
  if (major === 1 && minor === 0 && revision === 0 && id <= 3) {
    return "AMQP 1.0";
  }
  if (id === 1 && major === 1) return `AMQP 0-${minor}`;
  if (id === 0 && major === 0) return `AMQP 0-${minor}-${revision}`;
  return `an unknown AMQP version (${version.join(" ")})`;
}

function unexpected(
  m: ConnectionMethod,
  expected: string,
  where: string,
): Error {
  const got = m.name === "other"
    ? `method ${m.classId}.${m.methodId}`
    : `Connection.${m.name[0].toUpperCase()}${m.name.slice(1)}`;
  return new NotReadyError(`${where} sent ${got} instead of ${expected}`);
}
