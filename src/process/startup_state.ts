/**
 * What the process inherited at start (ignored signals and open file
 * descriptors), recorded before the runtime or our own code changes them, so
 * that the exec hand-over can give the app exactly that (SPEC "run" step 3).
 */

/** The inherited signal dispositions and file descriptors, as read at start. */
export interface StartupState {
  /** Signal numbers that were ignored (SIG_IGN) at start, per `SigIgn`. */
  readonly ignoredSignals: ReadonlySet<number>;
  /**
   * File descriptors open at start, each with its `/proc/self/fd` link
   * target, so a number later reused for another file is not mistaken for it.
   */
  readonly openFds: ReadonlyMap<number, string>;
}

let captured: StartupState | undefined;

/** Parses the `SigIgn:` hex mask of `/proc/PID/status` into signal numbers. */
function parseSigMask(status: string, field = "SigIgn"): Set<number> {
  const line = status.split("\n").find((l) => l.startsWith(`${field}:`));
  const signals = new Set<number>();
  if (!line) return signals;
  const mask = BigInt(`0x${line.slice(field.length + 1).trim()}`);
  for (let n = 1; n <= 64; n++) {
    if ((mask >> BigInt(n - 1)) & 1n) signals.add(n);
  }
  return signals;
}

/** Lists the open descriptors with their link targets (Linux `/proc`). */
export function listOpenFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(entry.name);
    try {
      fds.set(fd, Deno.readLinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // The descriptor of the directory being listed, closed by now.
    }
  }
  return fds;
}

/**
 * Records the inherited state; `main.ts` calls it first thing, before any
 * signal listener exists. Cheap: one small file read and one directory
 * listing, no FFI. Elsewhere than Linux it records nothing (no exec there).
 */
export function captureStartupState(): StartupState {
  if (captured) return captured;
  let ignoredSignals = new Set<number>();
  let openFds = new Map<number, string>();
  if (Deno.build.os === "linux") {
    try {
      ignoredSignals = parseSigMask(
        Deno.readTextFileSync("/proc/self/status"),
      );
      openFds = listOpenFds();
    } catch {
      // No /proc (or no read permission): startupState() stays undefined
      // below, and canExec() then falls back to supervising.
      return { ignoredSignals, openFds };
    }
  }
  captured = { ignoredSignals, openFds };
  return captured;
}

/** The state recorded by {@linkcode captureStartupState}, if it ran and succeeded. */
export function startupState(): StartupState | undefined {
  return captured;
}
