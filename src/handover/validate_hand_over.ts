/** Checks the hand-over settings before anything runs. */
import { ConfigError } from "../errors.ts";
import type { Options } from "../config/resolve_options.ts";
import { parseTarget } from "../checks/target.ts";

/** Throws ConfigError for an empty app command or a malformed watchdog URL. */
export function validateHandOver(
  argv: readonly string[],
  options: Options,
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
}
