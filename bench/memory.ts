/**
 * Resident memory while the app runs: preflight supervising it (`--supervise`,
 * preflight stays as the parent) versus the exec hand-over (the process image
 * is replaced, so only the app is left, with preflight's PID).
 */
import { cleanEnv, preflightRun, sleep } from "./proc.ts";

/** VmRSS and VmHWM of a process, KiB. */
export interface Rss {
  readonly rssKb: number;
  readonly hwmKb: number;
}

/** One sample of one hand-over mode. */
export interface MemorySample {
  /** The process preflight started as: preflight itself (supervise) or the app (exec). */
  readonly pidRss: Rss;
  /** What runs under that PID: "deno" (preflight) or "sleep". */
  readonly pidComm: string;
  /** The app's own RSS when it is a child (supervise). */
  readonly childRss?: Rss;
}

/** VmRSS/VmHWM of `pid` from /proc. */
export function readRss(pid: number): Rss {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

function comm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(
        `/proc/${pid}/task/${task.name}/children`,
      );
      out.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch { /* the process is gone */ }
  return out;
}

async function until<T>(
  probe: () => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting for the app");
    await sleep(20);
  }
}

/**
 * Starts `preflight run --no-wait --no-migrate [--supervise] -- sleep 5`,
 * waits until `sleep` runs (and 300 ms more to settle), reads the RSS, then
 * stops it with SIGTERM.
 */
export async function memorySample(supervise: boolean): Promise<MemorySample> {
  const child = new Deno.Command(preflightRun()[0], {
    args: [
      ...preflightRun().slice(1),
      "run",
      "--no-wait",
      "--no-migrate",
      ...(supervise ? ["--supervise"] : []),
      "--",
      "sleep",
      "5",
    ],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const app = await until(
      () =>
        supervise
          ? children(child.pid).find((p) => comm(p) === "sleep")
          : comm(child.pid) === "sleep"
          ? child.pid
          : undefined,
      15_000,
    );
    await sleep(300);
    return {
      pidRss: readRss(child.pid),
      pidComm: comm(child.pid),
      childRss: supervise ? readRss(app) : undefined,
    };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
}
