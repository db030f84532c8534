/**
 * A client connection read message by message, for checks that speak a few
 * bytes of a binary protocol themselves (the MySQL greeting, the AMQP
 * handshake). It owns the one rule every such check needs: when the
 * attempt's signal aborts, the socket is closed — which is what interrupts a
 * pending read — and the failure is "not ready", as are a refused, reset or
 * closed connection. Decoding stays in pure functions ({@linkcode Decoder}).
 */
import { NotReadyError } from "./check.ts";
import { connectAny, connectError, raceAbort } from "./connect.ts";
import { abortedError } from "./attempt_signal.ts";
import { timedOut } from "../time/timeout_signal.ts";

/**
 * Decodes the next message at the start of `bytes`: `undefined` when more
 * bytes are needed, else the message and how many bytes it took. Throws for
 * bytes that are not the protocol (a `NotReadyError` saying so).
 */
export type Decoder<T> = (
  bytes: Uint8Array,
) => { value: T; length: number } | undefined;

/** Where and how {@linkcode ByteStream.connect} connects. */
export interface ByteStreamConnectOptions {
  host: string;
  port: number;
  /** `host:port` as messages show it. */
  where: string;
  /** Ends the attempt: closes the socket and fails pending calls. */
  signal: AbortSignal;
  /**
   * TLS: extra PEM roots trusted besides the system's (none: the system's
   * only). The certificate must be valid for `host`.
   */
  tls?: { caCerts?: string[] };
}

/** One connection, read through {@linkcode Decoder}s. Close it (or `using`) when done. */
export class ByteStream implements Disposable {
  #conn: Deno.Conn;
  #signal: AbortSignal;
  #pending = new Uint8Array(0);
  #chunk = new Uint8Array(16 * 1024);
  #closed = false;
  #onAbort = () => this.close();
  /** `host:port`, for messages. */
  readonly where: string;

  /** Wraps an open connection; it is closed as soon as `signal` aborts. */
  constructor(conn: Deno.Conn, where: string, signal: AbortSignal) {
    this.#conn = conn;
    this.where = where;
    this.#signal = signal;
    if (signal.aborted) this.close();
    else signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Connects to the first address of `host` that accepts (see connect.ts)
   * and completes the TLS handshake when asked. Refused, reset, unresolved,
   * aborted: `NotReadyError`; a certificate the roots do not vouch for:
   * `PermanentError`.
   */
  static async connect(opts: ByteStreamConnectOptions): Promise<ByteStream> {
    const tcp = await connectAny(opts);
    if (!opts.tls) return new ByteStream(tcp, opts.where, opts.signal);
    let tls: Deno.TlsConn;
    try {
      tls = await Deno.startTls(tcp, {
        hostname: opts.host,
        caCerts: opts.tls.caCerts,
      });
    } catch (e) {
      closeQuietly(tcp);
      throw connectError(e, opts.where);
    }
    try {
      await raceAbort(tls.handshake(), opts.signal);
    } catch (e) {
      closeQuietly(tls);
      if (opts.signal.aborted) {
        throw new NotReadyError(
          `TLS handshake with ${opts.where} did not complete in time (is TLS enabled on that port?)`,
          { cause: e },
        );
      }
      throw connectError(e, opts.where);
    }
    return new ByteStream(tls, opts.where, opts.signal);
  }

  /**
   * Reads the next message with `decode`. `what` names it for the errors:
   * "no WHAT from HOST:PORT before the attempt timed out", "connection closed
   * by HOST:PORT while waiting for WHAT".
   */
  async read<T>(decode: Decoder<T>, what: string): Promise<T> {
    for (;;) {
      const got = decode(this.#pending);
      if (got !== undefined) {
        this.#pending = this.#pending.subarray(got.length);
        return got.value;
      }
      let n: number | null;
      try {
        if (this.#closed) throw new Deno.errors.BadResource("closed");
        n = await this.#conn.read(this.#chunk);
      } catch (e) {
        throw this.#failure(e, what);
      }
      if (n === null) {
        throw new NotReadyError(
          this.#pending.length === 0
            ? `connection closed by ${this.where} while waiting for ${what}`
            : `connection closed by ${this.where} in the middle of ${what}`,
        );
      }
      const next = new Uint8Array(this.#pending.length + n);
      next.set(this.#pending);
      next.set(this.#chunk.subarray(0, n), this.#pending.length);
      this.#pending = next;
    }
  }

  /** Writes all of `bytes`; `what` names them for the errors. */
  async write(bytes: Uint8Array, what: string): Promise<void> {
    try {
      for (let at = 0; at < bytes.length;) {
        if (this.#closed) throw new Deno.errors.BadResource("closed");
        at += await this.#conn.write(bytes.subarray(at));
      }
    } catch (e) {
      if (this.#signal.aborted) {
        throw new NotReadyError(
          timedOut(this.#signal)
            ? `sending ${what} to ${this.where} did not complete before the attempt timed out`
            : `check aborted while sending ${what} to ${this.where}`,
          { cause: e },
        );
      }
      throw this.#failure(e, what, true);
    }
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal.removeEventListener("abort", this.#onAbort);
    closeQuietly(this.#conn);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #failure(e: unknown, what: string, writing = false): Error {
    if (this.#signal.aborted) {
      return abortedError(this.#signal, `${what} from ${this.where}`);
    }
    const name = (e as Error)?.name;
    if (name === "ConnectionReset" || name === "BrokenPipe") {
      return new NotReadyError(
        `connection reset by ${this.where} ${
          writing ? "while" : "while waiting for"
        } ${what}`,
      );
    }
    return connectError(e, this.where);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
