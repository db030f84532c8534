/** Checks the hand-over settings before anything runs. */
import { ConfigError } from "../errors.ts";
import type { Options } from "../config/resolve_options.ts";
import { parseTarget } from "../checks/target.ts";
import { resolveCommand } from "./resolve_command.ts";
import { canExec } from "./exec_app.ts";

/**
 * Throws ConfigError for an empty app command or a malformed watchdog URL,
 * and SpawnError (127/126) for an app that cannot run, before anything
 * runs. Also loads libc for the exec now, so the hand-over does not pay for
 * it once the dependencies are ready.
 */
export function validateHandOver(
  argv: readonly string[],
  options: Options,
  env: Readonly<Record<string, string>>,
): void {
  if (argv.length === 0 || argv[0] === "") {
    throw new ConfigError(
      "Missing command after '--': expected the program to hand over to, e.g. -- uvicorn app.main:app",
    );
  }
  if (options.watchdog !== undefined) {
    const t = parseTarget(options.watchdog, "--watchdog");
    if (t.scheme !== "http" && t.scheme !== "https") {
      throw new ConfigError(
        `Invalid --watchdog '${t.id}': expected an http:// or https:// URL`,
      );
    }
  }
  resolveCommand(argv[0], env);
  if (!options.supervise && options.watchdog === undefined) canExec();
}
