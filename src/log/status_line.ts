/**
 * The live status line of a terminal: one line at the bottom of standard
 * error, rewritten in place (`\r` and erase-line) while preflight waits, and
 * cleared before any log line is written so the two never mix. Only on a
 * terminal and in text format; elsewhere (CI logs, pipes, JSON) it is off and
 * the periodic "Still waiting" lines say the same.
 */
import { writeStderr } from "./write_stderr.ts";

let enabled = false;
let color = false;
let columns = 80;
let shown = false;
let write: (text: string) => void = writeStderr;

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
let frame = 0;

/** Turns the status line on (a terminal, text logs) or off; called by setupLogging. */
export function configureStatusLine(opts: {
  enabled: boolean;
  color?: boolean;
  columns?: number;
  write?: (text: string) => void;
}): void {
  clearStatusLine();
  enabled = opts.enabled;
  color = opts.color ?? false;
  // A pseudo-terminal may report 0 columns: assume 80 then.
  columns = opts.columns && opts.columns >= 20 ? opts.columns : 80;
  write = opts.write ?? writeStderr;
}

/** True when a live status line is shown instead of periodic lines. */
export function statusLineEnabled(): boolean {
  return enabled;
}

/** Shows `text` as the status line, cut to the terminal's width. */
export function showStatusLine(text: string): void {
  if (!enabled) return;
  const spin = SPINNER[frame++ % SPINNER.length];
  const mark = color ? `\x1b[36m${spin}\x1b[0m` : spin;
  const max = columns - 3;
  const chars = [...text];
  const fit = chars.length > max
    ? chars.slice(0, Math.max(1, max - 1)).join("") + "…"
    : text;
  write(`\r\x1b[2K${mark} ${fit}`);
  shown = true;
}

/** Removes the status line, if one is shown. */
export function clearStatusLine(): void {
  if (!shown) return;
  write("\r\x1b[2K");
  shown = false;
}
