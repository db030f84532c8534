/**
 * A thin wrapper over logtape's logger: messages are literal text (braces
 * are not placeholders) and structured fields go to JSON logs only.
 */
import { getLogger } from "@logtape/logtape";
import type { StatusLine } from "./status_line.ts";

/** Structured fields of a log line (JSON format): phase, target, attempt, delay_ms, elapsed_ms, exit_code... */
export type Fields = Record<string, unknown>;

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
  /** The logger of an area, e.g. `get("wait")` logs as `preflight.wait`. */
  get(area: string): Log;
  readonly status: StatusLine;
}

const escape = (s: string) => s.replaceAll("{", "{{").replaceAll("}", "}}");

/** Returns the logtape logger of an area, e.g. `log("wait")` logs as `preflight.wait`. */
export function log(area: string): Log {
  const l = getLogger(["preflight", area]);
  return {
    debug: (msg, fields) => l.debug(escape(msg), fields ?? {}),
    info: (msg, fields) => l.info(escape(msg), fields ?? {}),
    warn: (msg, fields) => l.warn(escape(msg), fields ?? {}),
    error: (msg, fields) => l.error(escape(msg), fields ?? {}),
  };
}
