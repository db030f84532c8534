/** Starting a child with inherited stdio: the app when supervised, the migration command. */
import { SpawnError } from "../errors.ts";
import { resolveCommand } from "./resolve_command.ts";

/**
 * Spawns `argv` with exactly `env`, stdio inherited. Throws SpawnError 127
 * (not found) or 126 (not executable), as a shell would.
 */
export function spawnChild(
  argv: readonly string[],
  env: Record<string, string>,
): Deno.ChildProcess {
  const path = resolveCommand(argv[0] ?? "", env);
  try {
    return new Deno.Command(path, {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    throw new SpawnError(
      `Cannot run '${argv[0]}': ${(e as Error).message}`,
      e instanceof Deno.errors.NotFound ? 127 : 126,
    );
  }
}
