/**
 * A tiny Redis (RESP2) client: enough for the readiness check (`AUTH`,
 * `SELECT`, `PING`) and for `doctor` (`INFO server`, `LLEN celery`), with no
 * npm dependency so that `probe` starts fast. One command at a time, no
 * pipelining, no pub/sub. None of these commands replies with an array, so
 * an array reply is read as a peer that is not the Redis server expected.
 */
import { NotReadyError } from "./check.ts";
import { connectAny, connectError, raceAbort } from "./connect.ts";
import { hostPort } from "./target.ts";
import { timedOut } from "../time/timeout_signal.ts";

/** An error reply (`-ERR ...`), returned as a value: the caller decides what it means. */
export class RespErrorReply extends Error {
  override name = "RespErrorReply";
  /** The first word of the message: `ERR`, `LOADING`, `WRONGPASS`, `NOAUTH`... */
  get code(): string {
    return this.message.split(" ", 1)[0];
  }
}

/** Bytes that are not valid RESP: the peer is not a Redis server (or is broken). */
export class RespProtocolError extends Error {
  override name = "RespProtocolError";
}

/**
 * A decoded reply. Simple and bulk strings are strings (bulk strings decoded
 * as UTF-8, lossily for binary values), integers are numbers, a null bulk
 * string is `null`, an error reply is a {@linkcode RespErrorReply}.
 */
export type RespValue = string | number | null | RespErrorReply;

/** Limits that keep a hostile or confused peer from exhausting memory. */
export interface RespLimits {
  /** Longest header or simple-string line, in bytes (default 64 KiB, as Redis' own inline limit). */
  maxLine?: number;
  /** Largest bulk string, in bytes (default 64 MiB). */
  maxBulk?: number;
}

const CR = 13;
const LF = 10;

/**
 * Incremental RESP2 decoder of the replies to the commands preflight sends:
 * {@linkcode feed} it bytes as they arrive, in pieces of any size, and
 * {@linkcode next} returns each complete reply. Only whole replies are
 * consumed.
 */
export class RespParser {
  #buf = new Uint8Array(0);
  #pos = 0;
  #decoder = new TextDecoder();
  #maxLine: number;
  #maxBulk: number;

  constructor(limits: RespLimits = {}) {
    this.#maxLine = limits.maxLine ?? 64 * 1024;
    this.#maxBulk = limits.maxBulk ?? 64 * 1024 * 1024;
  }

  /** Appends received bytes. */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const rest = this.#buf.length - this.#pos;
    const next = new Uint8Array(rest + chunk.length);
    next.set(this.#buf.subarray(this.#pos), 0);
    next.set(chunk, rest);
    this.#buf = next;
    this.#pos = 0;
  }

  /** True when received bytes are waiting for the rest of a reply. */
  get pending(): boolean {
    return this.#pos < this.#buf.length;
  }

  /**
   * The next complete reply, or `undefined` when more bytes are needed.
   * Throws {@linkcode RespProtocolError} on bytes that are not RESP, or not
   * a reply to these commands.
   */
  next(): RespValue | undefined {
    const buf = this.#buf;
    const start = this.#pos;
    if (start >= buf.length) return undefined;
    const type = buf[start];
    // Judge the type byte at once: garbage may never contain a CRLF.
    if (!TYPES.has(type)) {
      throw new RespProtocolError(
        type === 0x2a
          ? "an array reply, which no command sent returns"
          : `invalid reply type byte ${describeByte(type)}`,
      );
    }
    const lineEnd = this.#lineEnd(start + 1);
    if (lineEnd < 0) return undefined;
    const line = this.#decoder.decode(buf.subarray(start + 1, lineEnd));
    const after = lineEnd + 2;
    switch (type) {
      case 0x2b: // '+' simple string
        this.#pos = after;
        return line;
      case 0x2d: // '-' error
        this.#pos = after;
        return new RespErrorReply(line);
      case 0x3a: // ':' integer
        this.#pos = after;
        return this.#integer(line);
      default: { // '$' bulk string
        const len = this.#length(line, this.#maxBulk, "bulk string");
        if (len < 0) {
          this.#pos = after;
          return null;
        }
        if (buf.length < after + len + 2) return undefined;
        if (buf[after + len] !== CR || buf[after + len + 1] !== LF) {
          throw new RespProtocolError(
            "bulk string not terminated by CRLF",
          );
        }
        this.#pos = after + len + 2;
        return this.#decoder.decode(buf.subarray(after, after + len));
      }
    }
  }

  /** Index of the CR of the CRLF ending the line that starts at `from`, or -1. */
  #lineEnd(from: number): number {
    const buf = this.#buf;
    const limit = Math.min(buf.length, from + this.#maxLine + 1);
    for (let i = from; i < limit; i++) {
      if (buf[i] === CR) {
        if (i + 1 >= buf.length) return -1;
        if (buf[i + 1] !== LF) {
          throw new RespProtocolError("CR not followed by LF");
        }
        return i;
      }
      if (buf[i] === LF) throw new RespProtocolError("LF without CR");
    }
    if (limit - from > this.#maxLine) {
      throw new RespProtocolError(`line longer than ${this.#maxLine} bytes`);
    }
    return -1;
  }

