/**
 * The default hand-over: replace the process image with the app (`execve`),
 * so the app keeps the PID (PID 1 in a container) and receives signals
 * directly, after giving back what preflight inherited: the ignored signals,
 * an empty signal mask and only the inherited file descriptors (SPEC "run"
 * step 3).
 */
import { SpawnError } from "../errors.ts";
import { errno, L, type Libc, libc } from "./_libc.ts";
import { resolveCommand } from "./resolve_command.ts";
import { listOpenFds, startupState } from "./startup_state.ts";
import { reapOrphans } from "./reap_orphans.ts";

const SIGPIPE = 13;
/** SIGKILL and SIGSTOP cannot change; 32 and 33 belong to glibc's threads. */
const UNTOUCHABLE = new Set([9, 19, 32, 33]);

/**
 * Whether {@linkcode execApp} can work here: Linux with glibc, FFI allowed,
 * and the startup state recorded. Otherwise the caller supervises instead.
 */
export function canExec(): boolean {
  return Deno.build.os === "linux" && startupState() !== undefined &&
    libc() !== null;
}

const encoder = new TextEncoder();

/**
 * Builds NUL-terminated C strings and NULL-terminated pointer arrays in one
 * off-heap buffer each, so the garbage collector cannot move them.
 */
function cStrings(
  lists: string[][],
): { keep: unknown[]; arrays: BigUint64Array[] } {
  const encoded = lists.map((l) => l.map((s) => encoder.encode(s)));
  const total = encoded.flat().reduce((n, b) => n + b.length + 1, 0);
  const bytes = new Uint8Array(new ArrayBuffer(Math.max(total, 1024)));
  const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  let off = 0;
  const arrays = encoded.map((list) => {
    const ptrs = new BigUint64Array(
      new ArrayBuffer(Math.max((list.length + 1) * 8, 1024)),
    );
    list.forEach((b, i) => {
      bytes.set(b, off);
      bytes[off + b.length] = 0;
      ptrs[i] = base + BigInt(off);
      off += b.length + 1;
    });
    ptrs[list.length] = 0n;
    return ptrs;
  });
  return { keep: [bytes], arrays };
}

function cString(s: string): Uint8Array {
  const b = encoder.encode(s);
  const out = new Uint8Array(new ArrayBuffer(Math.max(b.length + 1, 1024)));
  out.set(b);
  return out;
}

/**
 * Gives every signal the disposition preflight started with: ignored if it
 * was ignored then (never SIGPIPE, which the runtime itself ignores), else
 * default. Caught signals would be reset by execve anyway, but resetting
 * them now makes a stop signal arriving in the last instant act on us
 * (exit 128+N) rather than vanish in a handler that never runs again.
 */
function restoreSignals(c: Libc, ignored: ReadonlySet<number>): void {
  const SIG_DFL = null;
  const SIG_IGN = Deno.UnsafePointer.create(1n);
  for (let sig = 1; sig <= 64; sig++) {
    if (UNTOUCHABLE.has(sig)) continue;
    const ign = ignored.has(sig) && sig !== SIGPIPE;
    c.signal(sig, ign ? SIG_IGN : SIG_DFL);
  }
}

/**
 * Marks every descriptor >= 3 close-on-exec except those inherited at start
 * (same number, same file): the app gets exactly what preflight was given.
 */
function closeOnExec(c: Libc, inherited: ReadonlyMap<number, string>): void {
  const now = listOpenFds();
  const keep = [...now].filter(([fd, target]) =>
    fd >= 3 && inherited.get(fd) === target
  ).map(([fd]) => fd).sort((a, b) => a - b);
  if (c.close_range) {
    // One call per gap between kept descriptors, also catching any descriptor
    // opened by another thread since the listing.
    let from = 3;
    let ok = true;
    for (const fd of [...keep, 0xffffffff + 1]) {
      if (fd > from) {
        ok &&= c.close_range(from, fd - 1, L.CLOSE_RANGE_CLOEXEC) === 0;
      }
      from = fd + 1;
    }
    if (ok) return;
  }
  // Kernels before 5.11 or glibc before 2.34: one fcntl per open descriptor.
  for (const fd of now.keys()) {
    if (fd >= 3 && !keep.includes(fd)) c.fcntl(fd, L.F_SETFD, L.FD_CLOEXEC);
  }
}

/**
 * Replaces the process with `argv` (resolved on `PATH` like `execvp`, a
 * script without `#!` run by `/bin/sh`) and `env` as its whole environment.
 * Never returns: throws SpawnError 127/126 when the program cannot be found
 * or run, before or at the exec. The caller flushes logs and closes
 * connections first. After a failed exec the signal dispositions are
 * already reset, so the caller should only report and exit.
 */
export function execApp(argv: string[], env: Record<string, string>): never {
  const path = resolveCommand(argv[0] ?? "", env);
  const c = libc();
  const state = startupState();
  if (!c || !state || Deno.build.os !== "linux") {
    throw new SpawnError(`Cannot exec '${argv[0]}' on this system`, 126);
  }
  const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const { keep, arrays: [cArgv, cEnv, shArgv] } = cStrings([
    argv,
    envp,
    ["/bin/sh", path, ...argv.slice(1)],
  ]);
  const cPath = cString(path);
  const all = new Uint8Array(new ArrayBuffer(L.SIGSET_BYTES)).fill(0xff);
  const none = new Uint8Array(new ArrayBuffer(L.SIGSET_BYTES));

  // Signals stay blocked while dispositions change, so no handler of ours
  // runs half-way; unblocking delivers anything pending with its default
  // action. The mask is per thread and execve keeps this thread's.
  c.pthread_sigmask(L.SIG_BLOCK, all, null);
  // As PID 1, zombies left by migration children would pass to the app,
  // which may never wait for them. No Deno child matters any more here.
  if (Deno.pid === 1) reapOrphans(new Set(), c);
  restoreSignals(c, state.ignoredSignals);
  closeOnExec(c, state.openFds);
  c.pthread_sigmask(L.SIG_SETMASK, none, null);

  c.execve(cPath, cArgv, cEnv);
  let err = errno(c);
  if (err === L.ENOEXEC) {
    // What execvp does for an executable file that is not a binary.
    c.execve(cString("/bin/sh"), shArgv, cEnv);
    err = errno(c);
  }
  void keep;
  const missing = err === L.ENOENT || err === L.ENOTDIR;
  const why = missing
    ? "not found"
    : err === L.EACCES
    ? "permission denied"
    : `exec failed with errno ${err}`;
  throw new SpawnError(`Cannot run '${argv[0]}': ${why}`, missing ? 127 : 126);
}
