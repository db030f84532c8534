/**
 * The default hand-over: replace the process image with the app (`execve`),
 * so the app keeps the PID (PID 1 in a container) and receives signals
 * directly, after giving back what preflight inherited: the ignored signals,
 * an empty signal mask and only the inherited file descriptors (SPEC "run"
 * step 3).
 *
 * Prepared before the wait ({@linkcode prepareExec}), so that once the
 * dependencies are ready only the last steps remain before the app runs.
 */
import { SpawnError } from "../errors.ts";
import { errno, L, type Libc, libc } from "./_libc.ts";
import { CMemory } from "./_c_memory.ts";
import { execFailure } from "./exec_error.ts";
import { argvBytes, entryBytes } from "./raw_process.ts";
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
 * The descriptors >= 3 that were open at start and lack close-on-exec now:
 * those preflight may have to pass on. The others are the runtime's own,
 * opened close-on-exec before the startup state was recorded (a descriptor
 * inherited through an exec cannot have the flag, and nothing here sets it
 * on one). Read when the exec is prepared, so the hand-over checks only
 * these few (usually none).
 */
function inheritedFds(
  c: Libc,
  openAtStart: ReadonlyMap<number, string>,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const [fd, target] of openAtStart) {
    if (fd < 3) continue;
    const flags = c.fcntl(fd, L.F_GETFD, 0);
    if (flags >= 0 && (flags & L.FD_CLOEXEC) === 0) out.set(fd, target);
  }
  return out;
}

/**
 * The inherited descriptors still open on the same file, ascending: one
 * `readlink` per inherited descriptor, no listing.
 */
