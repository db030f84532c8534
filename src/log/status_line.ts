/**
 * The live status line of a terminal: one line at the bottom of standard
 * error, rewritten in place (`\r` and erase-line) while preflight waits, and
 * cleared before any log line is written so the two never mix. Only on a
 * terminal and in text format; elsewhere (CI logs, pipes, JSON) it is off and
 * the periodic "Still waiting" lines say the same.
 */

import { scrub } from "../redact.ts";

/** A status line; when off, showing and clearing do nothing. */
export interface StatusLine {
  /** True when a live status line is shown instead of periodic lines. */
  readonly enabled: boolean;
  /** Shows `text` as the status line, cut to the terminal's width. */
  show(text: string): void;
  /** Removes the status line, if one is shown. */
  clear(): void;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A status line written with `write` (standard error); off unless `enabled`. */
export function createStatusLine(opts: {
  enabled: boolean;
  write: (text: string) => void;
  color?: boolean;
  columns?: number;
}): StatusLine {
  const { enabled, write } = opts;
  // A pseudo-terminal may report 0 columns: assume 80 then.
  const columns = opts.columns && opts.columns >= 20 ? opts.columns : 80;
  let shown = false;
  let frame = 0;
  return {
    enabled,
    show(text) {
      if (!enabled) return;
      const spin = SPINNER[frame++ % SPINNER.length];
      const mark = opts.color ? `\x1b[36m${spin}\x1b[0m` : spin;
      const max = columns - 3;
      // Scrubbed before it is cut: a cut secret would no longer match.
      const clean = scrub(text);
      const chars = [...clean];
      const fit = chars.length > max
        ? chars.slice(0, Math.max(1, max - 1)).join("") + "…"
        : clean;
      write(`\r\x1b[2K${mark} ${fit}`);
      shown = true;
    },
    clear() {
      if (!shown) return;
      write("\r\x1b[2K");
      shown = false;
    },
  };
}
