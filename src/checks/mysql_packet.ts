/**
 * The first packet a MySQL or MariaDB server sends on a new connection, and
 * what it says about readiness. Pure: the bytes come from mysql_greeting.ts.
 *
 * A server that accepts the connection sends its initial handshake (protocol
 * 10; 9 from servers older than 3.21), before any credentials are asked for.
 * A server that turns the connection away sends an ERR packet instead
 * (1040 too many connections, 1129 host blocked, 1130 host not allowed...).
 *
 * Readiness follows `pg_isready` (libpq's PQping): any error the server
 * sends with a code of its own means it is up — libpq answers PQPING_OK for
 * every SQLSTATE but 57P03, "too many clients" (53300) and a pg_hba
 * rejection (28000) included — and only the MySQL equivalents of 57P03,
 * "cannot connect now" (shutdown in progress, offline mode), mean not ready.
 * Whether a given user may log in is the question of a target with a user.
 */
import { NotReadyError } from "./check.ts";
import type { Decoder } from "./byte_stream.ts";

/** Bytes that cannot be a MySQL greeting: the peer is something else (or broken). */
export class MysqlProtocolError extends Error {
  override name = "MysqlProtocolError";
}

/** A packet: 3-byte little-endian payload length, sequence number, payload. */
export interface MysqlPacket {
  readonly sequence: number;
  readonly payload: Uint8Array;
}

/** What the server's first packet says. */
export type Greeting =
  | {
    readonly kind: "handshake";
    /** 10 (or 9 for servers from the last century). */
    readonly protocol: number;
    /** As sent: MariaDB prefixes "5.5.5-" for old replication clients. */
    readonly serverVersion: string;
    readonly connectionId: number;
    /** Capability flags (lower and upper 16 bits), 0 when not sent. */
    readonly capabilities: number;
    /** Default authentication plugin, when the server names one. */
    readonly authPlugin?: string;
  }
  | {
    readonly kind: "error";
    readonly code: number;
    /** Five characters, when the server sent one (`#HY000`). */
    readonly sqlState?: string;
    readonly message: string;
  };

/** Largest first packet accepted: real greetings are about a hundred bytes. */
const MAX_GREETING = 16 * 1024;

/** CLIENT_SSL: the server can switch to TLS. */
export const CAPABILITY_SSL = 0x800;

/**
 * Errors a server sends instead of the handshake that mean "not accepting
 * connections right now", as SQLSTATE 57P03 does for PostgreSQL.
 */
const CANNOT_CONNECT_NOW: ReadonlyMap<number, string> = new Map([
  [1053, "ER_SERVER_SHUTDOWN"],
  [3032, "ER_SERVER_OFFLINE_MODE"],
]);

/**
 * Decodes one packet (a {@linkcode Decoder} for byte_stream.ts). Bytes that
 * cannot start a MySQL greeting — an HTTP or Redis reply, TLS, noise — throw
 * {@linkcode MysqlProtocolError} at once rather than waiting for megabytes that will never
 * come.
 */
export const decodeGreetingPacket: Decoder<MysqlPacket> = (bytes) => {
  if (bytes.length < 4) return undefined;
  const length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
  if (length === 0 || length > MAX_GREETING) {
    throw new MysqlProtocolError(
      `packet length ${length} (first bytes ${hex(bytes.subarray(0, 4))})`,
    );
  }
  if (bytes.length >= 5 && ![9, 10, 0xff].includes(bytes[4])) {
    throw new MysqlProtocolError(
      `unexpected first byte ${hex(bytes.subarray(4, 5))}`,
    );
  }
  if (bytes.length < 4 + length) return undefined;
  return {
    value: { sequence: bytes[3], payload: bytes.slice(4, 4 + length) },
    length: 4 + length,
  };
};

/**
 * Parses the payload of the first packet: an initial handshake or an ERR
 * packet. Anything else throws {@linkcode MysqlProtocolError}.
 */