  #integer(line: string): number {
    if (!/^-?\d{1,20}$/.test(line)) {
      throw new RespProtocolError(`invalid integer '${line.slice(0, 40)}'`);
    }
    return Number(line);
  }

  #length(line: string, max: number, what: string): number {
    const n = this.#integer(line);
    if (n < -1) throw new RespProtocolError(`invalid ${what} length ${n}`);
    if (n > max) {
      throw new RespProtocolError(`${what} of ${n} exceeds the limit ${max}`);
    }
    return n;
  }
}

const TYPES = new Set([0x2b, 0x2d, 0x3a, 0x24]);

function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, "0")}`;
  return b >= 0x20 && b < 0x7f ? `${hex} '${String.fromCharCode(b)}'` : hex;
}

const encoder = new TextEncoder();

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | number)[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = encoder.encode(String(arg));
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const CRLF = new Uint8Array([CR, LF]);

/** How to reach a Redis server. */
export interface RespConnectOptions {
  host: string;
  port: number;
  /** Gives up (and closes the socket) when this aborts. */
  signal: AbortSignal;
  /**
   * TLS (`rediss://`): `true` for the default roots, or extra PEM root
   * certificates trusted in addition to them. The certificate must be valid
   * for `host`.
   */
  tls?: boolean | { caCerts?: string[] };
  limits?: RespLimits;
}

/**
 * One connection to a Redis server. I/O failures — refused, reset, closed,
 * silence until the signal aborts, bytes that are not RESP — throw
 * {@linkcode NotReadyError}; a TLS certificate problem throws
 * `PermanentError`; error replies are returned, not thrown.
 */
export class RespConnection {
  #conn: Deno.Conn;
  #parser: RespParser;
  #closed = false;
  #buf = new Uint8Array(16 * 1024);
  /** `host:port`, for messages. */
  readonly where: string;

  private constructor(conn: Deno.Conn, where: string, limits?: RespLimits) {
    this.#conn = conn;
    this.where = where;
    this.#parser = new RespParser(limits);
  }

  /** Connects (trying every address of `host`) and completes the TLS handshake if asked. */
  static async connect(opts: RespConnectOptions): Promise<RespConnection> {
    const where = hostPort(opts);
    const tcp = await connectAny(opts);
    if (!opts.tls) return new RespConnection(tcp, where, opts.limits);
    let tls: Deno.TlsConn;
    try {
      tls = await Deno.startTls(tcp, {
        hostname: opts.host,
        caCerts: typeof opts.tls === "object" ? opts.tls.caCerts : undefined,
      });
    } catch (e) {
      closeQuietly(tcp);
      throw connectError(e, where);
    }
    try {
      await raceAbort(tls.handshake(), opts.signal);
    } catch (e) {
      closeQuietly(tls);
      if (opts.signal.aborted) {
        throw new NotReadyError(
          `TLS handshake with ${where} did not complete in time (is TLS enabled on that port?)`,
          { cause: e },
        );
      }
      throw connectError(e, where);
    }
    return new RespConnection(tls, where, opts.limits);
  }

  /**
   * Sends one command and reads its reply. Throws `NotReadyError` when the
   * connection fails or `signal` aborts; the connection is then closed.
   */
  async command(
    args: readonly (string | number)[],
    signal: AbortSignal,
  ): Promise<RespValue> {
    if (this.#closed) {
      throw new NotReadyError(`connection to ${this.where} is closed`);
    }
    try {
      const bytes = encodeCommand(args);
      for (let at = 0; at < bytes.length;) {
        at += await raceAbort(this.#conn.write(bytes.subarray(at)), signal);
      }
      while (true) {
        const reply = this.#parser.next();
        if (reply !== undefined) return reply;
        const n = await raceAbort(this.#conn.read(this.#buf), signal);
        if (n === null) {
          throw new NotReadyError(
            `connection closed by ${this.where} before it replied to ${
              String(args[0]).toUpperCase()
            }`,
          );
        }
        this.#parser.feed(this.#buf.subarray(0, n));
      }
    } catch (e) {
      this.close();
      if (signal.aborted) {
        throw new NotReadyError(
          `no reply from ${this.where} to ${String(args[0]).toUpperCase()} (${
            timedOut(signal) ? "timed out" : "aborted"
          })`,
          { cause: e },
        );
      }
      if (e instanceof RespProtocolError) {
        throw new NotReadyError(
          `unexpected reply from ${this.where}, not a Redis server? (${e.message})`,
          { cause: e },
        );
      }
      throw connectError(e, this.where);
    }
  }

  /** Closes the socket; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}
