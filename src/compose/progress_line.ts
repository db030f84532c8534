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
   * has passed since the last line.
   */
  update(key: string, text: string): void;
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
    update(key, text) {
      if (opts.live) {
        const spin = SPINNER[frame++ % SPINNER.length];
        const mark = opts.color ? `\x1b[36m${spin}\x1b[0m` : spin;
        const max = (opts.columns ?? 80) - 3;
        const fit = [...text].length > max
          ? [...text].slice(0, Math.max(1, max - 1)).join("") + "…"
          : text;
        opts.write(`\r\x1b[2K${mark} ${fit}`);
        shown = true;
        return;
      }
      const t = now();
      if (key !== lastKey || t - lastAt >= every) {
        opts.line(text);
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
