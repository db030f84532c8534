/** Checks the hand-over settings before anything runs. */
import { ConfigError } from "../errors.ts";
import type { Options } from "../config/resolve_options.ts";
import { parseTarget } from "../checks/mod.ts";
import { resolveCommand } from "../process/resolve_command.ts";
import {
  canExec,
  type PreparedExec,
  prepareExec,
} from "../process/exec_app.ts";

/**
 * Throws ConfigError for an empty app command or a malformed watchdog URL,
 * and SpawnError (127/126) for an app that cannot run, before anything
 * runs. When the hand-over will be an exec, also prepares it now (program
 * found, libc loaded, arguments and `env` encoded) and returns it for
 * `handOver`'s `prepared`, so that little is left to do once the
 * dependencies are ready.
 */
export async function validateHandOver(
  argv: readonly string[],
  options: Options,
  env: Readonly<Record<string, string>>,
): Promise<PreparedExec | undefined> {
  if (argv.length === 0 || argv[0] === "") {
    throw new ConfigError(
      "Missing command after '--': expected the program to hand over to, e.g. -- uvicorn app.main:app",
    );
  }
  if (options.watchdog !== undefined) {
    const t = await parseTarget(options.watchdog, "--watchdog");
    if (t.scheme !== "http" && t.scheme !== "https") {
      throw new ConfigError(
        `Invalid --watchdog '${t.id}': expected an http:// or https:// URL`,
      );
    }
  }
  if (!options.supervise && options.watchdog === undefined && canExec()) {
    return prepareExec(argv, env);
  }
  resolveCommand(argv[0], env);
  return undefined;
}
