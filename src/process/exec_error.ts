/**
 * What a failed `execve` (or `posix_spawn`) means, as a shell would report
 * it: 127 when the program is not there, 126 when it cannot run. `ENOEXEC`
 * is told apart by the file's first bytes, as `execvp` does: a binary (an
 * ELF header) for another CPU architecture cannot run; a file with neither
 * an ELF header nor `#!` is a shell script without its first line, to run
 * with `/bin/sh`.
 */
import { SpawnError } from "../errors.ts";
import { L } from "./_libc.ts";

/** What a file's first bytes say it is. */
export type FileKind = "elf" | "script" | "other";

/** Classifies a file by its first bytes: ELF binary, `#!` script, or anything else. */
export function fileKind(head: Uint8Array): FileKind {
  if (
    head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 &&
    head[2] === 0x4c && head[3] === 0x46
  ) return "elf";
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    return "script";
  }
  return "other";
}

/** The interpreter named on a `#!` line, or undefined. */
export function interpreterOf(head: Uint8Array): string | undefined {
  if (fileKind(head) !== "script") return undefined;
  const end = head.indexOf(0x0a);
  const line = new TextDecoder().decode(
    head.subarray(2, end < 0 ? head.length : end),
  );
  return line.trim().split(/[ \t]+/)[0] || undefined;
}

/** The first bytes of a file (empty when it cannot be read). */
function readHead(path: string, size = 256): Uint8Array {
  try {
    using file = Deno.openSync(path);
    const buf = new Uint8Array(size);
    const n = file.readSync(buf) ?? 0;
    return buf.subarray(0, n);
  } catch {
    return new Uint8Array(0);
  }
}

const WHY: Record<number, string> = {
  [L.EACCES]: "permission denied",
  [L.E2BIG]: "argument list too long",
  [L.ENOMEM]: "out of memory",
  [L.ETXTBSY]: "text file busy (being written)",
  [L.ELOOP]: "too many levels of symbolic links",
};

/**
 * The outcome of an exec of `path` (found for the command `name`) that
 * failed with `errno`: "shell" when the file should run with `/bin/sh`,
 * else the SpawnError to report.
 */
export function execFailure(
  name: string,
  path: string,
  errno: number,
): "shell" | SpawnError {
  const fail = (why: string, code: 126 | 127 = 126) =>
    new SpawnError(`Cannot run '${name}': ${why}`, code);
  if (errno === L.ENOEXEC) {
    const head = readHead(path);
    const kind = fileKind(head);
    if (kind === "other") return "shell";
    if (kind === "elf") {
      return fail("exec format error (built for another CPU architecture?)");
    }
    return fail(
      `exec format error (its #! interpreter '${
        interpreterOf(head) ?? ""
      }' cannot be run)`,
    );
  }
  if (errno === L.ENOENT || errno === L.ENOTDIR) {
    // The file is there but its interpreter is not: a bad #! line.
    const interpreter = interpreterOf(readHead(path));
    if (interpreter !== undefined) {
      return fail(`its #! interpreter '${interpreter}' was not found`);
    }
    return fail("not found", 127);
  }
  return fail(WHY[errno] ?? `exec failed with errno ${errno}`);
}
