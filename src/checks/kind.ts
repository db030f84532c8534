/**
 * What a kind of target is. Each `src/checks/KIND.ts` exports one
 * {@linkcode TargetKind} named `kind`, and src/checks/mod.ts lists it with
 * its schemes: that file and that line are all a new kind needs. Nothing
 * outside the kind's own files knows its URL options, its protocol or its
 * wording.
 */
import type { Check, CheckOptions } from "./check.ts";
import type { ServerFacts } from "./server_facts.ts";
import type { Target } from "./target.ts";

/** One kind of target: its schemes, its URL rules, its check, and how it is named. */
export interface TargetKind<T extends Target = Target> {
  /**
   * The URL schemes it reads, lower case; the first one names the kind. The
   * same list as its line in src/checks/mod.ts (a test checks they agree).
   */
  readonly schemes: readonly string[];
  /**
   * The port a URL without one implies, per scheme; a scheme absent here
   * has none (the port is required, as for `tcp://`, or there is no port,
   * as for `unix://`).
   */
  readonly defaultPorts: Readonly<Record<string, number>>;
  /**
   * True when its check without credentials speaks the server's protocol:
   * a bare `HOST:PORT` on one of its default ports (a TCP check only) then
   * gets a hint to write this scheme instead.
   */
  readonly speaksProtocol?: boolean;
  /**
   * Its rows of the reference's target table (docs/reference.md, generated
   * by scripts/reference.ts): each a form of URL and when it is ready, in
   * Markdown.
   */
  readonly reference: readonly (readonly [target: string, readyWhen: string])[];
  /**
   * Parses and validates a URL of one of its schemes, its own options
   * included; `source` names where the text came from ("DATABASE_URL",
   * "target 2"). Throws a ConfigError "Invalid SOURCE 'ID': WHY" (see
   * {@linkcode invalidTarget}), the password masked.
   */
  parse(text: string, source: string): T;
  /** Builds the check of a target it parsed: one attempt per call. */
  check(target: T, options: CheckOptions): Check;
  /**
   * How logs and reports name the target, credentials never shown:
   * "PostgreSQL at db:5432", "Unix socket /run/app.sock".
   */
  describe(target: T): string;
  /**
   * What `doctor` reports about the target's server beyond "ready" (its
   * product and version, the records of a name), without changing
   * anything there. Rejects as the check does when it is not ready.
   */
  facts?(target: T, signal: AbortSignal): Promise<ServerFacts>;
}
