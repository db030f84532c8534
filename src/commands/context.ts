/**
 * What every command handler gets, and returns. Handlers never read
 * `Deno.args`, install signal listeners or exit: `main.ts` does, so the
 * handlers run in-process in tests.
 */
import type { Config } from "../config/resolve_options.ts";

/** The context of one command invocation. */
export interface Context {
  readonly config: Config;
  /**
   * Aborted on SIGTERM/SIGINT/SIGHUP/SIGQUIT with a SignalledError as its reason
   * (never for `probe`: main.ts ends it at once with exit 1).
   */
  readonly signal: AbortSignal;
  /**
   * `performance.now()` when the command started, if not at the call:
   * probe's deadline counts from it (main.ts may have spent part of it).
   */
  readonly startedAt?: number;
  /** Writes a report to standard output. */
  readonly stdout: (text: string) => void;
}

/** A command: returns the exit code, or throws an error `exitCodeOf` maps. */
export type CommandHandler = (ctx: Context) => Promise<number>;
