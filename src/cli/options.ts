/**
 * The option table: every option of every command, its variable, default
 * and help text, in one place. The parser, `help` and docs/reference.md's
 * option tables are all generated from it.
 */

/** The commands of the contract. */
export type CommandName =
  | "run"
  | "wait"
  | "migrate"
  | "probe"
  | "doctor"
  | "restart"
  | "version"
  | "help";

/** Every command, in the order of `help`. */
export const COMMANDS: readonly CommandName[] = [
  "run",
  "wait",
  "migrate",
  "probe",
  "doctor",
  "restart",
  "version",
  "help",
];

/** How an option's value is parsed. */
export type OptionKind =
  | "string"
  | "duration"
  | "count"
  | "bool"
  | "enum"
  | "list"
  | "statuses";

/** One option. Its variable is `PREFLIGHT_` + the name in upper snake case unless `env` says otherwise. */
export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly kind: OptionKind;
  readonly choices?: readonly string[];
  /** Default value as text (parsed like a user value), per command when it differs. */
  readonly default?: string | Partial<Record<CommandName, string>>;
  readonly commands: readonly CommandName[];
  readonly help: string;
  /** Placeholder in help, e.g. DURATION. */
  readonly arg?: string;
  /** Can be given more than once (values accumulate). */
  readonly repeatable?: boolean;
  /** Smallest value of a count. */
  readonly min?: number;
  /** A duration that must be greater than 0. */
  readonly positive?: boolean;
  /** Commands for which a duration of 0 means "no limit" (despite `positive`). */
  readonly zeroMeansNone?: readonly CommandName[];
  /** False: no variable (for options that only make sense on the command line). */
  readonly env?: false;
}

const WAITERS: CommandName[] = ["run", "wait"];
const HANDOVER: CommandName[] = ["run", "wait"];
const MIGRATORS: CommandName[] = ["run", "migrate"];
const ALL: CommandName[] = [
  "run",
  "wait",
  "migrate",
  "probe",
  "doctor",
  "restart",
];

