/**
 * The AMQP 0-9-1 wire format, as far as opening and closing a connection
 * needs it: the protocol header, frames, field tables, and the methods of
 * the `connection` class. Pure: bytes in, values out (amqp_handshake.ts does
 * the I/O). Big-endian throughout, as the specification says.
 */
import type { Decoder } from "./byte_stream.ts";

/** What a 0-9-1 client sends first: "AMQP", 0, then version 0-9-1. */
export const PROTOCOL_HEADER = new Uint8Array([
  0x41,
  0x4d,
  0x51,
  0x50,
  0,
  0,
  9,
  1,
]);

/** Frame types. */
export const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
const FRAME_END = 0xce;

/** Largest frame accepted before Tune: RabbitMQ's Connection.Start is about 500 bytes. */
export const MAX_FRAME = 128 * 1024;

/** Bytes that are not AMQP 0-9-1 framing: the peer speaks something else. */
export class AmqpProtocolError extends Error {
  override name = "AmqpProtocolError";
}

/** A field value as decoded from a table. */
export type FieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | FieldValue[]
  | FieldTable;

/** A field table (server-properties, client-properties). */
export interface FieldTable {
  [name: string]: FieldValue;
}

/** What the server sent: a frame, or its own protocol header (it does not speak our version). */
export type Incoming =
  | {
    readonly kind: "frame";
    readonly type: number;
    readonly channel: number;
    readonly payload: Uint8Array;
  }
  | {
    readonly kind: "protocol-header";
    /** The four bytes after "AMQP", e.g. [0, 0, 9, 1] or [0, 1, 0, 0] for AMQP 1.0. */
    readonly version: readonly number[];
  };

/**
 * Decodes the next frame, or the protocol header a server answers with when
 * it refuses our version (a {@linkcode Decoder} for byte_stream.ts). Throws
 * {@linkcode AmqpProtocolError} as soon as the bytes cannot be AMQP.
 */
export const decodeIncoming: Decoder<Incoming> = (bytes) => {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === 0x41) {
    const n = Math.min(bytes.length, 4);
    if (!PROTOCOL_HEADER.subarray(0, n).every((b, i) => bytes[i] === b)) {
      throw new AmqpProtocolError(`unexpected first bytes ${hex(bytes, 4)}`);
    }
    if (bytes.length < 8) return undefined;
    return {
      value: { kind: "protocol-header", version: [...bytes.subarray(4, 8)] },
      length: 8,
    };
  }
  if (
    ![FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT].includes(
      bytes[0],
    )
  ) {
    throw new AmqpProtocolError(`unexpected frame type ${hex(bytes, 1)}`);
  }
  if (bytes.length < 7) return undefined;
  const view = viewOf(bytes);
  const size = view.getUint32(3);
  if (size > MAX_FRAME) {
    throw new AmqpProtocolError(`frame of ${size} bytes`);
  }
  if (bytes.length < 8 + size) return undefined;
  if (bytes[7 + size] !== FRAME_END) {
    throw new AmqpProtocolError(
      `frame end ${hex(bytes.subarray(7 + size), 1)} instead of 0xce`,
    );
  }
  return {
    value: {
      kind: "frame",
      type: bytes[0],
      channel: view.getUint16(1),
      payload: bytes.slice(7, 7 + size),
    },
    length: 8 + size,
  };
};

/** The `connection` methods a client meets while opening and closing. */
export type ConnectionMethod =
  | {
    readonly name: "start";
    readonly versionMajor: number;
    readonly versionMinor: number;
    readonly serverProperties: FieldTable;
    readonly mechanisms: string[];
    readonly locales: string[];
  }
  | { readonly name: "secure"; readonly challenge: Uint8Array }
  | {
    readonly name: "tune";
    readonly channelMax: number;
    readonly frameMax: number;
    readonly heartbeat: number;
  }
  | { readonly name: "open-ok" }
  | {
    readonly name: "close";
    readonly replyCode: number;
    readonly replyText: string;
    /** The method that caused the close (0 when none). */
    readonly classId: number;
    readonly methodId: number;
  }
  | { readonly name: "close-ok" }
  | { readonly name: "blocked"; readonly reason: string }
  | { readonly name: "unblocked" }
  /** Any other class or method (a broker that is not following the handshake). */
  | {
    readonly name: "other";
    readonly classId: number;
    readonly methodId: number;
  };

