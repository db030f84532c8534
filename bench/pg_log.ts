/**
 * Reading the benchmark's PostgreSQL logs: wall-clock timestamps of the
 * "ready" line and of every connection the server received. The clusters
 * log with `log_line_prefix = '%m '` (millisecond wall clock) and, set here,
 * `log_timezone = 'UTC'`, so the times compare with `date +%s.%N`.
 */

const LINE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3}) UTC /;

/**
 * Makes a cluster log in UTC and log every connection it receives
 * (`log_connections`, one line per TCP connection the postmaster accepts,
 * whatever the client then does). Call before the server starts: the lines
 * go after the harness's `include`, so they win.
 */
export function tuneLogging(dataDir: string, connections: boolean): void {
  Deno.writeTextFileSync(
    `${dataDir}/postgresql.conf`,
    `\nlog_timezone = 'UTC'\nlog_connections = ${connections ? "on" : "off"}\n`,
    { append: true },
  );
}

/** Wall-clock milliseconds of a log line, or undefined when it has no prefix. */
export function lineTime(line: string): number | undefined {
  const m = LINE_TIME.exec(line);
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : undefined;
}

function timesOf(log: string, pattern: RegExp): number[] {
  const out: number[] = [];
  for (const line of log.split("\n")) {
    if (!pattern.test(line)) continue;
    const t = lineTime(line);
    if (t !== undefined) out.push(t);
  }
  return out;
}

/**
 * Times of "database system is ready to accept connections" (not the
 * read-only variant): the moment the server accepts logins, at start or at
 * the end of a promotion.
 */
export function readyTimes(log: string): number[] {
  return timesOf(log, /database system is ready to accept connections/);
}

/** Times of every "connection received" line (one per TCP connection). */
export function connectionTimes(log: string): number[] {
  return timesOf(log, /LOG: {2}connection received:/);
}
