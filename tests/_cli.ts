/**
 * Running preflight the way the compiled binary runs: `deno run` of
 * src/main.ts with the compile task's permission flags (read from
 * deno.json, so tests and the binary cannot drift apart), or, with
 * `PREFLIGHT_BIN=PATH deno task test`, the executable at PATH (a compiled
 * binary, or a launcher such as the Docker image's `source` form).
 */
import { compileFlags } from "../scripts/compile_all.ts";

/** Absolute path of the entry module. */
export const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/**
 * The executable named by `PREFLIGHT_BIN` (its `value`), as an absolute
 * path, or undefined when the variable is unset. A relative path counts from the directory
 * `deno task` was started in (`base`: INIT_CWD, else the current one). Throws
 * when the value is not an executable file: a typo must not quietly test
 * src/main.ts instead.
 */
export function preflightBin(
  value: string | undefined,
  base: string,
): string | undefined {
  if (value === undefined) return undefined;
  const invalid = (why: string) =>
    new Error(
      `Invalid PREFLIGHT_BIN '${value}': ${why}; expected the path of an executable preflight (unset it to test src/main.ts)`,
    );
  if (value.trim() === "") throw invalid("empty");
  const path = value.startsWith("/") || /^[A-Za-z]:[\\/]/.test(value)
    ? value
    : `${base.replace(/\/+$/, "")}/${value}`;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw invalid(
      e instanceof Deno.errors.NotFound ? "no such file" : String(e),
    );
  }
  if (!info.isFile) throw invalid("not a file");
  // Windows has no execute bit (mode is null there).
  if (info.mode !== null && (info.mode & 0o111) === 0) {
    throw invalid("not executable");
  }
  return path;
}

let resolved: { bin: string | undefined } | undefined;

/** The argv prefix that stands for the `preflight` binary. */
export function preflightArgv(): string[] {
  resolved ??= {
    bin: preflightBin(
      Deno.env.get("PREFLIGHT_BIN"),
      Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    ),
  };
  return resolved.bin
    ? [resolved.bin]
    : [Deno.execPath(), "run", ...compileFlags(), MAIN];
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

/** A preflight run in progress, whose standard error can be awaited line by line. */
export interface LiveRun extends AsyncDisposable {
  /** Resolves with the stderr so far once `pattern` appears in it; rejects if preflight ends first. */
  waitForStderr(pattern: RegExp): Promise<string>;
  /** The outcome, once preflight has exited. */
  readonly result: Promise<CliResult>;
}

/**
 * Starts preflight with `args` and exactly the environment `env` (plus
 * PATH/HOME), so a test can act when a line appears (a dependency started
 * once preflight said it is not ready) instead of sleeping.
 */
export function startPreflight(
  args: string[],
  env: Record<string, string> = {},
): LiveRun {
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
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let wake: () => void = () => {};
  const decoder = new TextDecoder();
  const readErr = (async () => {
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      wake();
    }
    wake();
  })();
  const result = (async () => {
    const stdout = new Response(child.stdout).text();
    const status = await child.status;
    await readErr;
    return { code: status.code, stdout: await stdout, stderr };
  })();
  let ended = false;
  result.finally(() => ended = true);
  return {
    result,
    async waitForStderr(pattern) {
      while (!pattern.test(stderr)) {
        if (ended) {
          throw new Error(`${pattern} never appeared in:\n${stderr}`);
        }
        await Promise.race([
          new Promise<void>((r) => wake = r),
          result.then(() => {}),
        ]);
      }
      return stderr;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await result;
    },
  };
}
