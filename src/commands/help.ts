/** `preflight help [COMMAND]`: usage, generated from the option table. */
import type { CommandHandler } from "./context.ts";
import { allSchemes } from "../checks/mod.ts";
import {
  type CommandName,
  defaultFor,
  envName,
  OPTIONS,
  optionsOf,
} from "../cli/options.ts";

/** One-line usage and summary of each command. */
export const USAGE: Record<CommandName, [string, string]> = {
  run: [
    "preflight [run] [OPTIONS] [-- APP_COMMAND...]",
    "Wait for dependencies, run migrations under a lock, then hand over to the app (the default)",
  ],
  wait: [
    "preflight wait [OPTIONS] TARGET... [-- COMMAND...]",
    "Wait for the targets only; then hand over to COMMAND, or exit 0",
  ],
  migrate: [
    "preflight migrate [OPTIONS]",
    "Run the migration step alone (lock and retries); exit 3 when every attempt failed",
  ],
  probe: [
    "preflight probe [OPTIONS] [TARGET...]",
    "One-shot health check for HEALTHCHECK and exec probes: exit 0 healthy, 1 not",
  ],
  doctor: [
    "preflight doctor [OPTIONS]",
    "Diagnose a running stack from a host (reads ./.env): PostgreSQL, Redis, the app, Compose services; exit 0 all passed, 1 otherwise",
  ],
  restart: [
    "preflight restart [SERVICE] [OPTIONS]",
    "Restart a Compose service (default backend) and verify it came back healthy: exit 0 healthy, 1 not, 2 without docker compose",
  ],
  version: ["preflight version | --version", "Print the version"],
  help: ["preflight help [COMMAND] | --help | COMMAND --help", "Show help"],
};

const runDefault = (name: string) =>
  defaultFor(OPTIONS.find((o) => o.name === name)!, "run");

/**
 * What `run` does with no configuration at all, and the switch that turns
 * off each part: the first thing `help run` says.
 */
function runDefaults(): string[] {
  return [
    "By default, run does three things; each can be turned off:",
    `  1. Waits up to ${
      runDefault("timeout")
    } for the database (DATABASE_URL, else DB_HOST:DB_PORT,`,
    "     else PGHOST:PGPORT, else postgres:5432), REDIS_URL and --wait-for targets.",
    "     Off: --no-wait [PREFLIGHT_NO_WAIT]; the database only: --no-db [PREFLIGHT_NO_DB]",
    `  2. Runs the migrations ('alembic upgrade head', or MIGRATE_CMD, ALEMBIC_CMD), up to ${
      runDefault("migrate-attempts")
    }`,
    "     attempts, under an advisory lock when database credentials are known.",
    "     Off: --no-migrate [PREFLIGHT_NO_MIGRATE] or MIGRATE_CMD=''; the lock only: --no-migrate-lock",
    "  3. Hands over to the app by exec: the arguments after --, else APP_CMD, else",
    "     UVICORN_CMD, else 'uvicorn app.main:app' on ${PORT:-8000}. As a child: --supervise",
    `  A step that fails warns and the next one runs (--on-timeout, --on-migrate-failure: ${
      runDefault("on-timeout")
    }).`,
  ];
}

/** The help text of one command, or the overview. */
export function helpText(command?: CommandName): string {
  if (!command || command === "help") {
    const lines = [
      "preflight: reliable container startup and stack diagnostics",
      "",
      "Commands:",
    ];
    for (const [, [usage, summary]] of Object.entries(USAGE)) {
      lines.push(`  ${usage}`, `      ${summary}`);
    }
    lines.push(
      "",
      `Targets: HOST:PORT, ${allSchemes().map((s) => `${s}://`).join(", ")}`,
      "Durations: 500ms, 10s, 2m, 1m30s or a number of seconds",
      "Run 'preflight help COMMAND' for a command's options.",
    );
    return lines.join("\n") + "\n";
  }
  const [usage, summary] = USAGE[command];
  const lines = command === "run"
    ? [`Usage: ${usage}`, "", ...runDefaults(), ""]
    : [`Usage: ${usage}`, "", summary, ""];
  const opts = optionsOf(command);
  if (opts.length > 0) lines.push("Options:");
  for (const o of opts) {
    const arg = o.arg ?? o.choices?.join("|");
    const flag = `${o.short ? `-${o.short}, ` : ""}--${o.name}${
      arg ? ` ${arg}` : ""
    }`;
    const def = defaultFor(o, command);
    const env = envName(o);
    lines.push(`  ${flag}`);
    lines.push(
      `      ${o.help}${
        def !== undefined ? ` (default ${def.trim() || "''"})` : ""
      }${env ? ` [${env}]` : ""}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** Prints help to standard output. */
export const help: CommandHandler = (ctx) => {
  ctx.stdout.write(
    helpText(ctx.config.positionals[0] as CommandName | undefined),
  );
  return Promise.resolve(0);
};
