/**
 * Usage: deno task bench [--quick] [--trials N] [--runs N]
 *                        [--replica-rounds N] [--mariadb-trials N]
 *                        [--rabbitmq-trials N] [--only 1,2,...] [--out FILE]
 *
 * Measures preflight against the tools it replaces, in one run, side by
 * side, and writes BENCHMARKS.md (generated; never edit it by hand):
 * 1. readiness detection latency and early starts (late start; standby,
 *    then promote), and attempts per second against the target;
 * 2. the cost of one `probe` against an empty Deno program;
 * 3. start-up overhead of `wait` when everything is already up;
 * 4. resident memory while supervising and after the exec hand-over;
 * 5. eight replicas starting together, with and without the migration lock;
 * 6. MariaDB and RabbitMQ starting late, beside a `nc -z` loop.
 *
 * Environment: BENCH_QUICK=1, BENCH_TRIALS, BENCH_RUNS, BENCH_REPLICA_ROUNDS,
 * BENCH_MARIADB_TRIALS, BENCH_RABBITMQ_TRIALS.
 */
import { startRedis } from "../tests/_redis.ts";
import { loadAverage, machine, versions } from "./machine.ts";
import { measureCommands, type Timing } from "./measure_commands.ts";
import { type MemorySample, memorySample } from "./memory.ts";
import {
  PREFLIGHT_DISPLAY,
  preflightRun,
  preflightRunEager,
  shJoin,
} from "./proc.ts";
import {
  type AttemptRate,
  attemptRate,
  latencyCells,
  lateStartTrial,
  type Scenario,
  standbyTrial,
  type Trial,
} from "./readiness.ts";
import { replicaDisplay, type ReplicaRound, replicaRound } from "./replicas.ts";
import { Report } from "./report.ts";
import { ms, shuffled, spread, summarize } from "./stats.ts";
import {
  installWaitOn,
  ncLoop,
  preflightWaiter,
  type Waiter,
  waitForIt,
  waitOn,
} from "./waiters.ts";
import { containersSection } from "./containers_section.ts";
import { lateServersSection } from "./late_servers_section.ts";

const PROJECT = new URL("..", import.meta.url).pathname;
const EMPTY = new URL("./empty.ts", import.meta.url).pathname;

// Targets stated in the issues.
const TARGET_LATENCY_MS = 50;
const TARGET_ATTEMPTS_PER_S = 20;
const TARGET_PROBE_RATIO = 1.3;
/** `wait tcp://UP -- true` over an empty module's run, ms. */
const TARGET_WAIT_OVERHEAD_MS = 30;

interface Options {
  quick: boolean;
  trials: number;
  runs: number;
  replicaRounds: number;
  /** Section 6: trials per tool and scenario (a RabbitMQ node boots for seconds). */
  mariadbTrials: number;
  rabbitmqTrials: number;
  only: Set<number>;
  out: string;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`Invalid ${name} '${value}': expected a whole number >= 1`);
  }
  return n;
}

