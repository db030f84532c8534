/**
 * What `doctor` can say about a dependency beyond "ready": the server's
 * product and version, the records a name resolves to. Each target kind
 * that has something to report exports a function returning these facts;
 * the doctor report turns them into its lines.
 */

/** Facts about one target's server, gathered without changing anything there. */
export interface ServerFacts {
  /** One line for the report, e.g. "MariaDB 10.11.6" or "A 10.0.0.5, 10.0.0.6". */
  readonly summary: string;
  /** The report line's main value (the server version, the records); null when none. */
  readonly value: string | null;
  /** Further facts by name, for `doctor --json` (product, protocol, capabilities...). */
  readonly data: Readonly<Record<string, string | number | boolean | string[]>>;
}
