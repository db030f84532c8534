/**
 * Configures logtape once per process: text lines with the `[entrypoint] `
 * prefix, or one JSON object per line, written synchronously to standard
 * error (so nothing is lost on exit or exec) and scrubbed of secrets.
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { scrub } from "../redact.ts";
import { writeStderr } from "./write_stderr.ts";
import { clearStatusLine, configureStatusLine } from "./status_line.ts";

export { writeStderr };

export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LoggingOptions {
  format: LogFormat;
  level: LogLevel;
  prefix: string;
  /** Where lines go; standard error by default. */
  write?: (line: string) => void;
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
  if (msg.startsWith("⚠️") || record.level === "warning") return YELLOW;
  return undefined;
}

function render(record: LogRecord): string {
  return record.message.map((part) =>
    typeof part === "string" ? part : String(part)
  ).join("");
}

/** Formats one record as a line, without the newline. Exported for tests. */
export function formatRecord(
  record: LogRecord,
  opts: LoggingOptions,
): string | undefined {
  const msg = render(record);
  if (opts.format === "text") {
    if (!opts.color) return scrub(`${opts.prefix}${msg}`);
    const c = colorOf(record, msg);
    const prefix = opts.prefix ? `${DIM}${opts.prefix}${RESET}` : "";
    return scrub(`${prefix}${c ? `${c}${msg}${RESET}` : msg}`);
  }
  // The banner rules frame the text log for the eye; they are not events.
  if (record.properties.banner === true) return undefined;
  const level = record.level === "warning" ? "warn" : record.level;
  const obj: Record<string, unknown> = {
    ts: new Date(record.timestamp).toISOString(),
    level,
    msg,
  };
  for (const [k, v] of Object.entries(record.properties)) {
    if (!(k in obj) && v !== undefined && k !== "banner") obj[k] = v;
  }
  return scrub(JSON.stringify(obj));
}

const levelMap = {
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
} as const;

/** Installs the sink for the `preflight` logger category. */
export async function setupLogging(opts: LoggingOptions): Promise<void> {
  const write = opts.write ?? writeStderr;
  configureStatusLine({
    // Not with --log-level warn or error: quiet means quiet.
    enabled: opts.format === "text" && opts.live === true &&
      (opts.level === "debug" || opts.level === "info"),
    color: opts.color,
    columns: opts.columns,
  });
  await configure({
    reset: true,
    sinks: {
      out: (record) => {
        const line = formatRecord(record, opts);
        if (line === undefined) return;
        clearStatusLine();
        write(line + "\n");
      },
    },
    loggers: [
      {
        category: ["preflight"],
        sinks: ["out"],
        lowestLevel: levelMap[opts.level],
      },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
}

/** Flushes and removes the sinks; call before exec or exit. */
export async function flushLogs(): Promise<void> {
  clearStatusLine();
  await reset();
}
