/**
 * From `Deno.args` and the environment to a validated, frozen
 * {@linkcode Config}: parse the command line, load env files, resolve every
 * option. Throws ConfigError before anything has been done.
 */
import { parseArgs } from "../cli/parse_args.ts";
import { type Config, resolveOptions } from "./resolve_options.ts";

/** Parses, loads env files and resolves; the only entry to configuration. */
export async function loadConfig(
  args: readonly string[],
  processEnv: Record<string, string>,
): Promise<Config> {
  const invocation = parseArgs(args);
  const fromFlags = invocation.flags.get("env-file");
  const fromEnv = processEnv.PREFLIGHT_ENV_FILE;
  const paths = fromFlags?.flatMap((p) => p.split(",").filter(Boolean)) ??
    (fromEnv ? fromEnv.split(",").map((p) => p.trim()).filter(Boolean) : []);
  let fileEnv: Record<string, string> = {};
  if (paths.length > 0) {
    const { loadEnvFiles } = await import("./env_file.ts");
    fileEnv = await loadEnvFiles(paths);
  }
  return resolveOptions(invocation, processEnv, fileEnv);
}
