/**
 * C strings and NULL-terminated pointer arrays for the FFI calls of the
 * hand-over (`execve`, `posix_spawn`), in off-heap memory (array buffers of
 * 1 KiB and more) so the garbage collector cannot move them while a pointer
 * to them is held; they live as long as the {@linkcode CMemory} object.
 */
export class CMemory {
  readonly #keep: ArrayBufferView[] = [];

  /** Writes each byte string NUL-terminated into one buffer; returns their addresses. */
  strings(list: readonly Uint8Array[]): bigint[] {
    const total = list.reduce((n, b) => n + b.length + 1, 0);
    // A new buffer is zero-filled: every string is NUL-terminated already.
    const bytes = new Uint8Array(new ArrayBuffer(Math.max(total, 1024)));
    this.#keep.push(bytes);
    const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
    let off = 0;
    return list.map((b) => {
      bytes.set(b, off);
      const at = base + BigInt(off);
      off += b.length + 1;
      return at;
    });
  }

  /** A NULL-terminated array of the given addresses (`char *const[]`). */
  array(pointers: readonly bigint[]): BigUint64Array {
    const out = new BigUint64Array(
      new ArrayBuffer(Math.max((pointers.length + 1) * 8, 1024)),
    );
    out.set(pointers);
    this.#keep.push(out);
    return out;
  }

  /** One C string, as a buffer argument. */
  string(b: Uint8Array): Uint8Array {
    const out = new Uint8Array(new ArrayBuffer(Math.max(b.length + 1, 1024)));
    out.set(b);
    this.#keep.push(out);
    return out;
  }

  /** A zero-filled buffer of at least `size` bytes (a struct, a sigset). */
  zeros(size: number): Uint8Array {
    const out = new Uint8Array(new ArrayBuffer(Math.max(size, 1024)));
    this.#keep.push(out);
    return out;
  }
}
