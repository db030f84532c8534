/**
 * Library-first logging: modules ask for the logger of their area
 * (`log("wait")`) and log; `main.ts` decides once, with `setupLogging`
 * (setup_logging.ts), where lines go and in which format. Until then, and
 * in tests that set nothing up, records go nowhere. Messages are literal
 * text; structured fields go to JSON logs only.
 *
 * A few lines of our own rather than a logging library: the one this
 * replaced (logtape) cost about 10 ms of every start-up to load, a third of
 * what `wait` adds to an empty module (BENCHMARKS.md), for a sink and four
 * levels.
 */
import type { StatusLine } from "./status_line.ts";

/** Structured fields of a log line (JSON format): phase, target, attempt, delay_ms, elapsed_ms, exit_code... */
export type Fields = Record<string, unknown>;

/** How severe a record is, least first. */
export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One log event, as a sink receives it. */
export interface LogRecord {
  readonly level: Level;
  /** The area that logged it ("wait", "run", "main"). */
  readonly area: string;
  readonly message: string;
  readonly fields: Fields;
  /** `Date.now()` when it was logged. */
  readonly timestamp: number;
}

/** A logger for one area of preflight. */
export interface Log {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/**
 * What a command logs with (its context's): a logger per area, and the live
 * status line of a terminal.
 */
export interface Logger {
  /** The logger of an area: `log(area)`, e.g. `get("wait")`. */
  get(area: string): Log;
  readonly status: StatusLine;
}

let sink: ((record: LogRecord) => void) | undefined;
let lowest = RANK.info;

/**
 * Sends every record of `level` and above to `to` from now on; `undefined`
 * stops logging (records go nowhere again).
 */
export function routeLogs(
  to: ((record: LogRecord) => void) | undefined,
  level: Level = "info",
): void {
  sink = to;
  lowest = RANK[level];
}

/** Returns the logger of an area, e.g. `log("wait")`. */
export function log(area: string): Log {
  const emit = (level: Level) => (message: string, fields?: Fields) => {
    if (sink === undefined || RANK[level] < lowest) return;
    sink({ level, area, message, fields: fields ?? {}, timestamp: Date.now() });
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}
