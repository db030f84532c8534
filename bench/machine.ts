/** What the benchmarks ran on: the machine and every tool's version. */
import { preflightRun, textOf } from "./proc.ts";

/** The host. */
export interface Machine {
  readonly nproc: string;
  readonly cpu: string;
  readonly memory: string;
  readonly kernel: string;
  /** /proc/loadavg when read, to show how busy the shared machine was. */
  readonly load: string;
  /** Microseconds per first touch of a fresh page (a minor page fault). */
  readonly pageFaultUs: number | undefined;
}

/**
 * What a minor page fault costs: a fresh process touches 64 MiB of new
 * memory, a page at a time. Every process start pays a few thousand such
 * faults, so where they are slow (some virtual machines hand freed memory
 * back to their host), so is every start-up measured here.
 */
async function pageFaultCost(): Promise<number | undefined> {
  const code = "const n = 64 << 20; const t = performance.now();" +
    "const b = new Uint8Array(n); for (let i = 0; i < n; i += 4096) b[i] = 1;" +
    "console.log(((performance.now() - t) * 1000 / (n / 4096)).toFixed(1));";
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const v = Number(await textOf([Deno.execPath(), "eval", code]));
    if (Number.isFinite(v)) runs.push(v);
  }
  runs.sort((a, b) => a - b);
  return runs.length ? runs[Math.floor(runs.length / 2)] : undefined;
}

/** Reads the load average (1, 5, 15 min). */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "unknown";
  }
}

/** Describes the host from /proc and nproc. */
export async function machine(): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  return {
    nproc: await textOf(["nproc"]),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memory: Number.isFinite(memKb)
      ? `${(memKb / 1024 / 1024).toFixed(1)} GiB`
      : "unknown",
    kernel: await textOf(["uname", "-sr"]),
    load: loadAverage(),
    pageFaultUs: await pageFaultCost(),
  };
}

function firstLine(s: string): string {
  return s.split("\n")[0].trim() || "not found";
}

async function dpkgVersion(pkg: string): Promise<string> {
  const v = await textOf(["dpkg-query", "-W", "-f", "${Version}", pkg]);
  return /no packages found|not installed/i.test(v) || v === ""
    ? "not installed"
    : `${pkg} ${v} (Debian)`;
}

/** Versions of everything measured, as [tool, version] rows. */
export async function versions(
  waitOnVersion: string,
): Promise<[string, string][]> {
  const git = await textOf(["git", "rev-parse", "--short", "HEAD"]);
  return [
    ["deno", firstLine(await textOf([Deno.execPath(), "--version"]))],
    [
      "preflight",
      `${firstLine(await textOf([...preflightRun(), "version"]))}, commit ${
        git || "unknown"
      } (run as \`deno run\`, not compiled)`,
    ],
    [
      "PostgreSQL",
      firstLine(await textOf(["/usr/lib/postgresql/15/bin/postgres", "-V"])),
    ],
    ["Redis", firstLine(await textOf(["redis-server", "--version"]))],
    ["MariaDB", firstLine(await textOf(["/usr/sbin/mariadbd", "--version"]))],
    ["RabbitMQ", await dpkgVersion("rabbitmq-server")],
    ["Python (Alembic)", firstLine(await textOf(["/usr/bin/python3", "-V"]))],
    ["Alembic", await dpkgVersion("alembic")],
    ["netcat", await dpkgVersion("netcat-openbsd")],
    ["wait-for-it", await dpkgVersion("wait-for-it")],
    ["wait-on", waitOnVersion],
    ["Node.js (wait-on)", firstLine(await textOf(["node", "--version"]))],
    ["hyperfine", firstLine(await textOf(["hyperfine", "--version"]))],
    ["strace", firstLine(await textOf(["strace", "-V"]))],
  ];
}