function keptFds(inherited: ReadonlyMap<number, string>): number[] {
  const keep: number[] = [];
  for (const [fd, target] of inherited) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${fd}`) === target) keep.push(fd);
    } catch {
      // Closed since the start.
    }
  }
  return keep.sort((a, b) => a - b);
}

/**
 * Marks every descriptor >= 3 close-on-exec except those inherited at start
 * (same number, same file; `inherited` from {@linkcode inheritedFds}): the
 * app gets exactly what preflight was given.
 */
function closeOnExec(c: Libc, inherited: ReadonlyMap<number, string>): void {
  const keep = keptFds(inherited);
  if (c.close_range) {
    // One call per gap between kept descriptors, also catching any descriptor
    // opened by another thread meanwhile.
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
  for (const fd of listOpenFds().keys()) {
    if (fd >= 3 && !keep.includes(fd)) c.fcntl(fd, L.F_SETFD, L.FD_CLOEXEC);
  }
}

/** An exec prepared ahead by {@linkcode prepareExec}. */
export interface PreparedExec {
  /** The program `argv[0]` resolved to when prepared. */
  readonly path: string;
  /**
   * Replaces the process with the prepared command and `env` as its whole
   * environment. Never returns; throws as {@linkcode execApp} does.
   */
  exec(env: Readonly<Record<string, string>>): never;
}

/**
 * Does ahead of time what an exec of `argv` needs that cannot change while
 * preflight waits: finds the program on `PATH` (SpawnError 127/126 now, not
 * after the wait), loads libc and writes the arguments and the entries of
 * `env` as C strings. What is left for {@linkcode PreparedExec.exec} is
 * encoding the variables added or changed since, resetting signals and
 * descriptors, and the `execve` itself. Throws SpawnError 126 where exec is
 * impossible (see {@linkcode canExec}).
 */
export function prepareExec(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): PreparedExec {
  const name = argv[0] ?? "";
  const path = resolveCommand(name, env);
  const c = libc();
  const state = startupState();
  if (!c || !state || Deno.build.os !== "linux") {
    throw new SpawnError(`Cannot exec '${name}' on this system`, 126);
  }
  const inherited = inheritedFds(c, state.openFds);
  const mem = new CMemory();
  const encoder = new TextEncoder();
  // The words after `--` as they were given, bytes that are not UTF-8 too.
  const args = argvBytes(argv);
  const cArgv = mem.array(mem.strings(args));
  const cPath = mem.string(encoder.encode(path));
  const envKeys = Object.keys(env);
  const envAt = mem.strings(envKeys.map((k) => entryBytes(k, env[k])));
  const prepared = new Map(
    envKeys.map((k, i) => [k, { value: env[k], at: envAt[i] }]),
  );
  const sigset = (fill: number) =>
    new Uint8Array(new ArrayBuffer(L.SIGSET_BYTES)).fill(fill);
  const all = sigset(0xff);
  const none = sigset(0);

  /** The environment as `char *envp[]`, reusing the prepared entries. */
  const envp = (final: Readonly<Record<string, string>>): BigUint64Array => {
    const keys = Object.keys(final);
    const at: bigint[] = new Array(keys.length);
    const fresh: number[] = [];
    keys.forEach((k, i) => {
      const p = prepared.get(k);
      if (p !== undefined && p.value === final[k]) at[i] = p.at;
      else fresh.push(i);
    });
    if (fresh.length > 0) {
      const written = mem.strings(
        fresh.map((i) => entryBytes(keys[i], final[keys[i]])),
      );
      fresh.forEach((i, j) => at[i] = written[j]);
    }
    return mem.array(at);
  };

  /**
   * execve, then `/bin/sh FILE ARGS` for a file that is neither a binary
   * nor a `#!` script (as execvp does); returns the error to report when
   * that fails too.
   */
  const run = (
    file: string,
    cFile: Uint8Array,
    cEnv: BigUint64Array,
  ): { err: number; failure: SpawnError } => {
    c.execve(cFile, cArgv, cEnv);
    const err = errno(c);
    const failure = execFailure(name, file, err);
    if (failure !== "shell") return { err, failure };
    const sh = mem.strings([
      encoder.encode("/bin/sh"),
      encoder.encode(file),
      ...args.slice(1),
    ]);
    c.execve(mem.string(encoder.encode("/bin/sh")), mem.array(sh), cEnv);
    const shErr = errno(c);
    const shFailure = execFailure("/bin/sh", "/bin/sh", shErr);
    return {
      err: shErr,
      failure: shFailure === "shell"
        ? new SpawnError(`Cannot run '${name}': /bin/sh cannot run`, 126)
        : shFailure,
    };
  };

  return {
    path,
    exec(final: Readonly<Record<string, string>>): never {
      const cEnv = envp(final);
      // Search again: a few stat calls. A program put earlier on PATH during
      // the wait or the migrations, or a PATH changed since, finds what an
      // exec resolved only now would run (and 127/126 from here if none).
      let file = resolveCommand(name, final);

      // Signals stay blocked while dispositions change, so no handler of ours
      // runs half-way; unblocking delivers anything pending with its default
      // action. The mask is per thread and execve keeps this thread's.
      c.pthread_sigmask(L.SIG_BLOCK, all, null);
      // As PID 1, zombies left by migration children would pass to the app,
      // which may never wait for them. No Deno child matters any more here.
      if (Deno.pid === 1) reapOrphans(new Set(), c);
      restoreSignals(c, state.ignoredSignals);
      closeOnExec(c, inherited);
      // The app does not inherit our role of subreaper for the migration.
      c.prctl(L.PR_SET_CHILD_SUBREAPER, 0n, 0n, 0n, 0n);
      c.pthread_sigmask(L.SIG_SETMASK, none, null);

      let { err, failure } = run(
        file,
        file === path ? cPath : mem.string(encoder.encode(file)),
        cEnv,
      );
      if (
        (err === L.ENOENT || err === L.ENOTDIR || err === L.EACCES) &&
        file === path
      ) {
        // The program was removed or changed since it was found: search
        // again, as an exec resolved only now would have (127/126 from
        // there), and run what that finds.
        const again = resolveCommand(name, final);
        if (again !== file) {
          file = again;
          ({ err, failure } = run(
            file,
            mem.string(encoder.encode(file)),
            cEnv,
          ));
        }
      }
      throw failure;
    },
  };
}

/**
 * Replaces the process with `argv` (resolved on `PATH` like `execvp`, a
 * script without `#!` run by `/bin/sh`, a binary for another CPU
 * architecture refused with 126) and `env` as its whole environment.
 * Never returns: throws SpawnError 127/126 when the program cannot be found
 * or run, before or at the exec. The caller flushes logs and closes
 * connections first. After a failed exec the signal dispositions are
 * already reset, so the caller should only report and exit.
 */
export function execApp(argv: string[], env: Record<string, string>): never {
  return prepareExec(argv, env).exec(env);
}
