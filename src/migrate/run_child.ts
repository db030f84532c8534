/**
 * Runs one child to completion with inherited stdio. When `signal` aborts
 * (preflight got SIGTERM/SIGINT/SIGHUP), the child gets the same signal, then
 * SIGKILL after the stop timeout; the abort reason is then rethrown.
 */
import { SignalledError, SpawnError } from "../errors.ts";
import { resolveCommand } from "../handover/resolve_command.ts";

/** Exit code of a finished child: its code, or 128+N when signal N killed it. */
export function childExitCode(status: Deno.CommandStatus): number {
  if (status.signal !== null) {
    return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  }
  return status.code;
}

/** Linux signal numbers of the signals a child can die of. */
export const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

/** Runs `argv` and resolves with its exit code (128+N when killed by signal N). */
export async function runChild(
  argv: readonly string[],
  env: Record<string, string>,
  opts: { signal: AbortSignal; stopTimeoutMs: number },
): Promise<number> {
  const path = resolveCommand(argv[0], env);
  if (opts.signal.aborted) throw opts.signal.reason;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    const notFound = e instanceof Deno.errors.NotFound;
    throw new SpawnError(
      `Cannot run '${argv[0]}': ${(e as Error).message}`,
      notFound ? 127 : 126,
    );
  }
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    const reason = opts.signal.reason;
    const sig: Deno.Signal = reason instanceof SignalledError
      ? reason.signal
      : "SIGTERM";
    try {
      child.kill(sig);
    } catch { /* already gone */ }
    killTimer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.stopTimeoutMs);
  };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await child.status;
    if (opts.signal.aborted) throw opts.signal.reason;
    return childExitCode(status);
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}