function parseOptions(args: string[]): Options {
  const env = (name: string) => Deno.env.get(name);
  // The report labels every figure `deno run -A ... src/main.ts`.
  if (env("PREFLIGHT_BIN") !== undefined) {
    throw new Error(
      `PREFLIGHT_BIN is set ('${
        env("PREFLIGHT_BIN")
      }'): deno task bench measures deno run of src/main.ts and says so in its report; unset it`,
    );
  }
  const quick = args.includes("--quick") ||
    ["1", "true", "yes"].includes(env("BENCH_QUICK") ?? "");
  const opts: Options = {
    quick,
    trials: positiveInt(
      "BENCH_TRIALS",
      // 15: a median of 7 moved by about ±8 ms with the 0-50 ms polling wait alone.
      env("BENCH_TRIALS") ?? (quick ? "3" : "15"),
    ),
    runs: positiveInt("BENCH_RUNS", env("BENCH_RUNS") ?? (quick ? "10" : "30")),
    replicaRounds: positiveInt(
      "BENCH_REPLICA_ROUNDS",
      env("BENCH_REPLICA_ROUNDS") ?? (quick ? "1" : "2"),
    ),
    mariadbTrials: positiveInt(
      "BENCH_MARIADB_TRIALS",
      env("BENCH_MARIADB_TRIALS") ?? (quick ? "2" : "7"),
    ),
    rabbitmqTrials: positiveInt(
      "BENCH_RABBITMQ_TRIALS",
      env("BENCH_RABBITMQ_TRIALS") ?? (quick ? "2" : "5"),
    ),
    only: new Set([1, 2, 3, 4, 5, 6]),
    out: `${PROJECT}BENCHMARKS.md`,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`Missing value for '${a}'`);
      return v;
    };
    if (a === "--quick") continue;
    else if (a === "--trials") opts.trials = positiveInt(a, next());
    else if (a === "--runs") opts.runs = positiveInt(a, next());
    else if (a === "--replica-rounds") {
      opts.replicaRounds = positiveInt(a, next());
    } else if (a === "--mariadb-trials") {
      opts.mariadbTrials = positiveInt(a, next());
    } else if (a === "--rabbitmq-trials") {
      opts.rabbitmqTrials = positiveInt(a, next());
    } else if (a === "--only") {
      opts.only = new Set(next().split(",").map((s) => positiveInt(a, s)));
    } else if (a === "--out") opts.out = next();
    else {
      throw new Error(
        `Unknown option '${a}': expected --quick, --trials N, --runs N, --replica-rounds N, --mariadb-trials N, --rabbitmq-trials N, --only 1,2,.. or --out FILE`,
      );
    }
  }
  return opts;
}

function yesNo(ok: boolean): string {
  return ok ? "**yes**" : "**NO**";
}

/** Headline figures gathered across sections for the summary at the end. */
interface Verdicts {
  rows: string[][];
  /** The empty module's wall median (section 2), ms: Deno's start-up here. */
  emptyModuleMs?: number;
}

// ---------------------------------------------------------------------------
// 1. Readiness detection latency

