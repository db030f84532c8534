/**
 * The few libc functions the hand-over needs (Linux/glibc only), loaded on
 * first use so that commands which never hand over pay nothing for FFI.
 */

/**
 * What the exec hand-over, the reaping of orphans and signalling a child
 * use: bound at the first call of {@linkcode libc}.
 */
const BASE = {
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  pthread_sigmask: {
    parameters: ["i32", "buffer", "pointer"],
    result: "i32",
  },
  // Declared with a fixed third argument: on the Linux ABIs Deno supports a
  // variadic int is passed like a normal one.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close_range: {
    parameters: ["u32", "u32", "i32"],
    result: "i32",
    optional: true,
  },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // Declared with fixed arguments, as fcntl above.
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/**
 * What spawning a child uses: bound only when one is spawned. Binding a
 * symbol costs time (about 0.15 ms each here, more for a nonblocking one),
 * and `wait -- app` binds libc before it waits (exec_app.ts).
 */
const SPAWN = {
  /** waitpid on a worker thread, for a child that may run for long. */
  waitpid_async: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  posix_spawn: {
    parameters: ["buffer", "buffer", "pointer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawnattr_setsigmask: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_setsigdefault: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The loaded library's symbols. */
export type Libc =
  & Deno.DynamicLibrary<typeof BASE>["symbols"]
  & Deno.DynamicLibrary<typeof SPAWN>["symbols"];

let lib: Libc | null | undefined;

/**
 * Loads glibc once; null when impossible (not Linux, no FFI permission,
 * musl). The spawning symbols are bound on their first use.
 */
export function libc(): Libc | null {
  if (lib === undefined) {
    lib = null;
    if (Deno.build.os === "linux") {
      try {
        const base = Deno.dlopen("libc.so.6", BASE).symbols;
        let spawn: Deno.DynamicLibrary<typeof SPAWN>["symbols"] | undefined;
        const bound = { ...base } as Libc;
        for (const name of Object.keys(SPAWN) as (keyof typeof SPAWN)[]) {
          Object.defineProperty(bound, name, {
            get: () =>
              (spawn ??= Deno.dlopen("libc.so.6", SPAWN).symbols)[name],
          });
        }
        lib = bound;
      } catch {
        lib = null;
      }
    }
  }
  return lib;
}

/** The calling thread's `errno`, read right after a failed call. */
export function errno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** Linux constants used by the hand-over (same on x86_64 and aarch64). */
export const L = {
  SIG_BLOCK: 0,
  SIG_SETMASK: 2,
  F_GETFD: 1,
  F_SETFD: 2,
  FD_CLOEXEC: 1,
  CLOSE_RANGE_CLOEXEC: 4,
  WNOHANG: 1,
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  ENOEXEC: 8,
  ECHILD: 10,
  EACCES: 13,
  ENOTDIR: 20,
  EINTR: 4,
  E2BIG: 7,
  ENOMEM: 12,
  ETXTBSY: 26,
  ELOOP: 40,
  /** glibc's sigset_t is 1024 bits. */
  SIGSET_BYTES: 128,
  /** glibc's posix_spawnattr_t is 336 bytes on x86_64; room to spare. */
  SPAWNATTR_BYTES: 1024,
  POSIX_SPAWN_SETPGROUP: 0x02,
  POSIX_SPAWN_SETSIGDEF: 0x04,
  POSIX_SPAWN_SETSIGMASK: 0x08,
  PR_SET_CHILD_SUBREAPER: 36,
} as const;

/** Linux signal numbers by Deno name (x86_64 and aarch64 agree). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};
