/**
 * Configures logtape once per process: text lines with the `[entrypoint] `
 * prefix, or one JSON object per line, written synchronously to standard
 * error (so nothing is lost on exit or exec) and scrubbed of secrets.
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { scrub } from "../config/redact.ts";
import { writeStderr } from "./write_stderr.ts";

export { writeStderr };

export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LoggingOptions {
  format: LogFormat;
  level: LogLevel;
  prefix: string;
  /** Where lines go; standard error by default. */
  write?: (line: string) => void;
}

function render(record: LogRecord): string {
  return record.message.map((part) =>
    typeof part === "string" ? part : String(part)
  ).join("");
}

/** Formats one record as a line, without the newline. Exported for tests. */
export function formatRecord(record: LogRecord, opts: LoggingOptions): string {
  const msg = render(record);
  if (opts.format === "text") return scrub(`${opts.prefix}${msg}`);
  const level = record.level === "warning" ? "warn" : record.level;
  const obj: Record<string, unknown> = {
    ts: new Date(record.timestamp).toISOString(),
    level,
    msg,
  };
  for (const [k, v] of Object.entries(record.properties)) {
    if (!(k in obj) && v !== undefined) obj[k] = v;
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
  await configure({
    reset: true,
    sinks: { out: (record) => write(formatRecord(record, opts) + "\n") },
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
  await reset();
}
