/**
 * Usage: deno task faults [--only SUBSTRING] [--jobs N] [--report PATH]
 *
 * The fault matrix: runs every scenario against real servers and real
 * processes, prints progress, writes RELIABILITY.md (a full run only; a
 * partial one only to an explicit --report PATH) and exits 1 when any
 * observed outcome differs from the SPEC's.
 */
import { type FaultRow, type RowResult, runRow } from "./fault_row.ts";
import { renderReport } from "./report.ts";
import { networkRows } from "./rows_network.ts";
import { migrationRows } from "./rows_migrate.ts";
import { handOverRows } from "./rows_handover.ts";
import { signalRows } from "./rows_signals.ts";
import { libpqRows } from "./rows_libpq.ts";
import { kindRows } from "./rows_kinds.ts";
import { disposeShared } from "./shared_postgres.ts";
import { removeAllHostsEntries } from "./hosts_entry.ts";
import { killAllProcesses } from "./preflight_process.ts";

const REPORT = new URL("../RELIABILITY.md", import.meta.url);

function parseArgs(
  args: string[],
): { only?: string; jobs: number; report?: string } {
  let only: string | undefined;
  let report: string | undefined;
  let jobs = 3;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--only") only = args[++i];
    else if (args[i] === "--jobs") jobs = Number(args[++i]);
    else if (args[i] === "--report") report = args[++i];
    else {
      console.error(
        `Unknown argument '${
          args[i]
        }': expected --only SUBSTRING, --jobs N or --report PATH`,
      );
      Deno.exit(2);
    }
  }
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`Invalid --jobs '${jobs}': expected a whole number >= 1`);
    Deno.exit(2);
  }
  return { only, jobs, report };
}

async function commandOutput(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "unknown";
  }
}

async function machineInfo(): Promise<[string, string][]> {
  const cpuModel = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const commit = await commandOutput("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = await commandOutput("git", ["status", "--porcelain", "src/"]);
  return [
    [
      "Machine",
      `${Deno.hostname()}, ${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    ],
    ["CPUs", `${navigator.hardwareConcurrency} × ${cpuModel}`],
    ["Deno", Deno.version.deno],
    [
      "PostgreSQL",
      await commandOutput("/usr/lib/postgresql/15/bin/postgres", ["--version"]),
    ],
    [
      "Redis",
      (await commandOutput("redis-server", ["--version"])).split(" sha=")[0],
    ],
    ["Commit", `${commit}${dirty ? " (src/ has uncommitted changes)" : ""}`],
  ];
}

/** Runs the rows, `jobs` at a time; exclusive rows afterwards, alone. */
async function runAll(
  rows: FaultRow[],
  jobs: number,
  onDone: (r: RowResult) => void,
): Promise<RowResult[]> {
  const results = new Map<FaultRow, RowResult>();
  const queue = rows.filter((r) => !r.exclusive);
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const r = await runRow(row);
      results.set(row, r);
      onDone(r);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  for (const row of rows.filter((r) => r.exclusive)) {
    const r = await runRow(row);
    results.set(row, r);
    onDone(r);
  }
  return rows.map((row) => results.get(row)!);
}

async function main(): Promise<number> {
  const { only, jobs, report } = parseArgs(Deno.args);
  // Ctrl-C of the task: leave no /etc/hosts line and no server behind
  // (the servers' unload handlers run on exit).
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      removeAllHostsEntries();
      killAllProcesses();
      console.log(`\n${sig}: cleaning up`);
      Deno.exit(130);
    });
  }
  const all = [
    ...networkRows(),
    ...libpqRows(),
    ...kindRows(),
    ...migrationRows(),
    ...handOverRows(),
    ...signalRows(),
  ];
  const ids = new Set<string>();
  for (const r of all) {
    if (ids.has(r.id)) throw new Error(`Duplicate row id '${r.id}'`);
    ids.add(r.id);
  }
  const rows = only ? all.filter((r) => r.id.includes(only)) : all;
  if (rows.length === 0) {
    console.error(`No row id contains '${only}'`);
    return 2;
  }
  console.log(
    `Fault matrix: ${rows.length} rows, ${jobs} at a time${
      only ? ` (only '${only}')` : ""
    }`,
  );
  const date = new Date();
  const t0 = performance.now();
  let n = 0;
  let results: RowResult[];
  try {
    results = await runAll(rows, jobs, (r) => {
      n++;
      const o = r.observation;
      const what = o
        ? `${o.code === null ? "" : `exit ${o.code}, `}${
          (o.ms / 1000).toFixed(2)
        } s`
        : "harness error";
      console.log(
        `[${String(n).padStart(2)}/${rows.length}] ${
          r.pass ? "PASS" : "FAIL"
        } ${r.row.id} (${what}; row ${(r.wallMs / 1000).toFixed(1)} s)`,
      );
      if (!r.pass) {
        for (const c of o?.checks ?? []) {
          if (!c.ok) console.log(`         ✗ ${c.label}`);
        }
        if (r.error) console.log(`         ${r.error.split("\n")[0]}`);
      }
    });
  } finally {
    await disposeShared();
    removeAllHostsEntries();
  }
  const durationMs = performance.now() - t0;
  const failed = results.filter((r) => !r.pass);
  console.log(
    `\n${results.length - failed.length}/${results.length} rows pass in ${
      (durationMs / 1000).toFixed(0)
    } s${
      failed.length
        ? `; failing: ${failed.map((r) => r.row.id).join(", ")}`
        : ""
    }`,
  );
  const path = report ?? (only ? undefined : REPORT.pathname);
  if (path === undefined) {
    console.log("Partial run (--only): RELIABILITY.md not written");
  } else {
    const text = renderReport(results, {
      date,
      durationMs,
      machine: await machineInfo(),
    });
    await Deno.writeTextFile(path, text);
    // In the repository's own format, so `deno fmt --check` (deno task ok)
    // accepts the generated file as it is.
    const fmt = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", path],
      stdout: "null",
      stderr: "inherit",
    }).output();
    console.log(
      `Wrote ${path}${fmt.success ? "" : " (deno fmt failed on it)"}`,
    );
  }
  return failed.length ? 1 : 0;
}

Deno.exit(await main());
