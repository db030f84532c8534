/**
 * The error types that end a command, and the one table mapping them to exit
 * codes. Only `main.ts` calls {@linkcode exitCodeOf}.
 */

/** Exit codes of the contract (SPEC "Exit codes"). */
const ExitCode = {
  ok: 0,
  unhealthy: 1,
  targetFailed: 1,
  usage: 2,
  migrationFailed: 3,
  timeout: 124,
  notExecutable: 126,
  notFound: 127,
  signalBase: 128,
} as const;

/**
 * What each exit code means, as docs/reference.md shows it (generated from
 * here by scripts/reference.ts).
 */
export const EXIT_CODE_MEANINGS: readonly (readonly [string, string])[] = [
  ["0", "success; after the hand-over, the app's own codes"],
  [
    "1",
    "`probe`, `doctor`, `restart`: unhealthy; the watchdog stopped the app; `wait`, `run --on-timeout fail`: a target failed permanently (wrong password, unknown database, TLS, refused by the server's rules)",
  ],
  ["2", "invalid command line, configuration or env file (`probe`: 1)"],
  [
    "3",
    "migrations failed with `--on-migrate-failure fail`, or `migrate` failed",
  ],
  [
    "124",
    "targets not ready in time, only transient failures seen (`wait`, or `--on-timeout fail`)",
  ],
  ["126 / 127", "the app or migration command is not executable / not found"],
  [
    "128+N",
    "stopped by signal N (143 SIGTERM, 130 SIGINT, 129 SIGHUP; `probe`: 1)",
  ],
];

/** Invalid command line, configuration or env file: exit 2, before anything runs. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A tool a command needs is missing (restart without `docker compose`): exit 2, like a usage error. */
export class ToolMissingError extends Error {
  override name = "ToolMissingError";
}

/**
 * A target failed permanently (wrong password, unknown database, TLS) and
 * `--on-timeout fail` applies: exit 1. `reason` is the server's own message,
 * carried as a field in JSON logs.
 */
export class TargetFailedError extends Error {
  override name = "TargetFailedError";
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

/**
 * Targets were not ready before the deadline, only transient failures seen:
 * exit 124. (Not DOMException's `TimeoutError`, the reason of an expired
 * `AbortSignal.timeout`: time/timeout_signal.ts's `timedOut` tells those.)
 */
export class NotReadyInTimeError extends Error {
  override name = "NotReadyInTimeError";
}

/** Every migration attempt failed and the policy says fail: exit 3. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** A command could not be started: 127 not found, 126 not executable. */
export class SpawnError extends Error {
  override name = "SpawnError";
  constructor(
    message: string,
    readonly code: 126 | 127,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Stopped by a signal: exit 128+N. */
export class SignalledError extends Error {
  override name = "SignalledError";
  constructor(readonly signal: Deno.Signal, readonly number: number) {
    super(`Stopped by ${signal}`);
  }
}

/** Maps an error that escaped a command handler to the process exit code. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof ConfigError) return ExitCode.usage;
  if (error instanceof ToolMissingError) return ExitCode.usage;
  if (error instanceof NotReadyInTimeError) return ExitCode.timeout;
  if (error instanceof TargetFailedError) return ExitCode.targetFailed;
  if (error instanceof MigrationError) return ExitCode.migrationFailed;
  if (error instanceof SpawnError) return error.code;
  if (error instanceof SignalledError) {
    return ExitCode.signalBase + error.number;
  }
  return 1;
}
