/**
 * When a server wrote each line of its log, for servers whose own log
 * timestamps are too coarse to measure milliseconds: MariaDB's error log
 * stamps whole seconds. The bench watches the file (inotify, through
 * `Deno.watchFs`) and notes the wall clock right after reading each new
 * line, so a line's time is never before its write and, on an idle bench
 * process, within about a millisecond after it. Each line keeps the
 * server's own second for a cross-check ({@linkcode secondsAgree}).
 */

/** One log line and when the bench saw it. */
export interface SeenLine {
  readonly text: string;
  /** Wall-clock ms just after the line was read. */
  readonly seenAt: number;
}

/** A running watch of one log file. */
export interface LogWatch extends Disposable {
  /** The lines seen so far, in order. */
  lines(): readonly SeenLine[];
  /** Resolves with the first line matching `pattern` (seen now or later), or undefined after `timeoutMs`. */
  until(pattern: RegExp, timeoutMs: number): Promise<SeenLine | undefined>;
}

/**
 * Watches `file`, which must exist, from now on: start it before the server
 * starts writing. Only the file is watched, not its directory: Deno's
 * watcher may open a file of a watched directory that changed, and a FIFO
 * there (the MariaDB harness's gate) would block it for good.
 */
export function watchLog(file: string): LogWatch {
  const watcher = Deno.watchFs(file, { recursive: false });
  const seen: SeenLine[] = [];
  const waiters = new Set<() => void>();
  let offset = 0;
  let partial = "";
  const decoder = new TextDecoder();

  const readNew = () => {
    let data: Uint8Array;
    try {
      using f = Deno.openSync(file, { read: true });
      f.seekSync(offset, Deno.SeekMode.Start);
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = f.readSync(buf);
        if (n === null || n === 0) break;
        chunks.push(buf.slice(0, n));
      }
      data = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
    } catch {
      return; // removed
    }
    if (data.length === 0) return;
    const seenAt = Date.now();
    offset += data.length;
    const parts = (partial + decoder.decode(data, { stream: true })).split(
      "\n",
    );
    partial = parts.pop() ?? "";
    for (const text of parts) seen.push({ text, seenAt });
    for (const wake of waiters) wake();
  };

  const pump = (async () => {
    try {
      for await (const event of watcher) {
        if (event.paths.some((p) => p === file)) readNew();
      }
    } catch { /* closed */ }
  })();

  const find = (pattern: RegExp) => seen.find((l) => pattern.test(l.text));

  return {
    lines: () => {
      readNew(); // whatever a missed event left behind, seen late
      return seen;
    },
    until(pattern, timeoutMs) {
      const hit = find(pattern);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        const done = (line: SeenLine | undefined) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(line);
        };
        const wake = () => {
          const line = find(pattern);
          if (line) done(line);
        };
        const timer = setTimeout(() => {
          readNew();
          done(find(pattern));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    [Symbol.dispose]() {
      try {
        watcher.close();
      } catch { /* already closed */ }
      void pump;
    },
  };
}

/** MariaDB's error-log prefix: `2026-12-02  8:28:41 ` (local time, whole seconds). */
const MARIADB_TIME = /^(\d{4})-(\d{2})-(\d{2}) +(\d{1,2}):(\d{2}):(\d{2}) /;

/** The wall-clock ms of a MariaDB error-log line's second, or undefined. */
export function mariaDbLineSecond(text: string): number | undefined {
  const m = MARIADB_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  // The server writes local time, as does `new Date(y, ...)` here.
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

/**
 * True when a line seen at `seenAt` carries a second that fits: written
 * within that second, and seen at most `slackMs` after it ended.
 */
export function secondsAgree(line: SeenLine, slackMs = 250): boolean {
  const second = mariaDbLineSecond(line.text);
  return second !== undefined && line.seenAt >= second &&
    line.seenAt < second + 1000 + slackMs;
}

/**
 * RabbitMQ's log prefix: `2026-12-02 08:29:27.197984+00:00 ` (microseconds,
 * with the offset): wall-clock ms with the microseconds as a fraction.
 */
export function rabbitMqLineTime(text: string): number | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})\.(\d{6})([+-]\d{2}:\d{2}) /
      .exec(text);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}T${m[2]}${m[4]}`);
  return whole + Number(m[3]) / 1000;
}
