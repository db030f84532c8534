/**
 * Visible progress for long waits: on a terminal, one live line rewritten in
 * place (`\r` and erase-line); otherwise (CI logs, pipes) a log line when
 * the state changes and every `everyMs`, so a log file is not flooded.
 */

/** A progress display. */
export interface Progress {
  /**
   * Shows `text`. `key` is the state the text describes without its clock:
   * a non-terminal display writes a line when the key changes or `everyMs`
   * has passed since the last line. `clock` (e.g. "3s of 120s") leads the
   * live line, so truncation to the terminal's width keeps it, and ends a
   * periodic line.
   */
  update(key: string, text: string, clock?: string): void;
  /** Removes the live line (terminal) before other output follows. */
  clear(): void;
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** True on a terminal: a live line. */
  readonly live: boolean;
  /** Writes raw text to the terminal (live mode). */
  readonly write: (text: string) => void;
  /** Writes one log line (periodic mode). */
  readonly line: (text: string) => void;
  /** Interval of periodic lines; default 10 s. */
  readonly everyMs?: number;
  /** Colours in live mode. */
  readonly color?: boolean;
  /** Terminal width: a live line longer than this would wrap and break `\r`. */
  readonly columns?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Creates a live or periodic progress display. */
export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const every = opts.everyMs ?? 10_000;
  let lastKey: string | undefined;
  let lastAt = -Infinity;
  let frame = 0;
  let shown = false;
  return {
    update(key, text, clock) {
      if (opts.live) {
        const spin = SPINNER[frame++ % SPINNER.length];
        const mark = opts.color ? `\x1b[36m${spin}\x1b[0m` : spin;
        // A pseudo-terminal may report 0 columns: assume 80 then.
        const max = (opts.columns && opts.columns >= 20 ? opts.columns : 80) -
          3;
        const full = clock ? `[${clock}] ${text}` : text;
        const fit = [...full].length > max
          ? [...full].slice(0, Math.max(1, max - 1)).join("") + "…"
          : full;
        opts.write(`\r\x1b[2K${mark} ${fit}`);
        shown = true;
        return;
      }
      const t = now();
      if (key !== lastKey || t - lastAt >= every) {
        opts.line(clock ? `${text} (${clock})` : text);
        lastKey = key;
        lastAt = t;
      }
    },
    clear() {
      if (opts.live && shown) {
        opts.write("\r\x1b[2K");
        shown = false;
      }
    },
  };
}
