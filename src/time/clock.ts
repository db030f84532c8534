/**
 * Time as commands see it, from their context: the real clock in
 * production, a fake one in tests (tests/_fake_clock.ts), so that deadlines,
 * delays, backoff and the watchdog are tested without waiting for them. The
 * budget, each attempt's share of it and every delay between attempts go
 * through it; the checks' own limits inside one attempt (checks/) and a
 * `docker` call's (compose/) stay on real timers: they bound I/O, which a
 * fake clock cannot hurry.
 */
import { delay } from "./delay.ts";
import { timeoutSignal } from "./timeout_signal.ts";

/** A deadline: its signal, and what releases its timer. */
export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds on a monotonic clock (real: `performance.now()`). */
  now(): number;
  /** Resolves after `ms`, never sooner, or rejects early with `signal`'s reason. */
  delay(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A signal that aborts after `ms` (reason: a `TimeoutError` DOMException)
   * or with `parent`; `ms` = Infinity (`--timeout 0`) is no deadline.
   */
  timeout(ms: number, parent?: AbortSignal): Deadline;
}

/** The process's clock and timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  delay,
  timeout: timeoutSignal,
};
