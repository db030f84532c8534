/**
 * A fake {@linkcode Clock} for tests of deadlines, delays, backoff and the
 * watchdog: time stands still until the test moves it, so a 60 s budget or a
 * 32 s backoff takes no real time and every timing is exact.
 *
 * {@linkcode FakeClock.run} drives a promise to its end: whenever the code
 * under test has nothing left to do but wait for a timer, time jumps to the
 * next one. Real I/O may run meanwhile (a child process, a loopback
 * connection), but time jumps as soon as the event loop is idle for a turn,
 * so a timer pending *while* real I/O is in flight (an attempt's time limit
 * around a real connection) may fire early: such code is tested on the real
 * clock.
 */
import type { Clock, Deadline } from "../src/time/clock.ts";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** Yields to the event loop once: microtasks and ready I/O callbacks run. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  /** Starts at `start` ms (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.length;
  }

  #add(ms: number, fire: () => void): Timer {
    const timer = {
      at: this.#now + Math.max(0, Math.ceil(ms)),
      seq: this.#seq++,
      fire,
    };
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return timer;
  }

  #remove(timer: Timer): void {
    const i = this.#timers.indexOf(timer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  delay(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#remove(timer);
        reject(signal!.reason);
      };
      const timer = this.#add(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  timeout(ms: number, parent?: AbortSignal): Deadline {
    if (ms === Infinity) {
      return { signal: parent ?? new AbortController().signal, dispose() {} };
    }
    const ctl = new AbortController();
    const timer = this.#add(
      ms,
      () => ctl.abort(new DOMException("Signal timed out.", "TimeoutError")),
    );
    return {
      signal: parent ? AbortSignal.any([parent, ctl.signal]) : ctl.signal,
      dispose: () => this.#remove(timer),
    };
  }

  /** Fires the earliest timer (time moves to it, never back); false when there is none. */
  async #fireNext(until = Infinity): Promise<boolean> {
    const next = this.#timers[0];
    if (!next || next.at > until) return false;
    this.#timers.shift();
    this.#now = Math.max(this.#now, next.at);
    next.fire();
    await turn();
    return true;
  }

  /** Moves time forward by `ms`, firing the timers due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await turn();
    while (await this.#fireNext(until)) { /* next */ }
    this.#now = Math.max(this.#now, until);
  }

  /**
   * Runs `promise` to its end, moving time to the next timer whenever the
   * code under test is idle. Throws when it has not settled after
   * `realLimitMs` of real time (a test that would otherwise hang).
   */
  async run<T>(promise: Promise<T>, realLimitMs = 30_000): Promise<T> {
    let settled = false;
    const done = promise.finally(() => settled = true);
    done.catch(() => {});
    const limit = performance.now() + realLimitMs;
    while (!settled) {
      await turn();
      if (settled) break;
      if (performance.now() > limit) {
        throw new Error(
          `FakeClock.run: not settled after ${realLimitMs} ms of real time (${this.#timers.length} timers pending)`,
        );
      }
      await this.#fireNext();
    }
    return await done;
  }
}
