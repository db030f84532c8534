/**
 * What a readiness check is. One file per kind of target implements
 * {@linkcode Check}; the wait loop (src/wait/) does the retrying, so a check
 * makes exactly one attempt and says whether a failure is worth retrying.
 */

/** One readiness check of one target. */
export interface Check {
  /** The target with credentials redacted, safe to log. */
  readonly id: string;
  /**
   * Makes one attempt. Resolves when the target is ready; rejects with
   * {@linkcode NotReadyError} (transient: retry) or {@linkcode PermanentError}
   * (broken: stop waiting). Must give up promptly when `signal` aborts.
   */
  check(signal: AbortSignal): Promise<void>;
}

/** Not ready yet: refused, reset, timed out, starting up, name not resolving. Retried. */
export class NotReadyError extends Error {
  override name = "NotReadyError";
}

/** Broken: wrong password, unknown database or user, TLS certificate error. Not retried. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** Options shared by all checks, from the command line. */
export interface CheckOptions {
  /** HTTP statuses counted as ready; default any 2xx. */
  httpStatus?: readonly number[];
}

/** Builds the check for one parsed target. */
export type CheckFactory = (
  target: import("./target.ts").Target,
  options: CheckOptions,
) => Check;

/** Turns any error into a one-line reason, without a stack. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0];
  return String(error);
}