async function readiness(
  report: Report,
  opts: Options,
  waiters: Waiter[],
  verdicts: Verdicts,
): Promise<void> {
  report.heading("1. Readiness detection latency");
  report.para(
    [
      `Each trial starts a fresh PostgreSQL 15 cluster (tests/_servers.ts) and one waiter; ${opts.trials} trials per tool and scenario, tools in random order within each round.`,
      "- **late start**: nothing listens on the port until the server starts 1.5-3 s (random per trial) after the waiter.",
      '- **standby, then promote**: a standby with `hot_standby = off` listens from the start and answers every login with SQLSTATE 57P03 ("not accepting connections"); it is promoted 1.5-3 s (random) after the waiter started. The port is open but the database is not ready: a TCP-only check proceeds here.',
      "",
      "*preflight* waits at `pg_isready`'s level (no user, as for `DB_HOST`); *preflight (login)* with a user, as for a `DATABASE_URL`: ready only once it has logged in (and run its session query), its first attempt logging in at once, every later one first asking with the startup packet and logging in the moment the server accepts.",
      "",
      "Each waiter then runs `date +%s.%N`. **Latency** = that command's wall-clock start minus the timestamp of PostgreSQL's `database system is ready to accept connections` line (`log_line_prefix = '%m '`, UTC, milliseconds; both CLOCK_REALTIME). Negative = the command started before the database was ready (**early**). *Connections* are the server's `log_connections` lines after the waiter started (a refused connection leaves no line, so in the late-start scenario only the attempts after the server began listening are seen).",
    ].join("\n"),
  );
  report.code(waiters.map((w) => `${w.name.padEnd(12)} ${w.display}`));

  const trials: Trial[] = [];
  const scenarios: [Scenario, (w: Waiter) => Promise<Trial>][] = [
    ["late start", lateStartTrial],
    ["standby, then promote", standbyTrial],
  ];
  for (let round = 1; round <= opts.trials; round++) {
    for (const [scenario, run] of scenarios) {
      for (const w of shuffled(waiters)) {
        let t: Trial;
        try {
          t = await run(w);
        } catch (e) {
          t = {
            waiter: w.name,
            scenario,
            attempts: 0,
            maxPerSecond: 0,
            error: (e as Error).message.split("\n")[0],
          };
        }
        trials.push(t);
        report.progress(
          `  [${scenario} ${round}/${opts.trials}] ${w.name.padEnd(11)} ${
            t.error
              ? `ERROR ${t.error}`
              : `latency ${ms(t.latencyMs!).padStart(6)} ms${
                t.early ? " EARLY" : ""
              }  connections ${t.attempts} (max ${t.maxPerSecond}/s)  db ready at +${
                ms(t.readyAfterMs ?? NaN)
              } ms`
          }`,
        );
      }
    }
  }

  for (const [scenario] of scenarios) {
    report.heading(scenario, 3);
    const rows = waiters.map((w) => {
      const ts = trials.filter((t) =>
        t.waiter === w.name && t.scenario === scenario
      );
      return [
        w.name,
        ...latencyCells(ts),
        String(summarize(ts.map((t) => t.attempts)).median),
        String(Math.max(0, ...ts.map((t) => t.maxPerSecond))),
      ];
    });
    report.table([
      "tool",
      "median latency ms",
      "IQR; min..max ms",
      "early",
      "failed trials",
      "connections (median)",
      "max connections/s",
    ], rows);
  }

  // Where preflight's latency goes: noticing readiness, then handing over.
  const ours = waiters.filter((w) => w.name.startsWith("preflight"));
  const split = ours.flatMap((w) =>
    scenarios.map(([scenario]) => {
      const ts = trials.filter((t) =>
        t.waiter === w.name && t.scenario === scenario &&
        t.detectMs !== undefined
      );
      const detect = summarize(ts.map((t) => t.detectMs!));
      const hand = summarize(ts.map((t) => t.handOverMs!));
      return [
        w.name,
        scenario,
        ms(detect.median),
        spread(detect),
        ms(hand.median),
        spread(hand),
      ];
    })
  );
  report.para(
    "preflight's latency in two parts: *detection* = its JSON log line `✓ TARGET is ready` (`ts`, ms) minus the server's ready line; *hand-over* = the command's start minus that log line (the rest of the log line, resetting signals and descriptors, `execve` and the app's own start; the command is resolved and encoded before the wait).",
  );
  report.table([
    "waiter",
    "scenario",
    "detection median ms",
    "IQR; min..max ms",
    "hand-over median ms",
    "IQR; min..max ms",
  ], split);

  const rates = {
    refused: await attemptRate("refused"),
    "57P03": await attemptRate("57P03"),
  };
  report.para(
    "Attempts per second seen from the client: `strace -f -e trace=connect -ttt` on `preflight wait postgres://127.0.0.1:PORT --timeout 3s`, apart from the latency trials, against a port nobody listens on (refused connections leave no server log) and against a standby answering 57P03. These timestamps are taken at the system call; the server's `log_connections` lines above are written after a fork and jitter by a few milliseconds, so they can put one extra attempt into a 1 s window.",
  );
  report.table(
    ["target state", "connect() calls", "seconds", "max in any 1 s window"],
    Object.entries(rates).map(([phase, r]) =>
      "error" in r ? [phase, `not measured: ${r.error}`, "", ""] : [
        phase,
        String(r.attempts),
        r.seconds.toFixed(2),
        String(r.maxPerSecond),
      ]
    ),
  );

  const mine = trials.filter((t) => t.waiter.startsWith("preflight"));
  const mineOk = mine.filter((t) => t.error === undefined);
  for (const w of ours) {
    for (const [scenario] of scenarios) {
      const lat = summarize(
        mineOk.filter((t) => t.waiter === w.name && t.scenario === scenario)
          .map((t) => t.latencyMs!),
      );
      verdicts.rows.push([
        `${w.name} median latency ≤ ${TARGET_LATENCY_MS} ms (${scenario})`,
        `${ms(lat.median)} ms (IQR ${ms(lat.p25)}..${ms(lat.p75)}, max ${
          ms(lat.max)
        })`,
        yesNo(lat.median <= TARGET_LATENCY_MS),
      ]);
    }
  }
  const early = mineOk.filter((t) => t.early).length;
  verdicts.rows.push([
    "preflight never early",
    `${early} early of ${mineOk.length} trials (${
      mine.length - mineOk.length
    } failed)`,
    yesNo(early === 0 && mine.length === mineOk.length),
  ]);
  const maxLogged = Math.max(0, ...mine.map((t) => t.maxPerSecond));
  const traced = Object.values(rates).filter((r) => !("error" in r)).map((
    r,
  ) => (r as AttemptRate).maxPerSecond);
  verdicts.rows.push([
    `≤ ${TARGET_ATTEMPTS_PER_S} attempts/s per target`,
    `client side (strace): max ${
      traced.length ? Math.max(...traced) : "n/a"
    }/s (refused and 57P03); server log (±ms jitter): max ${maxLogged}/s`,
    traced.length === 2
      ? yesNo(Math.max(...traced) <= TARGET_ATTEMPTS_PER_S)
      : "not measured",
  ]);
  for (const w of waiters.filter((w) => !w.name.startsWith("preflight"))) {
    const parts = scenarios.map(([scenario]) => {
      const ts = trials.filter((t) =>
        t.waiter === w.name && t.scenario === scenario && !t.error
      );
      const lat = summarize(ts.map((t) => t.latencyMs!));
      return `${scenario}: ${ms(lat.median)} ms, ${
        ts.filter((t) => t.early).length
      }/${ts.length} early`;
    });
    verdicts.rows.push([
      `${w.name}: median latency, early starts`,
      parts.join("; "),
      "(reference)",
    ]);
  }
}

