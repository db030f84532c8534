/**
 * The arguments and environment preflight was started with, byte for byte.
 *
 * `Deno.args` and `Deno.env` are strings: an argument that is not valid
 * UTF-8 arrives with U+FFFD in place of the bad bytes, and a variable whose
 * name or value is not valid UTF-8 is missing altogether. The app and the
 * migration must get them as they were (SPEC "run" step 3), so on Linux the
 * raw bytes are read from `/proc/self/cmdline` and `/proc/self/environ`.
 * Configuration parsing and redaction work on a lossy string view
 * ({@linkcode inheritedEnv}, `Deno.args`); when a string of that view
 * reaches a child unchanged, {@linkcode argvBytes} and
 * {@linkcode environBytes} put the original bytes back.
 */

const lossy = new TextDecoder();
const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Splits a NUL-separated `/proc` file into its byte strings. */
export function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function readProc(name: string): Uint8Array | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return Deno.readFileSync(`/proc/self/${name}`);
  } catch {
    return undefined;
  }
}

/** The inherited environment: its lossy view, and the raw bytes of the entries that are not UTF-8. */
interface Environ {
  readonly view: Record<string, string>;
  /** `NAME=VALUE` as the lossy view shows it, to the entry's original bytes. */
  readonly raw: ReadonlyMap<string, Uint8Array>;
}

let environ: Environ | null | undefined;

/**
 * Parses an environment block (`NAME=VALUE` entries): the first entry of a
 * name wins, as with `getenv`; an entry without `=` is skipped.
 */
export function parseEnviron(entries: readonly Uint8Array[]): Environ {
  const view: Record<string, string> = {};
  const raw = new Map<string, Uint8Array>();
  for (const entry of entries) {
    const eq = entry.indexOf(0x3d);
    if (eq <= 0) continue;
    const name = lossy.decode(entry.subarray(0, eq));
    if (Object.hasOwn(view, name)) continue;
    const value = lossy.decode(entry.subarray(eq + 1));
    view[name] = value;
    if (!isUtf8(entry)) raw.set(`${name}=${value}`, entry.slice());
  }
  return { view, raw };
}

/**
 * The usual case, an environment that is UTF-8 throughout, in one decode:
 * the same as {@linkcode parseEnviron}, which reads entry by entry, when
 * that decode succeeds; undefined otherwise.
 */
function parseUtf8Environ(bytes: Uint8Array): Environ | undefined {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    return undefined;
  }
  const view: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!Object.hasOwn(view, name)) view[name] = entry.slice(eq + 1);
  }
  return { view, raw: new Map() };
}

/** Parses a whole `/proc/PID/environ` block, as {@linkcode parseEnviron} reads it. */
export function parseEnvironBlock(bytes: Uint8Array): Environ {
  return parseUtf8Environ(bytes) ?? parseEnviron(splitNul(bytes));
}

function inherited(): Environ | null {
  if (environ === undefined) {
    const bytes = readProc("environ");
    environ = bytes === undefined ? null : parseEnvironBlock(bytes);
  }
  return environ;
}

/**
 * The environment preflight was started with, as strings: on Linux from
 * `/proc/self/environ`, with U+FFFD for bytes that are not UTF-8 (so such a
 * variable is not lost); elsewhere `Deno.env`.
 */
export function inheritedEnv(): Record<string, string> {
  const env = inherited();
  return env ? { ...env.view } : Deno.env.toObject();
}

/**
 * One `NAME=VALUE` entry as bytes: the inherited entry's own bytes when the
 * strings are its lossy view (it was not UTF-8), else UTF-8.
 */
export function entryBytes(name: string, value: string): Uint8Array {
  const text = `${name}=${value}`;
  if (text.includes("\uFFFD")) {
    const raw = inherited()?.raw.get(text);
    if (raw) return raw;
  }
  return encoder.encode(text);
}

/** A whole environment as `NAME=VALUE` byte strings (see {@linkcode entryBytes}). */
export function environBytes(
  env: Readonly<Record<string, string>>,
): Uint8Array[] {
  return Object.keys(env).map((k) => entryBytes(k, env[k]));
}

let args:
  | { view: readonly string[]; raw: readonly Uint8Array[] }
  | null
  | undefined;

/**
 * `Deno.args` with their raw bytes: the last `Deno.args.length` entries of
 * `/proc/self/cmdline` (before them come the runtime's own: `deno run
 * FLAGS main.ts`, or just `preflight` when compiled), used only when each
 * decodes to its `Deno.args` counterpart.
 */
function rawArgs(): typeof args {
  if (args === undefined) {
    args = null;
    const bytes = readProc("cmdline");
    const view = Deno.args;
    if (bytes !== undefined) {
      const all = splitNul(bytes);
      const raw = all.slice(all.length - view.length);
      if (
        all.length > view.length &&
        raw.every((b, i) => lossy.decode(b) === view[i])
      ) args = { view, raw };
    }
  }
  return args;
}

/**
 * An argument vector as byte strings. When `argv` is the end of the command
 * line (the words after `--`), each word gets its original bytes; otherwise
 * (a command from a variable) UTF-8.
 */
export function argvBytes(argv: readonly string[]): Uint8Array[] {
  const a = rawArgs();
  if (
    a && argv.length <= a.view.length && argv.some((w) => w.includes("\uFFFD"))
  ) {
    const from = a.view.length - argv.length;
    if (argv.every((w, i) => a.view[from + i] === w)) {
      return a.raw.slice(from).map((b) => b.slice());
    }
  }
  return argv.map((w) => encoder.encode(w));
}
