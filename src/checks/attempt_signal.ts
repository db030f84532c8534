/**
 * The deadline of one check attempt. The wait loop gives every attempt a
 * signal; a check that talks a protocol also needs its own upper bound, for
 * callers whose signal never aborts (`doctor`, a test), so that a silent peer
 * cannot hang an attempt forever. Shared by the MySQL, AMQP, DNS and Unix
 * socket checks.
 */
import { NotReadyError } from "./check.ts";
import { timedOut } from "../time/timeout_signal.ts";

/** Longest a single attempt may take when the caller's signal never aborts. */
export const MAX_ATTEMPT_MS = 30_000;

/**
 * The caller's signal combined with {@linkcode MAX_ATTEMPT_MS}. Built on
 * `AbortSignal.timeout` rather than `setTimeout`: its timer is not ref'd,
 * ends by itself, and is cheap to create.
 */
export function attemptSignal(
  outer: AbortSignal,
  ms = MAX_ATTEMPT_MS,
): AbortSignal {
  return AbortSignal.any([outer, AbortSignal.timeout(ms)]);
}

/**
 * The transient error of an attempt that `signal` ended while `waitingFor`
 * (e.g. "the handshake from 127.0.0.1:3306") had not arrived.
 */
export function abortedError(
  signal: AbortSignal,
  waitingFor: string,
): NotReadyError {
  return new NotReadyError(
    timedOut(signal)
      ? `no ${waitingFor} before the attempt timed out`
      : `check aborted while waiting for ${waitingFor}`,
  );
}
