/**
 * What a readiness check is. One file per kind of target implements
 * {@linkcode Check}; the wait loop (src/wait/) does the retrying, so a check
 * makes exactly one attempt and says whether a failure is worth retrying.
 */
import { scrub } from "../redact.ts";

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

/**
 * Masks the target's password (as written and percent-encoded) and every
 * registered secret in a failure's message: a peer that echoes what it
 * received must not make a log line show it. Same error, same class.
 */
export function hideSecrets<E extends Error>(
  error: E,
  password: string | undefined,
): E {
  let msg = scrub(error.message);
  if (password) {
    for (const form of [password, encodeURIComponent(password)]) {
      msg = msg.split(form).join("***");
    }
  }
  error.message = msg;
  return error;
}

/** Options shared by all checks, from the command line. */
export interface CheckOptions {
  /** HTTP statuses counted as ready; default any 2xx. */
  httpStatus?: readonly number[];
}

/** Turns any error into a one-line reason, without a stack. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0];
  return String(error);
}
