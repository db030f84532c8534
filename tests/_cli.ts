/**
 * Running preflight the way the compiled binary runs: `deno run` of
 * src/main.ts with the compile task's permission flags (read from
 * deno.json, so tests and the binary cannot drift apart).
 */
import { compileFlags } from "../scripts/compile_all.ts";

/** Absolute path of the entry module. */
export const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/** The argv prefix that stands for the `preflight` binary. */
export function preflightArgv(): string[] {
  return [Deno.execPath(), "run", ...compileFlags(), MAIN];
}

/** Result of one preflight run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs preflight with `args` and exactly the environment `env` (plus PATH/HOME). */
export async function runPreflight(
  args: string[],
  env: Record<string, string> = {},
  opts: { cwd?: string; timeoutMs?: number; stdin?: "null" | "inherit" } = {},
): Promise<CliResult> {
  const [cmd, ...pre] = preflightArgv();
  const child = new Deno.Command(cmd, {
    args: [...pre, ...args],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      NO_COLOR: "1",
      ...env,
    },
    clearEnv: true,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}
