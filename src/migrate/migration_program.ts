/**
 * The migration program must exist before anything runs: a missing one is
 * an error of the image (127), not six failed attempts. The message says
 * where the command came from and where the program was looked for.
 */
import { SpawnError } from "../errors.ts";
import type { Config } from "../config/resolve_options.ts";
import { migrateCommandSource } from "../config/stack_env.ts";
import { resolveCommand } from "../process/resolve_command.ts";

/**
 * Resolves `argv0` of the migration command on PATH; throws SpawnError
 * 127/126 naming the variable the command came from, and for 127 the PATH
 * searched.
 */
export function checkMigrationProgram(config: Config, argv0: string): void {
  try {
    resolveCommand(argv0, config.env);
  } catch (e) {
    if (!(e instanceof SpawnError)) throw e;
    const { options, env, sources } = config;
    const { source, text } = migrateCommandSource(
      options,
      env,
      sources.migrateCmd === "default" ? "--migrate-cmd" : sources.migrateCmd,
    );
    const searched = e.code === 127 && !argv0.includes("/")
      ? `; searched PATH=${env.PATH ?? env.Path ?? "/bin:/usr/bin"}`
      : "";
    if (source === "default") {
      throw new SpawnError(
        `${e.message} (the default migration command '${text}'; set MIGRATE_CMD, or skip the step with --no-migrate)${searched}`,
        e.code,
      );
    }
    throw new SpawnError(
      `${e.message} (the migration command of ${source})${searched}`,
      e.code,
    );
  }
}
