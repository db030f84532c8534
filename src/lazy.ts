/**
 * Modules imported by a computed specifier, so that `deno run` does not load
 * them before they are needed.
 *
 * A string literal in `import("./x.ts")` lets Deno see the module ahead of
 * time: `deno run` then loads and parses its whole graph at start-up (every
 * command, both npm clients) even if it is never imported. `probe` runs
 * every few seconds in every container and must not pay for that.
 *
 * `deno compile` embeds only what it can see, so the compile task (and the
 * Dockerfile) name each of these with `--include`;
 * tests/packaging_test.ts checks that the lists are equal, and
 * {@linkcode importLazily} refuses a module that is not listed here, so a
 * new lazy import cannot pass its own tests without being listed.
 */
import type { CommandName } from "./cli/options.ts";

/** A lazily imported module, relative to `src/`. */
export type LazyModule =
  | `commands/${CommandName}.ts`
  | "config/load_config.ts"
  | "redact.ts"
  | `log/${"setup_logging" | "logger"}.ts`
  | `checks/${"tcp" | "postgres" | "redis" | "http"}.ts`;

/**
 * The commands, written out rather than taken from the option table
 * (cli/options.ts): main.ts does not load that table before it needs it.
 * tests/packaging_test.ts checks the two lists are the same.
 */
export const COMMAND_NAMES = [
  "run",
  "wait",
  "migrate",
  "probe",
  "doctor",
  "restart",
  "version",
  "help",
] as const satisfies readonly CommandName[];

/** Whether `name` is a command. */
export function isCommand(name: string | undefined): name is CommandName {
  return (COMMAND_NAMES as readonly (string | undefined)[]).includes(name);
}

/** Every lazily imported module. */
export const LAZY_MODULES: readonly LazyModule[] = [
  ...COMMAND_NAMES.map((name) => `commands/${name}.ts` as const),
  "config/load_config.ts",
  "redact.ts",
  "log/setup_logging.ts",
  "log/logger.ts",
  "checks/tcp.ts",
  "checks/postgres.ts",
  "checks/redis.ts",
  "checks/http.ts",
];

/** Imports one of {@linkcode LAZY_MODULES} (`path` relative to `src/`). */
export function importLazily<T>(path: LazyModule): Promise<T> {
  if (!LAZY_MODULES.includes(path)) {
    return Promise.reject(
      new Error(`'${path}' is not in LAZY_MODULES (src/lazy.ts)`),
    );
  }
  return import(new URL(`./${path}`, import.meta.url).href);
}
