/**
 * Timing short commands: wall time with hyperfine (when installed), and wall
 * plus CPU time per run from an interleaved loop that reads each child's
 * rusage (bench/rusage.py, wait4), so CPU gets medians too.
 */
import { cleanEnv, runCapture, shJoin } from "./proc.ts";
import { summarize, type Summary } from "./stats.ts";

/** A command to time. */
export interface Timed {
  readonly name: string;
  readonly argv: readonly string[];
}

/** What was measured for one command. */
export interface Timing {
  readonly name: string;
  /** hyperfine's wall times (ms), when hyperfine is installed. */
  readonly hyperfine?: Summary;
  /** Wall times (ms) from the interleaved loop. */
  readonly wall: Summary;
  /** user + sys (ms) per run. */
  readonly cpu: Summary;
  /** Peak resident set per run (KiB). */
  readonly maxRssKb: Summary;
  /** Runs that exited non-zero. */
  readonly failures: number;
}

const RUSAGE = new URL("./rusage.py", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";
const HYPERFINE = "/usr/bin/hyperfine";

/** True when Debian's hyperfine is installed. */
export function hasHyperfine(): boolean {
  try {
    return Deno.statSync(HYPERFINE).isFile;
  } catch {
    return false;
  }
}

async function hyperfine(
  cmds: readonly Timed[],
  runs: number,
  warmup: number,
): Promise<Map<string, number[]>> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const out = await runCapture([
      HYPERFINE,
      "-N",
      "--style",
      "none",
      "--warmup",
      String(warmup),
      "--runs",
      String(runs),
      "--export-json",
      file,
      ...cmds.flatMap((c) => ["-n", c.name, shJoin(c.argv)]),
    ], { env: cleanEnv(), timeoutMs: 300_000 });
    if (out.code !== 0) {
      throw new Error(
        `hyperfine failed (${out.code}): ${out.stderr.trim().slice(-400)}`,
      );
    }
    const json = JSON.parse(await Deno.readTextFile(file)) as {
      results: { command: string; times: number[] }[];
    };
    return new Map(
      json.results.map((r) => [r.command, r.times.map((t) => t * 1000)]),
    );
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

interface Run {
  wall_ms: number;
  user_ms: number;
  sys_ms: number;
  maxrss_kb: number;
  code: number;
}

async function rusageLoop(
  cmds: readonly Timed[],
  runs: number,
  warmup: number,
): Promise<Run[][]> {
  const child = new Deno.Command(PYTHON, {
    args: [RUSAGE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify({
      runs,
      warmup,
      env: cleanEnv(),
      commands: cmds.map((c) => c.argv),
    })),
  );
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `rusage loop failed: ${new TextDecoder().decode(out.stderr).slice(-400)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Times every command `runs` times after `warmup` runs, both ways. */
export async function measureCommands(
  cmds: readonly Timed[],
  runs: number,
  warmup: number,
): Promise<Timing[]> {
  const hf = hasHyperfine() ? await hyperfine(cmds, runs, warmup) : undefined;
  const loop = await rusageLoop(cmds, runs, warmup);
  return cmds.map((c, i) => {
    const rs = loop[i];
    const times = hf?.get(c.name);
    return {
      name: c.name,
      hyperfine: times ? summarize(times) : undefined,
      wall: summarize(rs.map((r) => r.wall_ms)),
      cpu: summarize(rs.map((r) => r.user_ms + r.sys_ms)),
      maxRssKb: summarize(rs.map((r) => r.maxrss_kb)),
      failures: rs.filter((r) => r.code !== 0).length,
    };
  });
}
