/**
 * Running a command's handler in-process, as main.ts runs it but with a
 * context of the test's own (STYLE: dax's `CommandHandler`): the arguments
 * and environment given here (not the test process's), standard output and
 * error captured, log lines formatted as the CLI formats them, and the real
 * clock or a fake one (tests/_fake_clock.ts).
 *
 * The exec hand-over would replace the test process: in-process tests of
 * `run` and `wait` with a command use `--supervise`.
 */
import type { Context } from "../src/commands/context.ts";
import { COMMANDS } from "../src/commands/mod.ts";
import { loadConfig } from "../src/config/load_config.ts";
import { exitCodeOf } from "../src/errors.ts";
import { type Clock, realClock } from "../src/time/clock.ts";
import { flushLogs, setupLogging } from "../src/log/setup_logging.ts";

/** How a handler run ended, and what it wrote. */
export interface HandlerResult {
  /** The exit code main.ts would end with. */
  readonly code: number;
  readonly stdout: string;
  /** Log lines (text format unless asked otherwise), and probe's line. */
  readonly stderr: string;
  /** What the handler threw, if it did. */
  readonly error?: unknown;
}

/** Options of {@linkcode runHandler}. */
export interface RunHandlerOptions {
  /** Default: the real clock. */
  readonly clock?: Clock;
  /** The stop signal (SIGTERM...). */
  readonly signal?: AbortSignal;
  /** Whether standard output and error are terminals (default not). */
  readonly isTerminal?: boolean;
  /** When the command started on `clock` (default: now). */
  readonly startedAt?: number;
  /** doctor and restart: the project's `.env` (default `.env`). */
  readonly dotenv?: string;
}

/**
 * Runs the command of `args` in-process with exactly the environment `env`
 * and returns its exit code and output. A configuration error is thrown as
 * main.ts would report it (exit 2), before the handler runs.
 */
export async function runHandler(
  args: string[],
  env: Record<string, string> = {},
  opts: RunHandlerOptions = {},
): Promise<HandlerResult> {
  const clock = opts.clock ?? realClock;
  const startedAt = opts.startedAt ?? clock.now();
  const config = await loadConfig(args, env, { dotenv: opts.dotenv });
  let stdout = "";
  let stderr = "";
  const isTerminal = opts.isTerminal ?? false;
  const out = { write: (t: string) => void (stdout += t), isTerminal };
  const err = { write: (t: string) => void (stderr += t), isTerminal };
  const logger = await setupLogging({
    format: config.options.logFormat,
    level: config.options.logLevel,
    prefix: config.options.logPrefix,
    write: err.write,
    live: isTerminal,
  });
  const ctx: Context = {
    config,
    env: config.env,
    signal: opts.signal ?? new AbortController().signal,
    stdout: out,
    stderr: err,
    logger,
    clock,
    startedAt,
  };
  try {
    const handler = await COMMANDS[config.command]();
    const code = await handler(ctx);
    return { code, stdout, stderr };
  } catch (error) {
    return { code: exitCodeOf(error), stdout, stderr, error };
  } finally {
    await flushLogs();
  }
}