// ---------------------------------------------------------------------------
// 2 and 3. Process cost

function timingRows(timings: Timing[], baseline?: Timing): string[][] {
  return timings.map((t) => [
    t.name,
    t.hyperfine ? ms(t.hyperfine.median) : "n/a",
    t.hyperfine ? spread(t.hyperfine) : "n/a",
    ms(t.wall.median),
    ...(baseline ? [ms(t.wall.median - baseline.wall.median)] : []),
    ms(t.cpu.median),
    spread(t.cpu),
    `${(t.maxRssKb.median / 1024).toFixed(1)}`,
    String(t.failures),
  ]);
}

const TIMING_HEADERS = [
  "command",
  "wall median ms (hyperfine)",
  "IQR; min..max ms",
  "wall median ms (loop)",
  "CPU user+sys median ms",
  "CPU IQR; min..max ms",
  "peak RSS MiB",
  "failed runs",
];

async function probeCost(
  report: Report,
  opts: Options,
  verdicts: Verdicts,
): Promise<void> {
  report.heading("2. Probe cost");
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen() {},
  }, () => new Response('{"status":"ok"}', { status: 200 }));
  const port = server.addr.port;
  await using redis = await startRedis();
  try {
    const pf = preflightRun();
    const eager = preflightRunEager();
    const filler = "X".repeat(4096);
    const cmds = [
      { name: "empty module", argv: [pf[0], "run", ...pf.slice(2, -1), EMPTY] },
      { name: "preflight version", argv: [...pf, "version"] },
      {
        name: "preflight version, 4 KiB env value",
        argv: ["env", `BENCH_FILLER=${filler}`, ...pf, "version"],
      },
      {
        name: "probe http",
        argv: [...pf, "probe", `http://127.0.0.1:${port}/health`],
      },
      {
        name: "probe http, full path",
        argv: [
          ...pf,
          "probe",
          "--http-status",
          "200-299",
          `http://127.0.0.1:${port}/health`,
        ],
      },
      { name: "probe tcp", argv: [...pf, "probe", `tcp://127.0.0.1:${port}`] },
      { name: "probe redis", argv: [...pf, "probe", redis.url()] },
      {
        name: "probe http, whole graph",
        argv: [...eager, "probe", `http://127.0.0.1:${port}/health`],
      },
      { name: "preflight version, whole graph", argv: [...eager, "version"] },
    ];
    report.para(
      [
        `Wall time of one run (hyperfine \`-N\`, ${opts.runs} runs after 3 warm-up runs, in sequence), and wall and CPU time (user+sys of the child, from \`wait4\` rusage) of the same commands run ${opts.runs} times interleaved by bench/rusage.py with only PATH, HOME and NO_COLOR in the environment. The HTTP server answering 200 is in the bench process; Redis is a local redis-server.`,
        "",
        "`bench/empty.ts` is an empty module **inside the project**, so both it and `src/main.ts` pay the same deno.json and deno.lock loading (and get the same flags): the ratio is preflight's own cost over Deno's start-up. `preflight version` (entry module, argument and environment parsing, no check) splits that cost in two. All run as `deno run` (V8 code cache warm after the warm-up runs); a `deno compile` binary was not measured (it cannot be built here).",
        "",
        "The rows *whole graph* are plain `deno run -A src/main.ts`, without `--unstable-lazy-dynamic-imports`: every command and kind of target is imported with a literal `import()` (so that `deno compile` embeds them without a hand-kept `--include` list), and plain `deno run` loads all of that graph, the npm clients `postgres` and `mysql2` included, before main.ts starts. The difference to the rows above is what literal imports cost a plain `deno run`; the Dockerfile's source form runs with the flag, and a compiled binary loads its modules from the embedded graph on demand.",
        "",
        '`probe http` is the everyday health check, which takes the short cut of src/commands/probe_fast.ts (it can only answer healthy; anything else goes to the full probe). `probe http, full path` asks the same question through the full probe: `--http-status 200-299` means "any 2xx" like the default, but an option the short cut does not take. `probe tcp` and `probe redis` always take the full path.',
        "",
        "hyperfine adds a variable `HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET` of 0-4 KiB of `X` to each run's environment, the loop does not; the row with a 4 KiB environment value shows what such a value costs preflight. The verdict uses the loop.",
      ].join("\n"),
    );
    report.code(
      cmds.map((c) =>
        `${c.name.padEnd(34)} ${
          shJoin(c.argv).replaceAll(PROJECT, "").replace(
            Deno.execPath(),
            "deno",
          ).replace(filler, "<4 KiB of X>").replace(/\b\d{4,5}\b/g, "PORT")
        }`
      ),
    );
    const timings = await measureCommands(cmds, opts.runs, 3);
    report.table(TIMING_HEADERS, timingRows(timings));
    const empty = timings[0];
    verdicts.emptyModuleMs = empty.wall.median;
    const http = timings.find((t) => t.name === "probe http")!;
    const hfRatio = http.hyperfine && empty.hyperfine
      ? http.hyperfine.median / empty.hyperfine.median
      : NaN;
    const loopRatio = http.wall.median / empty.wall.median;
    const cpuRatio = http.cpu.median / empty.cpu.median;
    const whole = timings.find((t) => t.name === "probe http, whole graph")!;
    const wholeRatio = whole.wall.median / empty.wall.median;
    report.para(
      `Ratio probe http / empty module: wall ${
        hfRatio.toFixed(2)
      } (hyperfine medians), ${
        loopRatio.toFixed(2)
      } (interleaved loop medians); CPU ${
        cpuRatio.toFixed(2)
      }. With the whole graph loaded (plain \`deno run\`): ${
        wholeRatio.toFixed(2)
      } wall (loop).`,
    );
    verdicts.rows.push([
      `probe http / empty module ≤ ${TARGET_PROBE_RATIO} (deno run)`,
      `${loopRatio.toFixed(2)} wall (loop: probe ${
        ms(http.wall.median)
      } ms, empty ${ms(empty.wall.median)} ms), ${
        hfRatio.toFixed(2)
      } wall (hyperfine), ${cpuRatio.toFixed(2)} CPU`,
      yesNo(loopRatio <= TARGET_PROBE_RATIO),
    ]);
    verdicts.rows.push([
      "probe http / empty module, plain deno run (whole graph loaded)",
      `${wholeRatio.toFixed(2)} wall (loop: probe ${
        ms(whole.wall.median)
      } ms); what literal imports cost without ${"--unstable-lazy-dynamic-imports"}`,
      "(reference)",
    ]);
  } finally {
    ac.abort();
    await server.finished;
  }
}

