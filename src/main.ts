/**
 * The entry point, and the only module that reads `Deno.args`, installs
 * process-level signal listeners and exits. Everything else is a command
 * handler loaded on demand (commands/mod.ts), so `probe` loads only what it
 * uses. Every module is imported with a literal specifier, which
 * `deno compile` embeds by itself.
 */
import { captureStartupState } from "./process/startup_state.ts";
import { inheritedEnv } from "./process/raw_process.ts";
import { ConfigError, exitCodeOf, SignalledError } from "./errors.ts";
import type { CommandName } from "./cli/options.ts";
import { COMMANDS, isCommand } from "./commands/mod.ts";
import * as fast from "./commands/probe_fast.ts";
import type { Output } from "./commands/context.ts";
import { realClock } from "./time/clock.ts";
import type { Logger } from "./log/logger.ts";

// First thing: remember what the app must inherit (ignored signals, open
// fds), then listen for the stop signals. Deno as PID 1 with no listener
// dies with 139 on SIGTERM.
// probe never hands over and answers 0 or 1 only: a stop signal ends it at
// once with 1, and it skips the start-up state (it runs every few seconds).
const probing = Deno.args[0] === "probe";
if (!probing) captureStartupState();
const stop = new AbortController();
const STOP_SIGNALS: [Deno.Signal, number][] = Deno.build.os === "windows"
  ? [["SIGINT", 2]]
  // SIGQUIT too: as PID 1 a signal without a handler is ignored, and the
  // wait would run to its deadline.
  : [["SIGTERM", 15], ["SIGINT", 2], ["SIGHUP", 1], ["SIGQUIT", 3]];
const onStop = new Map<Deno.Signal, () => void>();
for (const [sig, num] of STOP_SIGNALS) {
  const handler = probing
    ? () => {
      writeAll(Deno.stderr, `probe: stopped by ${sig}\n`);
      Deno.exit(1);
    }
    : () => {
      if (!stop.signal.aborted) stop.abort(new SignalledError(sig, num));
    };
  onStop.set(sig, handler);
  Deno.addSignalListener(sig, handler);
}

const encoder = new TextEncoder();
function writeAll(file: typeof Deno.stdout, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

function consoleColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

/** A handler's view of standard output or error. */
function output(file: typeof Deno.stdout): Output {
  const isTerminal = file.isTerminal();
  return {
    write: (text) => writeAll(file, text),
    isTerminal,
    columns: isTerminal ? consoleColumns() : undefined,
  };
}

/** The logger of the commands that log nothing (probe, help, version). */
const silent: Logger = {
  get: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
  status: { enabled: false, show() {}, clear() {} },
};

/** Whether JSON logs were asked for, read raw: configuration may be what failed. */
function wantsJson(): boolean {
  const args = Deno.args;
  const i = args.indexOf("--log-format");
  const flag = args.find((a) => a.startsWith("--log-format="))?.slice(13) ??
    (i >= 0 ? args[i + 1] : undefined);
  const value = flag ?? Deno.env.get("PREFLIGHT_LOG_FORMAT");
  return value?.trim().toLowerCase() === "json";
}

async function main(): Promise<number> {
  let command: CommandName | undefined;
  let logging = false;
  const startedAt = performance.now();
  try {
    if (probing) {
      // The healthy probe's short cut (commands/probe_fast.ts): it can only
      // answer "healthy"; otherwise the full probe below decides, within
      // what is left of the same deadline.
      const plan = fast.fastPlan(Deno.args, Deno.env.toObject());
      if (plan && await fast.probeHealthy(plan.targets, plan.timeoutMs)) {
        return 0;
      }
    }
    // Load the named command's module while the configuration loads: module
    // loading is most of a probe's cost, and these do not depend on each other.
    const first = Deno.args[0] as CommandName;
    const early = isCommand(first)
      ? COMMANDS[first]().catch(() => undefined)
      : undefined;
    // And the logging module, for the commands that log.
    const quiet = (name: string) =>
      name === "probe" || name === "help" || name === "version";
    const logModule = quiet(first)
      ? undefined
      : import("./log/setup_logging.ts");
    logModule?.catch(() => {});
    const { loadConfig } = await import("./config/load_config.ts");
    // The environment as inherited, variables that are not UTF-8 included
    // (process/raw_process.ts); probe never hands over.
    const config = await loadConfig(
      Deno.args,
      probing ? Deno.env.toObject() : inheritedEnv(),
    );
    command = config.command;
    const stdout = output(Deno.stdout);
    const stderr = output(Deno.stderr);
    let logger = silent;
    // probe stays silent and light: no logging.
    if (!quiet(command)) {
      const { setupLogging } = await (logModule ??
        import("./log/setup_logging.ts"));
      // On a terminal: colours (unless NO_COLOR) and a live waiting line.
      logger = await setupLogging({
        format: config.options.logFormat,
        level: config.options.logLevel,
        prefix: config.options.logPrefix,
        write: stderr.write,
        color: stderr.isTerminal && !config.env.NO_COLOR,
        live: stderr.isTerminal,
        columns: stderr.columns,
      });
      logging = true;
    }
    const handler = (command === first ? await early : undefined) ??
      await COMMANDS[command]();
    return await handler({
      config,
      env: config.env,
      signal: stop.signal,
      stdout,
      stderr,
      logger,
      clock: realClock,
      startedAt,
    });
  } catch (error) {
    const code = exitCodeOf(error);
    // probe answers 0 or 1, whatever went wrong.
    if (probing) {
      const { scrub } = await import("./redact.ts");
      writeAll(
        Deno.stderr,
        scrub(`probe: ${(error as Error).message ?? error}`) + "\n",
      );
      return 1;
    }
    if (error instanceof ConfigError || !logging) {
      const { scrub } = await import("./redact.ts");
      const msg = error instanceof Error ? error.message : String(error);
      const text = code === 1 ? `unexpected error: ${msg}` : msg;
      writeAll(
        Deno.stderr,
        scrub(
          wantsJson()
            ? JSON.stringify({
              ts: new Date().toISOString(),
              level: "error",
              msg: text,
              exit_code: code,
            }) + "\n"
            : `preflight: ${text}\n`,
        ),
      );
      if (code === 1 && error instanceof Error && error.stack) {
        writeAll(Deno.stderr, scrub(error.stack) + "\n");
      }
    } else if (!(error instanceof SignalledError)) {
      const { log } = await import("./log/logger.ts");
      // A permanent failure's reason is a field (JSON logs); the text line
      // above already said it.
      const reason = (error as { reason?: unknown }).reason;
      log("main").error((error as Error).message ?? String(error), {
        exit_code: code,
        ...(typeof reason === "string" ? { reason } : {}),
      });
    } else {
      const { log } = await import("./log/logger.ts");
      log("main").warn(`Stopped by ${error.signal}`, { exit_code: code });
    }
    return code;
  } finally {
    if (logging) {
      const { flushLogs } = await import("./log/setup_logging.ts");
      await flushLogs();
    }
  }
}

const code = await main();
for (const [sig, handler] of onStop) Deno.removeSignalListener(sig, handler);
Deno.exit(code);
