/** Synchronous writes to standard error: nothing is lost on exit or exec. */

const encoder = new TextEncoder();

/** Writes all of a text to standard error, synchronously. */
export function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}
