/**
 * Starting a child with `posix_spawn` (glibc, through FFI) instead of
 * `Deno.Command`, for what `Deno.Command` cannot do: arguments and
 * environment that are not UTF-8 (it takes strings), and a process group of
 * the child's own. `posix_spawn` is safe in a multi-threaded runtime, unlike
 * `fork`: glibc's `clone(CLONE_VM | CLONE_VFORK)` runs nothing but the exec
 * in the child. Its exit status is read by `waitpid` on a worker thread,
 * for that pid only (a blanket `waitpid(-1)` would steal the status of
 * `Deno.Command` children).
 */
import { SpawnError } from "../errors.ts";
import { errno, L, type Libc } from "./_libc.ts";
import { CMemory } from "./_c_memory.ts";
import { execFailure } from "./exec_error.ts";
import { startupState } from "./startup_state.ts";

/**
 * SIGKILL and SIGSTOP cannot change. glibc's own 32 and 33 are listed for
 * the child too: posix_spawn would otherwise leave them ignored in it.
 */
const UNTOUCHABLE = new Set([9, 19]);
const SIGPIPE = 13;

/** A sigset_t with the given signal numbers. */
function sigset(mem: CMemory, signals: Iterable<number>): Uint8Array {
  const set = mem.zeros(L.SIGSET_BYTES);
  for (const n of signals) set[(n - 1) >> 3] |= 1 << ((n - 1) & 7);
  return set;
}

/**
 * The signals the child gets with their default action: all but those
 * preflight inherited as ignored (so the child starts with the dispositions
 * preflight was started with, as the exec hand-over gives), and SIGPIPE
 * always back to default (the runtime ignores it).
 */
function defaultSignals(): number[] {
  const ignored = startupState()?.ignoredSignals ?? new Set<number>();
  const out: number[] = [];
  for (let n = 1; n <= 64; n++) {
    if (UNTOUCHABLE.has(n)) continue;
    if (ignored.has(n) && n !== SIGPIPE) continue;
    out.push(n);
  }
  return out;
}

/**
 * Spawns `path` with `argv` and `env` (byte strings), stdio and every
 * descriptor without close-on-exec inherited, no signal blocked. With
 * `newGroup` the child leads a process group of its own (pgid = pid).
 * Returns the pid, or the errno posix_spawn failed with.
 */
function spawnOnce(
  c: Libc,
  path: Uint8Array,
  argv: readonly Uint8Array[],
  env: readonly Uint8Array[],
  newGroup: boolean,
): number | { errno: number } {
  const mem = new CMemory();
  const attr = mem.zeros(L.SPAWNATTR_BYTES);
  const rc = c.posix_spawnattr_init(attr);
  if (rc !== 0) return { errno: rc };
  try {
    let flags = L.POSIX_SPAWN_SETSIGMASK | L.POSIX_SPAWN_SETSIGDEF;
    if (newGroup) {
      flags |= L.POSIX_SPAWN_SETPGROUP;
      c.posix_spawnattr_setpgroup(attr, 0);
    }
    c.posix_spawnattr_setflags(attr, flags);
    c.posix_spawnattr_setsigmask(attr, sigset(mem, []));
    c.posix_spawnattr_setsigdefault(attr, sigset(mem, defaultSignals()));
    const pid = new Int32Array(new ArrayBuffer(1024));
    const err = c.posix_spawn(
      pid,
      mem.string(path),
      null,
      attr,
      mem.array(mem.strings(argv)),
      mem.array(mem.strings(env)),
    );
    return err === 0 ? pid[0] : { errno: err };
  } finally {
    c.posix_spawnattr_destroy(attr);
  }
}

/** A child started by {@linkcode posixSpawn}. */
export interface SpawnedChild {
  readonly pid: number;
  /** Resolves with the exit code, 128+N when signal N killed it. */
  readonly status: Promise<number>;
}

/** Decodes a `waitpid` status as a shell reports it: the code, or 128+N. */
function exitCodeOfStatus(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

/** Waits for one child by pid, off the main thread. */
async function waitFor(c: Libc, pid: number): Promise<number> {
  const status = new Int32Array(new ArrayBuffer(1024));
  for (;;) {
    const got = await c.waitpid_async(pid, status, 0);
    if (got === pid) return exitCodeOfStatus(status[0]);
    // Interrupted (errno is the worker thread's, unreadable here): ask again
    // without blocking, which tells whether it is still running.
    const now = c.waitpid(pid, status, L.WNOHANG);
    if (now === pid) return exitCodeOfStatus(status[0]);
    if (now < 0) {
      throw new Error(`lost track of child ${pid} (errno ${errno(c)})`);
    }
  }
}

/**
 * Starts `argv` (already resolved to `path`) as `execvp` would: a file that
 * is neither an ELF binary nor a `#!` script runs with `/bin/sh`. Throws
 * SpawnError 127/126 (exec format error included) when it cannot start.
 */
export function posixSpawn(
  c: Libc,
  name: string,
  path: string,
  argv: readonly Uint8Array[],
  env: readonly Uint8Array[],
  newGroup: boolean,
): SpawnedChild {
  const encoder = new TextEncoder();
  let pid = spawnOnce(c, encoder.encode(path), argv, env, newGroup);
  if (typeof pid !== "number") {
    const failure = execFailure(name, path, pid.errno);
    if (failure !== "shell") throw failure;
    const sh = encoder.encode("/bin/sh");
    pid = spawnOnce(
      c,
      sh,
      [sh, encoder.encode(path), ...argv.slice(1)],
      env,
      newGroup,
    );
    if (typeof pid !== "number") {
      throw new SpawnError(
        `Cannot run '${name}' with /bin/sh: errno ${pid.errno}`,
        126,
      );
    }
  }
  return { pid, status: waitFor(c, pid) };
}