async function startupOverhead(
  report: Report,
  opts: Options,
  waiters: Waiter[],
  verdicts: Verdicts,
): Promise<void> {
  report.heading("3. Start-up overhead when the dependency is already up");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  // Accept and close, so no connection piles up.
  const accepting = (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch { /* closed */ }
  })();
  try {
    // preflight's TCP check; its login-level waiter has no part here.
    const tcpWaiters = waiters.filter((w) => w.name !== "preflight (login)")
      .map((w) => w.name === "preflight" ? preflightWaiter("tcp") : w);
    const pf = preflightRun();
    const cmds = [
      { name: "true", argv: ["true"] },
      { name: "empty module", argv: [pf[0], "run", ...pf.slice(2, -1), EMPTY] },
      ...tcpWaiters.map((w) => ({
        name: w.name,
        argv: w.argv(port, ["true"]),
      })),
    ];
    report.para(
      `Every tool waits for a TCP port that is already accepting, then runs \`true\`; ${opts.runs} runs each, measured as in section 2. *Overhead* = loop wall median minus that of \`true\` alone. The empty module (as in section 2) is the start of any Deno program: preflight's own part is its wall time minus that.`,
    );
    report.code([
      "true",
      `empty module ${pf[0] === Deno.execPath() ? "deno" : pf[0]} run ${
        pf.slice(2, -1).join(" ")
      } bench/empty.ts`,
      ...tcpWaiters.map((w) =>
        `${w.name.padEnd(12)} ${w.display.replace("CMD", "true")}`
      ),
    ]);
    const timings = await measureCommands(cmds, opts.runs, 3);
    const headers = [...TIMING_HEADERS];
    headers.splice(4, 0, "overhead ms");
    report.table(headers, timingRows(timings, timings[0]));
    const mine = timings.find((t) => t.name === "preflight")!;
    const empty = timings.find((t) => t.name === "empty module")!;
    const own = mine.wall.median - empty.wall.median;
    verdicts.rows.push([
      `wait tcp://UP -- true within ${TARGET_WAIT_OVERHEAD_MS} ms of an empty module`,
      `${ms(own)} ms (preflight ${ms(mine.wall.median)} ms, empty module ${
        ms(empty.wall.median)
      } ms; loop medians)`,
      yesNo(own <= TARGET_WAIT_OVERHEAD_MS),
    ]);
    verdicts.rows.push([
      "wait overhead when already up",
      `${
        ms(mine.wall.median - timings[0].wall.median)
      } ms over \`true\` (nc loop ${
        ms(
          timings.find((t) => t.name === "nc loop")!.wall.median -
            timings[0].wall.median,
        )
      } ms)`,
      "(reference)",
    ]);
  } finally {
    listener.close();
    await accepting;
  }
}