const CONNECTION = 10;

/** Decodes a method frame's payload. Throws {@linkcode AmqpProtocolError} when truncated. */
export function decodeMethod(payload: Uint8Array): ConnectionMethod {
  const r = new Reader(payload);
  const classId = r.uint16();
  const methodId = r.uint16();
  if (classId !== CONNECTION) return { name: "other", classId, methodId };
  switch (methodId) {
    case 10: {
      const versionMajor = r.uint8();
      const versionMinor = r.uint8();
      const serverProperties = r.table();
      const mechanisms = r.longString().split(" ").filter(Boolean);
      const locales = r.longString().split(" ").filter(Boolean);
      return {
        name: "start",
        versionMajor,
        versionMinor,
        serverProperties,
        mechanisms,
        locales,
      };
    }
    case 20:
      return { name: "secure", challenge: r.longBytes() };
    case 30:
      return {
        name: "tune",
        channelMax: r.uint16(),
        frameMax: r.uint32(),
        heartbeat: r.uint16(),
      };
    case 41:
      return { name: "open-ok" };
    case 50:
      return {
        name: "close",
        replyCode: r.uint16(),
        replyText: r.shortString(),
        classId: r.uint16(),
        methodId: r.uint16(),
      };
    case 51:
      return { name: "close-ok" };
    case 60:
      return { name: "blocked", reason: r.shortString() };
    case 61:
      return { name: "unblocked" };
  }
  return { name: "other", classId, methodId };
}

/** A simple value for a client-properties table: string, boolean, integer or nested table. */
export type ClientValue = string | boolean | number | {
  [k: string]: ClientValue;
};

/** Connection.Start-Ok with the PLAIN mechanism's response for `user` and `password`. */
export function startOkPlain(
  clientProperties: Record<string, ClientValue>,
  user: string,
  password: string,
): Uint8Array {
  const w = new Writer();
  w.uint16(CONNECTION).uint16(11);
  w.table(clientProperties);
  w.shortString("PLAIN");
  w.longBytes(new TextEncoder().encode(`\0${user}\0${password}`));
  w.shortString("en_US");
  return methodFrame(w.bytes());
}

/** Connection.Tune-Ok. */
export function tuneOk(
  channelMax: number,
  frameMax: number,
  heartbeat: number,
): Uint8Array {
  const w = new Writer();
  w.uint16(CONNECTION).uint16(31);
  w.uint16(channelMax).uint32(frameMax).uint16(heartbeat);
  return methodFrame(w.bytes());
}

/** Connection.Open of a virtual host. */
export function open(vhost: string): Uint8Array {
  const w = new Writer();
  w.uint16(CONNECTION).uint16(40);
  w.shortString(vhost).shortString("").uint8(0);
  return methodFrame(w.bytes());
}

/** Connection.Close, 200 reply-success from a client that is done. */
export function close(replyCode: number, replyText: string): Uint8Array {
  const w = new Writer();
  w.uint16(CONNECTION).uint16(50);
  w.uint16(replyCode).shortString(replyText).uint16(0).uint16(0);
  return methodFrame(w.bytes());
}

/** Connection.Close-Ok, the answer to a server's Close. */
export function closeOk(): Uint8Array {
  return methodFrame(new Writer().uint16(CONNECTION).uint16(51).bytes());
}

/** Wraps a method payload into a frame on channel 0. */
function methodFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const view = viewOf(out);
  out[0] = FRAME_METHOD;
  view.setUint16(1, 0);
  view.setUint32(3, payload.length);
  out.set(payload, 7);
  out[7 + payload.length] = FRAME_END;
  return out;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(bytes: Uint8Array, n: number): string {
  return [...bytes.subarray(0, n)]
    .map((b) => `0x${b.toString(16).padStart(2, "0")}`)
    .join(" ");
}

