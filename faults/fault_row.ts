/**
 * A row of the fault matrix: one scenario run against real servers and real
 * processes, the outcome the SPEC demands, and what was observed. A row
 * passes only when every one of its checks holds.
 */
import { mask } from "./secrets.ts";

/** One assertion of a row, shown in the report. */
export interface RowCheck {
  readonly label: string;
  readonly ok: boolean;
}

/** What a row saw. */
export interface Observation {
  /** The command run (secrets masked). */
  readonly command: string;
  /** Exit status as its parent saw it; null when it did not apply. */
  readonly code: number | null;
  /** The relevant duration (spawn to exit, or signal to exit), ms. */
  readonly ms: number;
  /** What `ms` measures, e.g. "spawn to exit". */
  readonly msLabel?: string;
  /** The log line that shows the outcome. */
  readonly keyLine: string;
  readonly checks: readonly RowCheck[];
  /** Facts worth reading that are not checked. */
  readonly notes?: readonly string[];
  /** Output excerpt for the details section (secrets masked). */
  readonly log: string;
}

/** A scenario of the matrix. */
export interface FaultRow {
  /** Short stable identifier, e.g. `net-refused`. */
  readonly id: string;
  /** Section of the report. */
  readonly group: string;
  readonly scenario: string;
  /** The outcome the SPEC demands, in one or two sentences. */
  readonly expected: string;
  /** The SPEC rule it comes from, quoted briefly. */
  readonly rule: string;
  /** Runs alone (heavy on the two shared cores). */
  readonly exclusive?: boolean;
  run(): Promise<Observation>;
}

/** A row after its run. */
export interface RowResult {
  readonly row: FaultRow;
  readonly observation?: Observation;
  /** Set when the row itself crashed (harness or setup error). */
  readonly error?: string;
  readonly pass: boolean;
  /** Wall time of the whole row, setup included, ms. */
  readonly wallMs: number;
}

/** Runs a row, turning a thrown error into a failed result. */
export async function runRow(row: FaultRow): Promise<RowResult> {
  const t0 = performance.now();
  try {
    const observation = await row.run();
    return {
      row,
      observation,
      pass: observation.checks.length > 0 &&
        observation.checks.every((c) => c.ok),
      wallMs: performance.now() - t0,
    };
  } catch (e) {
    const error = mask(
      e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e),
    );
    return { row, error, pass: false, wallMs: performance.now() - t0 };
  }
}

/** Builds a check. */
export function check(label: string, ok: boolean): RowCheck {
  return { label, ok };
}

/** The last line of `text` matching `re`, or "" (for the key line). */
export function lastLine(text: string, re: RegExp): string {
  const lines = text.split("\n").filter((l) => re.test(l));
  return lines.at(-1)?.trim() ?? "";
}

/** The first line of `text` matching `re`, or "". */
export function firstLine(text: string, re: RegExp): string {
  return text.split("\n").find((l) => re.test(l))?.trim() ?? "";
}

/** The last `n` lines of `text`, for the details section. */
export function tail(text: string, n = 14): string {
  const lines = text.trimEnd().split("\n");
  const cut = lines.length > n ? [`… (${lines.length - n} lines above)`] : [];
  return [...cut, ...lines.slice(-n)].join("\n");
}

/** Seconds with two decimals. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
