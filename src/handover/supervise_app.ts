/**
 * The `--supervise` hand-over (also used where exec is impossible): the app
 * runs as a child, preflight forwards signals, enforces the stop timeout,
 * reaps orphans when it is PID 1 and exits with the child's code, like tini.
 */
import { reapOrphans } from "../process/reap_orphans.ts";
import { spawnChild } from "../process/spawn_child.ts";

/** Signals passed on to the app (SPEC "run" step 3). */
const FORWARDED_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

/** How the supervised app is stopped and observed. */
export interface SuperviseOptions {
  /** Time between the stop signal and SIGKILL. */
  readonly stopTimeoutMs: number;
  /** Aborting stops the app as SIGTERM would (the watchdog uses it). */
  readonly signal?: AbortSignal;
  /** Called for each signal received and forwarded, e.g. to log it. */
  readonly onSignal?: (signal: Deno.Signal) => void;
}

/**
 * Runs the app as a child until it exits and resolves with its exit code
 * (128+N when signal N killed it). Throws SpawnError 127/126 when it cannot
 * be started.
 */
export async function superviseApp(
  argv: string[],
  env: Record<string, string>,
  opts: SuperviseOptions,
): Promise<number> {
  const child = spawnChild(argv, env);
  // Never throws: once the app exited its status is about to resolve.
  const send = (sig: Deno.Signal) => child.kill(sig);
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // A stop: pass the signal on, and SIGKILL if the app outlives the timeout.
  // Windows consoles deliver Ctrl-C to the child themselves: only arm.
  const stop = (sig: Deno.Signal | null) => {
    if (sig) send(sig);
    killTimer ??= setTimeout(() => send("SIGKILL"), opts.stopTimeoutMs);
  };
  const listeners: [Deno.Signal, () => void][] = [];
  const listen = (sig: Deno.Signal, fn: () => void) => {
    Deno.addSignalListener(sig, fn);
    listeners.push([sig, fn]);
  };
  if (Deno.build.os === "windows") {
    for (const sig of ["SIGINT", "SIGBREAK"] as const) {
      listen(sig, () => (opts.onSignal?.(sig), stop(null)));
    }
  } else {
    for (const sig of FORWARDED_SIGNALS) {
      listen(sig, () => {
        opts.onSignal?.(sig);
        if (sig === "SIGTERM" || sig === "SIGINT") stop(sig);
        else send(sig);
      });
    }
  }
  // The watchdog's abort stops the app with SIGTERM, unless a real stop
  // signal got there first: deferred one task, because a listener aborting
  // in the same signal dispatch runs before ours and SIGTERM must not be
  // sent twice (a second one means "force quit" to many servers).
  let abortTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    abortTimer = setTimeout(() => killTimer ?? stop("SIGTERM"), 0);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  // As PID 1, orphans re-parented to us become zombies unless we wait for
  // them; SIGCHLD tells when, and does not disturb Deno's own child tracking.
  const tracked = new Set([child.pid]);
  const reap = () => void reapOrphans(tracked);
  if (Deno.build.os === "linux" && Deno.pid === 1) listen("SIGCHLD", reap);
  try {
    return await child.status;
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
    opts.signal?.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
    clearTimeout(abortTimer);
    if (Deno.build.os === "linux" && Deno.pid === 1) reap();
  }
}
