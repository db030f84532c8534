/**
 * What every command handler gets, and returns. Handlers never read
 * `Deno.args` or `Deno.env`, never write to `Deno.stdout` or `Deno.stderr`,
 * never install signal listeners and never exit: `main.ts` builds the
 * context from the real process, and tests build one of their own
 * (tests/_context.ts), so the handlers run in-process.
 */
import type { Config } from "../config/resolve_options.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";

/** Standard output or error, as a handler writes to it. */
export interface Output {
  /** Writes all of `text`, synchronously: nothing is lost on exit or exec. */
  write(text: string): void;
  /** Whether it is a terminal (colours, a live status line). */
  readonly isTerminal: boolean;
  /** The terminal's width in columns, when it is one and says. */
  readonly columns?: number;
}

/** The context of one command invocation. */
export interface Context {
  readonly config: Config;
  /**
   * The variables the command sees and its children get: the process's,
   * then env files (then `./.env` for doctor and restart); always
   * `config.env`.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Aborted on SIGTERM/SIGINT/SIGHUP/SIGQUIT with a SignalledError as its reason
   * (never for `probe`: main.ts ends it at once with exit 1).
   */
  readonly signal: AbortSignal;
  /** Reports: `doctor`'s table, `probe --json`, help, the version. */
  readonly stdout: Output;
  /** Log lines (through `logger`), and `probe`'s one line. */
  readonly stderr: Output;
  /** Log lines, written to `stderr`, and the live status line. */
  readonly logger: Logger;
  /** Time: deadlines, delays, the watchdog. */
  readonly clock: Clock;
  /**
   * `clock.now()` when the command started, before the handler was called:
   * probe's deadline counts from it (main.ts may have spent part of it).
   */
  readonly startedAt: number;
}

/** A command: returns the exit code, or throws an error `exitCodeOf` maps. */
export type CommandHandler = (ctx: Context) => Promise<number>;