/** The table, with its literal types: {@linkcode Options} is derived from it. */
const TABLE = [
  // Waiting
  {
    name: "wait-for",
    kind: "list",
    arg: "URLS",
    repeatable: true,
    commands: ["run", "wait", "doctor"],
    help:
      "Extra targets to wait for, space or comma separated (HOST:PORT or URLs of the kinds 'preflight help' lists); wait: the targets when none is given; doctor: one line each, with what the server says",
  },
  {
    name: "no-db",
    kind: "bool",
    commands: ["run", "migrate"],
    help:
      "No database: do not wait for it (DATABASE_URL, DB_HOST, PGHOST, postgres:5432) and take no migration lock; --wait-for and REDIS_URL still apply",
  },
  {
    name: "no-wait",
    kind: "bool",
    commands: ["run"],
    help: "Skip the wait step",
  },
  {
    name: "timeout",
    short: "t",
    kind: "duration",
    positive: true,
    zeroMeansNone: ["run", "wait", "migrate"],
    arg: "DURATION",
    default: {
      run: "60s",
      wait: "60s",
      migrate: "60s",
      probe: "3s",
      doctor: "5s",
      restart: "120s",
    },
    commands: ALL,
    help:
      "Budget for waiting (run: targets then the migration lock, shared; wait: targets; migrate: the lock; 0: no deadline), hard deadline (probe), per-check timeout (doctor), health wait (restart)",
  },
  {
    name: "on-timeout",
    kind: "enum",
    choices: ["continue", "fail"],
    default: { run: "continue", wait: "fail" },
    commands: WAITERS,
    help: "When targets are not ready in time: warn and go on, or exit 124",
  },
  {
    name: "attempt-timeout",
    kind: "duration",
    positive: true,
    arg: "DURATION",
    default: "5s",
    commands: ["run", "wait"],
    help: "Time limit of one check attempt",
  },
  {
    name: "http-status",
    kind: "statuses",
    arg: "CODES",
    commands: ["run", "wait", "probe"],
    help:
      "HTTP statuses that count as ready, e.g. 200,204 or 200-399 (default any 2xx)",
  },
  // Migrating
  {
    name: "migrate-cmd",
    kind: "string",
    arg: "COMMAND",
    commands: MIGRATORS,
    help:
      "Migration command (else MIGRATE_CMD, ALEMBIC_CMD, 'alembic upgrade head'); empty skips",
  },
  {
    name: "no-migrate",
    kind: "bool",
    commands: ["run"],
    help: "Skip the migration step",
  },
  {
    name: "migrate-attempts",
    kind: "count",
    min: 1,
    arg: "N",
    default: "6",
    commands: MIGRATORS,
    help: "Migration attempts before giving up",
  },
  {
    name: "migrate-delay",
    kind: "duration",
    arg: "DURATION",
    default: "2s",
    commands: MIGRATORS,
    help: "Delay before the second attempt; doubles after each failure",
  },
  {
    name: "migrate-max-delay",
    kind: "duration",
    arg: "DURATION",
    default: "64s",
    commands: MIGRATORS,
    help: "Upper bound of the delay between attempts",
  },
  {
    name: "on-migrate-failure",
    kind: "enum",
    choices: ["continue", "fail"],
    default: "continue",
    commands: ["run"],
    help: "When every attempt failed: warn and go on, or exit 3",
  },
  {
    name: "no-migrate-lock",
    kind: "bool",
    commands: MIGRATORS,
    help:
      "Do not take the PostgreSQL advisory lock around migrations (transaction-pooling proxies)",
  },
  // Hand-over
  {
    name: "supervise",
    kind: "bool",
    commands: HANDOVER,
    help:
      "Run the app as a child (forward signals, reap zombies) instead of exec",
  },
  {
    name: "stop-timeout",
    kind: "duration",
    arg: "DURATION",
    default: "10s",
    commands: ["run", "wait", "migrate"],
    help: "Time a stopping child gets between the signal and SIGKILL",
  },
  {
    name: "watchdog",
    kind: "string",
    arg: "URL",
    commands: HANDOVER,
    help:
      "Health URL probed while supervising; failing it stops the app (exit 1)",
  },
  {
    name: "watchdog-interval",
    kind: "duration",
    positive: true,
    arg: "DURATION",
    default: "10s",
    commands: HANDOVER,
    help: "Time between watchdog probes",
  },
  {
    name: "watchdog-failures",
    kind: "count",
    min: 1,
    arg: "N",
    default: "3",
    commands: HANDOVER,
    help: "Consecutive watchdog failures that stop the app",
  },
  {
    name: "watchdog-start-period",
    kind: "duration",
    arg: "DURATION",
    default: "60s",
    commands: HANDOVER,
    help:
      "Until the app's first passing check, watchdog failures within this time do not count (Docker's start_period)",
  },
  // Reports
  {
    name: "json",
    kind: "bool",
    commands: ["probe", "doctor"],
    help: "Print a JSON report on standard output",
  },
  {
    name: "queue",
    kind: "list",
    arg: "NAME",
    repeatable: true,
    default: "celery",
    commands: ["doctor", "restart"],
    help: "Celery queue whose pending tasks are counted (repeatable)",
  },
  {
    name: "version-table",
    kind: "string",
    arg: "TABLE",
    default: "alembic_version",
    commands: ["doctor", "restart"],
    help: "Table holding the current migration revision",
  },
  {
    name: "health-url",
    kind: "string",
    arg: "URL",
    commands: ["doctor", "restart"],
    help:
      "The app's health URL (default http://127.0.0.1:${PORT:-8000}/health)",
  },
  // Compose
  {
    name: "file",
    short: "f",
    kind: "list",
    arg: "FILE",
    repeatable: true,
    commands: ["doctor", "restart"],
    help: "Compose file (repeatable), passed to docker compose",
  },
  {
    name: "project-directory",
    kind: "string",
    arg: "DIR",
    commands: ["doctor", "restart"],
    help: "Compose project directory, passed to docker compose",
  },
  {
    name: "no-logs",
    kind: "bool",
    commands: ["restart"],
    help: "Do not show the service's log lines after the restart",
  },
  {
    name: "tail-lines",
    kind: "count",
    min: 0,
    arg: "N",
    default: "50",
    commands: ["restart"],
    help: "How many log lines since the restart to show",
  },
  // Everyone
  {
    name: "env-file",
    kind: "list",
    arg: "PATH",
    repeatable: true,
    commands: ALL,
    help:
      "Load variables from a .env file (repeatable); the environment wins over files",
  },
  {
    name: "log-format",
    kind: "enum",
    choices: ["text", "json"],
    default: "text",
    commands: ALL,
    help: "Log lines as text or JSON objects",
  },
  {
    name: "log-level",
    kind: "enum",
    choices: ["debug", "info", "warn", "error"],
    default: "info",
    commands: ALL,
    help: "Lowest level logged",
  },
  {
    name: "log-prefix",
    kind: "string",
    arg: "TEXT",
    // The old entrypoint's marker is for the container's startup only;
    // host commands print plain lines.
    default: {
      run: "[entrypoint] ",
      wait: "[entrypoint] ",
      migrate: "[entrypoint] ",
      probe: "[entrypoint] ",
      doctor: "",
      restart: "",
    },
    commands: ALL,
    help: "Prefix of text log lines",
  },
  {
    name: "help",
    short: "h",
    kind: "bool",
    env: false,
    commands: [...ALL, "version", "help"],
    help: "Show help",
  },
] as const satisfies readonly OptionSpec[];

/** Every option. Order is the order of `help` and of docs/reference.md. */
export const OPTIONS: readonly OptionSpec[] = TABLE;

/** `wait-for` → `waitFor`. */
type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

/** The value of an option once resolved (config/resolve_options.ts). */
type ValueOf<S extends OptionSpec> = S["kind"] extends "bool" ? boolean
  // Durations in milliseconds (Infinity: no limit).
  : S["kind"] extends "duration" | "count" ? number
  : S["kind"] extends "list" ? readonly string[]
  : S["kind"] extends "statuses" ? readonly number[] | undefined
  : S extends { readonly choices: readonly (infer C)[] } ? C
  : S extends { readonly default: unknown } ? string
  : string | undefined;

/**
 * Resolved option values, by the option's name in camel case: derived from
 * the table, so an option added there has its field here. Durations are in
 * milliseconds; a `timeout` of Infinity is `--timeout 0` (no deadline) for
 * run, wait and migrate. An option of another command keeps its empty value
 * (false, [], undefined).
 */
export type Options = {
  readonly [S in (typeof TABLE)[number] as CamelCase<S["name"]>]: ValueOf<S>;
};

/** The variable of an option, or undefined when it has none. */
export function envName(spec: OptionSpec): string | undefined {
  if (spec.env === false) return undefined;
  return "PREFLIGHT_" + spec.name.toUpperCase().replaceAll("-", "_");
}

/** The default text of an option for a command. */
export function defaultFor(
  spec: OptionSpec,
  command: CommandName,
): string | undefined {
  if (typeof spec.default === "object") return spec.default[command];
  return spec.default;
}

/** The options a command accepts. */
export function optionsOf(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command));
}