export function parseGreeting(payload: Uint8Array): Greeting {
  const dec = new TextDecoder();
  if (payload[0] === 0xff) {
    if (payload.length < 3) {
      throw new MysqlProtocolError("truncated error packet");
    }
    const code = payload[1] | (payload[2] << 8);
    let at = 3;
    let sqlState: string | undefined;
    // "#" and a SQLSTATE follow only when the protocol-4.1 format is used.
    if (payload[at] === 0x23 && payload.length >= at + 6) {
      sqlState = dec.decode(payload.subarray(at + 1, at + 6));
      at += 6;
    }
    const message = dec.decode(payload.subarray(at)).trim();
    return { kind: "error", code, sqlState, message };
  }
  const protocol = payload[0];
  if (protocol !== 10 && protocol !== 9) {
    throw new MysqlProtocolError(`protocol version ${protocol}`);
  }
  const end = payload.indexOf(0, 1);
  if (end < 0 || end + 5 > payload.length) {
    throw new MysqlProtocolError("truncated handshake");
  }
  const serverVersion = dec.decode(payload.subarray(1, end));
  const view = new DataView(
    payload.buffer,
    payload.byteOffset,
    payload.byteLength,
  );
  const connectionId = view.getUint32(end + 1, true);
  let capabilities = 0;
  let authPlugin: string | undefined;
  if (protocol === 10) {
    // version NUL, id (4), auth data part 1 (8), filler (1), caps low (2)
    let at = end + 1 + 4 + 8 + 1;
    if (at + 2 <= payload.length) {
      capabilities = view.getUint16(at, true);
      at += 2;
      // charset (1), status (2), caps high (2), auth data length (1)
      if (at + 6 <= payload.length) {
        capabilities |= view.getUint16(at + 3, true) << 16;
        const authDataLength = payload[at + 5];
        at += 6 + 10; // and 10 reserved bytes
        at += Math.max(13, authDataLength - 8);
        const CLIENT_PLUGIN_AUTH = 0x80000;
        if ((capabilities & CLIENT_PLUGIN_AUTH) && at < payload.length) {
          const nul = payload.indexOf(0, at);
          authPlugin = dec.decode(
            payload.subarray(at, nul < 0 ? payload.length : nul),
          );
        }
      }
    }
  }
  return {
    kind: "handshake",
    protocol,
    serverVersion,
    connectionId,
    capabilities: capabilities >>> 0,
    authPlugin: authPlugin || undefined,
  };
}

/**
 * The readiness of a server from its greeting (see the module comment):
 * "ready" for a handshake or an error meaning "up, but not for you"; a
 * `NotReadyError` for the "cannot connect now" errors.
 */
export function greetingVerdict(
  greeting: Greeting,
  where: string,
): "ready" | NotReadyError {
  if (greeting.kind === "handshake") return "ready";
  const name = CANNOT_CONNECT_NOW.get(greeting.code);
  if (name === undefined) return "ready";
  return new NotReadyError(
    `${where} answered: ${
      oneLine(greeting.message)
    } (${greeting.code} ${name})`,
  );
}

/** Product and version from a handshake's version string. */
export function serverProduct(
  serverVersion: string,
): { product: "MariaDB" | "MySQL"; version: string } {
  const mariadb = /mariadb/i.test(serverVersion);
  // MariaDB 10 and later announce "5.5.5-10.11.6-MariaDB" so that MySQL 5
  // replicas do not take it for MySQL 10.
  const text = mariadb ? serverVersion.replace(/^5\.5\.5-/, "") : serverVersion;
  const version = /^\d+(?:\.\d+)*/.exec(text)?.[0] ?? text;
  return { product: mariadb ? "MariaDB" : "MySQL", version };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\.$/, "");
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => `0x${b.toString(16).padStart(2, "0")}`).join(
    " ",
  );
}
