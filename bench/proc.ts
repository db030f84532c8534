/** Child processes for the benchmarks: one clean environment, hard time limits. */
import { MAIN } from "../tests/_cli.ts";
import { compileFlags, LAZY_IMPORTS_FLAG } from "../scripts/compile_all.ts";

/**
 * preflight as the Dockerfile's source form runs it, and as every
 * preflight figure is measured: `deno run` with the compile task's flags
 * and lazily loaded dynamic imports (scripts/compile_all.ts).
 */
export function preflightRun(): string[] {
  return [Deno.execPath(), "run", ...compileFlags(), LAZY_IMPORTS_FLAG, MAIN];
}

/** How the report shows {@linkcode preflightRun}. */
export const PREFLIGHT_DISPLAY = `deno run -A ${LAZY_IMPORTS_FLAG} src/main.ts`;

/** The same without lazy loading: `deno run` loads the whole module graph before main.ts starts. */
export function preflightRunEager(): string[] {
  return [Deno.execPath(), "run", ...compileFlags(), MAIN];
}

/** What a finished child produced. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the time limit killed it. */
  readonly timedOut: boolean;
}

/**
 * The environment every measured command gets: PATH and HOME only, so no
 * PREFLIGHT_* or DATABASE_URL of the caller's shell changes what is measured.
 */
export function cleanEnv(
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs `argv` to completion with captured output; SIGKILL after `timeoutMs`. */
export async function runCapture(
  argv: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Finished> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: opts.env ?? cleanEnv(),
    clearEnv: true,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Output of a command that must succeed, trimmed; "" when it cannot run. */
export async function textOf(argv: readonly string[]): Promise<string> {
  try {
    const out = await runCapture(argv, { env: cleanEnv(), timeoutMs: 20_000 });
    return (out.stdout + out.stderr).trim();
  } catch {
    return "";
  }
}

/** Quotes one word for a POSIX shell (and hyperfine's shell-words splitting). */
export function shQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** A command line as one shell-quoted string. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(" ");
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Parses the first line of `date +%s.%N` output into wall-clock milliseconds
 * (comparable with `Date.now()` and PostgreSQL's `%m`); undefined if absent.
 */
export function parseEpoch(stdout: string): number | undefined {
  const m = /^(\d+)\.(\d{9})\s*$/m.exec(stdout);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Number(m[2]) / 1e6;
}