// ---------------------------------------------------------------------------
// 4. Memory

async function memory(report: Report, verdicts: Verdicts): Promise<void> {
  report.heading("4. Resident memory while the app runs");
  report.para(
    "`VmRSS` (and peak `VmHWM`) from /proc, 300 ms after the app (`sleep 5`) started; median of 3 runs each. With the exec hand-over the PID preflight started as runs `sleep` itself: preflight's own memory is gone.",
  );
  report.code([
    `supervise   ${PREFLIGHT_DISPLAY} run --no-wait --no-migrate --supervise -- sleep 5`,
    `exec        ${PREFLIGHT_DISPLAY} run --no-wait --no-migrate -- sleep 5`,
  ]);
  const median = (xs: number[]) => summarize(xs).median;
  const mib = (kb: number) =>
    Number.isFinite(kb) ? (kb / 1024).toFixed(1) : "n/a";
  const rows: string[][] = [];
  for (const supervise of [true, false]) {
    const samples: MemorySample[] = [];
    for (let i = 0; i < 3; i++) samples.push(await memorySample(supervise));
    const pidRss = median(samples.map((s) => s.pidRss.rssKb));
    const pidHwm = median(samples.map((s) => s.pidRss.hwmKb));
    const childRss = supervise
      ? median(samples.map((s) => s.childRss!.rssKb))
      : NaN;
    rows.push([
      supervise ? "supervise" : "exec",
      [...new Set(samples.map((s) => s.pidComm))].join(","),
      mib(pidRss),
      mib(pidHwm),
      supervise ? mib(childRss) : "(is the PID)",
      mib(supervise ? pidRss + childRss : pidRss),
    ]);
    verdicts.rows.push([
      `RSS while the app runs (${supervise ? "supervise" : "exec"})`,
      supervise
        ? `preflight ${mib(pidRss)} MiB + app ${mib(childRss)} MiB`
        : `${mib(pidRss)} MiB (the app alone; preflight gone)`,
      "(reference)",
    ]);
  }
  report.table([
    "mode",
    "process under the PID",
    "VmRSS MiB",
    "VmHWM MiB",
    "app (child) VmRSS MiB",
    "total MiB",
  ], rows);
}