/** Sequential reads that throw {@linkcode AmqpProtocolError} past the end. */
class Reader {
  #bytes: Uint8Array;
  #view: DataView;
  #at = 0;
  #dec = new TextDecoder();

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
  }

  #need(n: number): number {
    if (this.#at + n > this.#bytes.length) {
      throw new AmqpProtocolError("truncated method frame");
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  uint8(): number {
    return this.#bytes[this.#need(1)];
  }
  uint16(): number {
    return this.#view.getUint16(this.#need(2));
  }
  uint32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  shortString(): string {
    const n = this.uint8();
    return this.#dec.decode(this.#bytes.subarray(this.#need(n), this.#at));
  }
  longBytes(): Uint8Array {
    const n = this.uint32();
    return this.#bytes.slice(this.#need(n), this.#at);
  }
  longString(): string {
    return this.#dec.decode(this.longBytes());
  }

  /** A field table: its byte length, then name, type tag and value for each field. */
  table(): FieldTable {
    const end = this.uint32() + this.#at;
    if (end > this.#bytes.length) {
      throw new AmqpProtocolError("truncated field table");
    }
    const table: FieldTable = {};
    while (this.#at < end) {
      const name = this.shortString();
      table[name] = this.value();
    }
    if (this.#at !== end) throw new AmqpProtocolError("malformed field table");
    return table;
  }

  /** One tagged value; tags as RabbitMQ sends them (the 0-9-1 errata's list). */
  value(): FieldValue {
    const tag = String.fromCharCode(this.uint8());
    const v = this.#view;
    switch (tag) {
      case "t":
        return this.uint8() !== 0;
      case "b":
        return v.getInt8(this.#need(1));
      case "B":
        return this.uint8();
      case "s":
        return v.getInt16(this.#need(2));
      case "u":
        return this.uint16();
      case "I":
        return v.getInt32(this.#need(4));
      case "i":
        return this.uint32();
      case "l":
        return v.getBigInt64(this.#need(8));
      case "T":
        return v.getBigUint64(this.#need(8));
      case "f":
        return v.getFloat32(this.#need(4));
      case "d":
        return v.getFloat64(this.#need(8));
      case "D": {
        const scale = this.uint8();
        return v.getInt32(this.#need(4)) / 10 ** scale;
      }
      case "S":
        return this.longString();
      case "x":
        return this.longBytes();
      case "A": {
        const end = this.uint32() + this.#at;
        if (end > this.#bytes.length) {
          throw new AmqpProtocolError("truncated field array");
        }
        const items: FieldValue[] = [];
        while (this.#at < end) items.push(this.value());
        if (this.#at !== end) {
          throw new AmqpProtocolError("malformed field array");
        }
        return items;
      }
      case "F":
        return this.table();
      case "V":
        return null;
    }
    throw new AmqpProtocolError(`unknown field type '${tag}'`);
  }
}

/** Appends big-endian values to a growing buffer. */
class Writer {
  #parts: number[] = [];
  #enc = new TextEncoder();

  uint8(n: number): this {
    this.#parts.push(n & 0xff);
    return this;
  }
  uint16(n: number): this {
    return this.uint8(n >> 8).uint8(n);
  }
  uint32(n: number): this {
    return this.uint16(n >>> 16).uint16(n & 0xffff);
  }
  raw(bytes: Uint8Array): this {
    for (const b of bytes) this.#parts.push(b);
    return this;
  }
  shortString(s: string): this {
    const bytes = this.#enc.encode(s);
    if (bytes.length > 255) {
      throw new RangeError(`'${s.slice(0, 20)}...' is longer than 255 bytes`);
    }
    return this.uint8(bytes.length).raw(bytes);
  }
  longBytes(bytes: Uint8Array): this {
    return this.uint32(bytes.length).raw(bytes);
  }
  table(t: Record<string, ClientValue>): this {
    const inner = new Writer();
    for (const [name, value] of Object.entries(t)) {
      inner.shortString(name);
      if (typeof value === "string") {
        inner.uint8(0x53).longBytes(this.#enc.encode(value)); // 'S'
      } else if (typeof value === "boolean") {
        inner.uint8(0x74).uint8(value ? 1 : 0); // 't'
      } else if (typeof value === "number") {
        inner.uint8(0x49).uint32(value >>> 0); // 'I'
      } else {
        inner.uint8(0x46).table(value); // 'F'
      }
    }
    return this.longBytes(inner.bytes());
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.#parts);
  }
}
