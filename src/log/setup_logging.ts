/**
 * Where log records go, set once per process: text lines with the
 * `[entrypoint] ` prefix, or one JSON object per line, written
 * synchronously (main.ts: to standard error, so nothing is lost on exit or
 * exec) and scrubbed of secrets.
 */
import {
  type Level,
  log,
  type Logger,
  type LogRecord,
  routeLogs,
} from "./logger.ts";
import { scrub } from "../redact.ts";
import { createStatusLine, type StatusLine } from "./status_line.ts";

export type LogFormat = "text" | "json";
export type LogLevel = Level;

export interface LoggingOptions {
  format: LogFormat;
  level: LogLevel;
  prefix: string;
  /** Where lines go: all of the text, synchronously (main.ts: standard error). */
  write: (text: string) => void;
  /** ANSI colours in text format (a terminal, NO_COLOR unset). */
  color?: boolean;
  /** A live status line while waiting (a terminal, text format). */
  live?: boolean;
  /** The terminal's width, for the status line. */
  columns?: number;
}

const GREEN = "\x1b[32m";
const YELLOW = "\x1b[33m";
const RED = "\x1b[31m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** The colour of a text line: by its mark (✓ ✗ ⚠️), else by its level. */
function colorOf(record: LogRecord, msg: string): string | undefined {
  if (msg.startsWith("✓")) return GREEN;
  if (msg.startsWith("✗") || record.level === "error") return RED;
  if (msg.startsWith("⚠️") || record.level === "warn") return YELLOW;
  return undefined;
}

/** Formats one record as a line, without the newline. */
function formatRecord(
  record: LogRecord,
  opts: LoggingOptions,
): string | undefined {
  const msg = record.message;
  if (opts.format === "text") {
    if (!opts.color) return scrub(`${opts.prefix}${msg}`);
    const c = colorOf(record, msg);
    const prefix = opts.prefix ? `${DIM}${opts.prefix}${RESET}` : "";
    return scrub(`${prefix}${c ? `${c}${msg}${RESET}` : msg}`);
  }
  // The banner rules frame the text log for the eye; they are not events.
  if (record.fields.banner === true) return undefined;
  const obj: Record<string, unknown> = {
    ts: new Date(record.timestamp).toISOString(),
    level: record.level,
    msg,
  };
  for (const [k, v] of Object.entries(record.fields)) {
    if (!(k in obj) && v !== undefined && k !== "banner") obj[k] = v;
  }
  return scrub(JSON.stringify(obj));
}

let status: StatusLine | undefined;

/**
 * Routes every logger's records to `opts.write`, formatted, replacing any
 * earlier route, and returns the logger of a command's context.
 */
export function setupLogging(opts: LoggingOptions): Promise<Logger> {
  status?.clear();
  const line = createStatusLine({
    // Not with --log-level warn or error: quiet means quiet.
    enabled: opts.format === "text" && opts.live === true &&
      (opts.level === "debug" || opts.level === "info"),
    write: opts.write,
    color: opts.color,
    columns: opts.columns,
  });
  status = line;
  routeLogs((record) => {
    const text = formatRecord(record, opts);
    if (text === undefined) return;
    line.clear();
    opts.write(text + "\n");
  }, opts.level);
  return Promise.resolve({ get: log, status: line });
}

/**
 * Ends logging; call before exec or exit. Lines are written as they are
 * logged, so there is nothing left to flush: this clears the status line
 * and stops routing.
 */
export function flushLogs(): Promise<void> {
  status?.clear();
  status = undefined;
  routeLogs(undefined);
  return Promise.resolve();
}