// ---------------------------------------------------------------------------
// 5. Replicas

async function replicas(
  report: Report,
  opts: Options,
  verdicts: Verdicts,
): Promise<void> {
  report.heading("5. Eight replicas starting together");
  report.para(
    `Eight \`preflight run\` processes start at once against one PostgreSQL that starts 1.5 s later, with the example backend's real Alembic migrations (examples/backend) and the default retry schedule (2 s, 4 s, 8 s...); ${opts.replicaRounds} round(s) per mode, alternating. *All running* = launch to the start of the last of the eight apps (\`date +%s.%N\`); *after DB ready* = from the server's ready line. *Failed attempts* = \`✗ Alembic exited with code\` lines over all eight. Under the lock the eight \`alembic upgrade head\` runs take turns (the later ones find the schema current), so the last app's start grows with eight Alembic start-ups; without it they run at once and may collide, fail, and retry after 2 s.`,
  );
  report.code([
    `lock      ${replicaDisplay(true)}`,
    `no lock   ${replicaDisplay(false)}`,
  ]);
  const rounds: ReplicaRound[] = [];
  for (let i = 0; i < opts.replicaRounds; i++) {
    for (const lock of [true, false]) {
      const r = await replicaRound(lock).catch((e): ReplicaRound => ({
        lock,
        failedAttempts: 0,
        started: 0,
        rows: "",
        error: (e as Error).message.split("\n")[0],
      }));
      rounds.push(r);
      report.progress(
        `  [replicas ${lock ? "lock   " : "no lock"} ${
          i + 1
        }/${opts.replicaRounds}] all running after ${
          ms(r.allRunningMs ?? NaN)
        } ms (${
          ms(r.afterReadyMs ?? NaN)
        } ms after DB ready), failed attempts ${r.failedAttempts}, rows ${r.rows}${
          r.error ? `, ERROR ${r.error}` : ""
        }`,
      );
    }
  }
  const rows = [true, false].map((lock) => {
    const rs = rounds.filter((r) => r.lock === lock);
    const ok = rs.filter((r) => r.error === undefined);
    const all = summarize(ok.map((r) => r.allRunningMs!));
    const after = summarize(ok.map((r) => r.afterReadyMs!));
    const failed = rs.map((r) => String(r.failedAttempts)).join(", ");
    verdicts.rows.push([
      `8 replicas ${lock ? "with" : "without"} the lock`,
      `all running ${
        ms(all.median)
      } ms after launch; failed attempts per round: ${failed}`,
      "(reference)",
    ]);
    return [
      lock ? "with lock" : "--no-migrate-lock",
      ms(all.median),
      `${ms(all.min)}..${ms(all.max)}`,
      ms(after.median),
      failed,
      [...new Set(rs.map((r) => r.rows))].join(", "),
      String(rs.length - ok.length),
    ];
  });
  report.table([
    "mode",
    "all running, median ms",
    "min..max ms",
    "after DB ready, median ms",
    "failed attempts (per round)",
    "rows in items",
    "failed rounds",
  ], rows);
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(Deno.args);
  const started = new Date();
  const t0 = performance.now();
  const report = new Report();
  report.progress(
    `preflight benchmarks: ${
      opts.quick ? "quick" : "full"
    } mode, ${opts.trials} trials, ${opts.runs} runs, ${opts.replicaRounds} replica round(s), ${opts.mariadbTrials} MariaDB and ${opts.rabbitmqTrials} RabbitMQ trials`,
  );

  const installed = await installWaitOn();
  const waiters: Waiter[] = [
    preflightWaiter("postgres", true),
    preflightWaiter("postgres", true, true),
    ncLoop,
    waitForIt,
  ];
  if ("bin" in installed) waiters.push(waitOn(installed.bin));
  else report.progress(`wait-on skipped: ${installed.error}`);

  const host = await machine();
  report.para(
    [
      "# Benchmarks",
      "",
      "> Generated by `deno task bench` (bench/bench.ts). Do not edit by hand: re-run the task to update it.",
      "",
      `Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")}. Mode: ${
        opts.quick ? "quick" : "full"
      } (${opts.trials} trials per tool and scenario, ${opts.runs} runs per timed command, ${opts.replicaRounds} replica round(s) per mode; MariaDB ${opts.mariadbTrials} and RabbitMQ ${opts.rabbitmqTrials} trials per tool and scenario).`,
      "",
      `The machine is shared and noisy: figures are medians with quartiles and ranges, never means. All preflight figures are for \`${PREFLIGHT_DISPLAY}\` (the Dockerfile's source form; not a compiled binary, which cannot be built here). With that flag, Deno loads a module imported by a literal \`import()\` (each command, each kind of target) when it is first imported; without it, \`deno run\` loads the whole module graph, npm clients included, before main.ts starts (section 2 shows both).`,
    ].join("\n"),
  );
  report.heading("Machine");
  report.table(["", ""], [
    ["CPUs (nproc)", host.nproc],
    ["CPU model", host.cpu],
    ["memory", host.memory],
    ["kernel", host.kernel],
    ["load average at start (1, 5, 15 min)", host.load],
    [
      "first touch of fresh memory (minor page fault)",
      host.pageFaultUs === undefined
        ? "unknown"
        : `${host.pageFaultUs} µs per 4 KiB page (median of 5 runs)`,
    ],
  ]);
  report.heading("Versions");
  report.table(
    ["tool", "version"],
    await versions(
      "bin" in installed
        ? `wait-on ${installed.version} (npm)`
        : `not measured: ${installed.error}`,
    ),
  );

  const verdicts: Verdicts = { rows: [] };
  if (opts.only.has(1)) await readiness(report, opts, waiters, verdicts);
  if (opts.only.has(2)) await probeCost(report, opts, verdicts);
  if (opts.only.has(3)) await startupOverhead(report, opts, waiters, verdicts);
  if (opts.only.has(4)) await memory(report, verdicts);
  if (opts.only.has(5)) await replicas(report, opts, verdicts);
  if (opts.only.has(6)) {
    await lateServersSection(report, {
      mariadb: opts.mariadbTrials,
      rabbitmq: opts.rabbitmqTrials,
    }, verdicts);
  }

  report.heading("Summary against the targets");
  report.table(["target", "measured", "met?"], verdicts.rows);
  if (verdicts.emptyModuleMs !== undefined) {
    report.para(
      `The targets in milliseconds are absolute, and every latency above includes starting a process: here an empty \`deno run\` took ${
        ms(verdicts.emptyModuleMs)
      } ms (section 2) and a minor page fault ${
        host.pageFaultUs ?? "an unknown number of"
      } µs (Machine). The BENCHMARKS.md of commit 241860f, from an Intel Xeon host of the same 2-core kind, had an empty module at 11 ms; start-up-bound figures move with that cost, the ratios much less.`,
    );
  }
  report.para(
    `Load average at the end: ${loadAverage()}. Total bench time: ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s.`,
  );
  // The section "In containers" comes from bench/containers.ts (a Docker
  // engine); it is kept as it is.
  const kept = containersSection(
    await Deno.readTextFile(opts.out).catch(() => ""),
  );
  await Deno.writeTextFile(
    opts.out,
    report.markdown() + (kept ? `\n${kept}` : ""),
  );
  // In the project's Markdown style, so `deno fmt --check` stays green.
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", opts.out],
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!fmt.success) report.progress(`deno fmt ${opts.out} failed`);
  report.progress(`\nWrote ${opts.out}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`bench failed: ${(e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}
