/**
 * Section 6 of BENCHMARKS.md: MariaDB and RabbitMQ starting late, preflight
 * side by side with a `nc -z` loop once a second (bench/late_servers.ts).
 */
import {
  type LateScenario,
  lateScenarios,
  type LateTrial,
} from "./late_servers.ts";
import type { Report } from "./report.ts";
import { ms, shuffled, spread, summarize } from "./stats.ts";
import { latencyCells } from "./readiness.ts";

/** Trials per tool and scenario, per server. */
export interface LateTrialCounts {
  readonly mariadb: number;
  readonly rabbitmq: number;
}

const title = (s: LateScenario) => `${s.server}, ${s.name}`;

/** Runs every scenario's trials, round by round, tools in random order. */
async function runTrials(
  report: Report,
  scenarios: readonly LateScenario[],
  rounds: number,
): Promise<LateTrial[]> {
  const trials: LateTrial[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const s of scenarios) {
      for (const w of shuffled(s.waiters)) {
        let t: LateTrial;
        try {
          t = await s.run(w);
        } catch (e) {
          t = {
            server: s.server,
            scenario: s.name,
            waiter: w.name,
            error: (e as Error).message.split("\n")[0],
          };
        }
        trials.push(t);
        report.progress(
          `  [${title(s)} ${round}/${rounds}] ${w.name.padEnd(17)} ${
            t.error
              ? `ERROR ${t.error}`
              : `latency ${ms(t.latencyMs!).padStart(6)} ms${
                t.early ? " EARLY" : ""
              }  ready at +${ms(t.readyAfterMs ?? NaN)} ms  window ${
                ms(t.windowMs ?? NaN)
              } ms`
          }`,
        );
      }
    }
  }
  return trials;
}

/**
 * Measures and reports section 6; adds its rows to `verdicts`. A server
 * that cannot run here is reported as not measured.
 */
export async function lateServersSection(
  report: Report,
  counts: LateTrialCounts,
  verdicts: { rows: string[][] },
): Promise<void> {
  report.heading("6. MariaDB and RabbitMQ starting late");
  report.para(
    [
      `Each trial starts a fresh server and one waiter; ${counts.mariadb} trials per tool and scenario for MariaDB, ${counts.rabbitmq} for RabbitMQ (a node boots for several seconds), tools in random order within each round. The \`nc -z\` loop is how wait4x-style polling behaves: TCP only, once a second. The harnesses also connect while a server starts (every 20 ms to MariaDB, every 50 ms to RabbitMQ) to know when it is up; no other client does.`,
      "- **MariaDB, late start**: nothing listens until `mariadbd` (tests/_mariadb.ts) starts 1.5-3 s (random) after the waiter. It creates its socket, loads its grant tables and runs its init file (one database, one user), and only then logs `ready for connections` and greets clients; in between, the port accepts connections that get no handshake.",
      "- **MariaDB, slow initialisation**: `mariadbd` listens before the waiter starts, and its init file is held at the harness's gate (a `LOAD DATA` from a FIFO, standing for a long init script) until 1.5-3 s (random) after the waiter started: the port accepts, but no handshake comes and no login works. A TCP-only check proceeds here.",
      "- **RabbitMQ, late start**: the node (tests/_rabbitmq.ts) is started 0-1 s (random) after the waiter and boots for several seconds. Its AMQP listener opens only at the end of the boot, after the users and virtual hosts are loaded (`Ready to start client connection listeners`, `started TCP listener`, later `Server startup complete`): until then every connection is refused, a TCP check's too.",
      "",
      "*preflight* waits without a user: for MariaDB's handshake, for RabbitMQ's `Connection.Start` in answer to the protocol header. *preflight (login)* waits with a user: for MariaDB a login and `SELECT 1` (the npm `mysql2` client, loaded at the first such attempt), for RabbitMQ a connection opened on a virtual host and closed.",
      "",
      "Each waiter then runs `date +%s.%N`. **Latency** = that command's start minus the server's reference moment; negative = the command started before the server was usable (**early**).",
      "- MariaDB: the `ready for connections` line. Its error log stamps whole seconds, so the bench watches the file (inotify) and takes the wall clock just after reading the line: never before the server wrote it, and shortly after, as the bench process is idle meanwhile (each line is checked against the second it carries). The server greets no client before this line: it logs it, then starts accepting.",
      "- RabbitMQ: the node's own timestamp (microseconds) of `started TCP listener on 127.0.0.1:PORT`, the first moment its port accepts anything. `Server startup complete` comes tens of milliseconds later, and the broker already serves connections in between (the users and virtual hosts are loaded before the listener starts), so that line would make a fast waiter look early.",
      "",
      "*Detection* (preflight) = its JSON log line `✓ TARGET is ready` minus the reference moment; *hand-over* = the command's start minus that log line.",
    ].join("\n"),
  );

  const bySrv = (server: string) =>
    lateScenarios.filter((s) => s.server === server);
  const servers = [
    ["MariaDB", counts.mariadb],
    ["RabbitMQ", counts.rabbitmq],
  ] as const;
  report.code(
    servers.flatMap(([server]) =>
      bySrv(server)[0].waiters.map((w) =>
        `${server.padEnd(8)} ${w.name.padEnd(17)} ${w.display}`
      )
    ),
  );
  const all: LateTrial[] = [];
  for (const [server, rounds] of servers) {
    const scenarios = bySrv(server);
    const missing = scenarios[0].missing();
    if (missing) {
      report.para(`${server}: not measured: ${missing}.`);
      verdicts.rows.push([
        `${server}: latency`,
        `not measured: ${missing}`,
        "",
      ]);
      continue;
    }
    const trials = await runTrials(report, scenarios, rounds);
    all.push(...trials);
    for (const s of scenarios) {
      report.heading(title(s), 3);
      const of = (name: string) =>
        trials.filter((t) => t.scenario === s.name && t.waiter === name);
      const rows = s.waiters.map((w) => {
        const ts = of(w.name);
        const ok = ts.filter((t) => t.error === undefined);
        const det = summarize(
          ok.filter((t) => t.detectMs !== undefined).map((t) => t.detectMs!),
        );
        const hand = summarize(
          ok.filter((t) => t.handOverMs !== undefined).map((t) =>
            t.handOverMs!
          ),
        );
        return [
          w.name,
          ...latencyCells(ts),
          det.n ? `${ms(det.median)} (${spread(det)})` : "",
          hand.n ? ms(hand.median) : "",
        ];
      });
      report.table([
        "tool",
        "median latency ms",
        "IQR; min..max ms",
        "early",
        "failed trials",
        "detection median ms (IQR; min..max)",
        "hand-over median ms",
      ], rows);
      const ok = trials.filter((t) =>
        t.scenario === s.name && t.error === undefined
      );
      const ready = summarize(ok.map((t) => t.readyAfterMs!));
      const win = summarize(
        ok.filter((t) => t.windowMs !== undefined).map((t) => t.windowMs!),
      );
      const errors = [
        ...new Set(
          trials.filter((t) => t.scenario === s.name && t.error).map((t) =>
            t.error!
          ),
        ),
      ];
      report.para(
        [
          `The reference moment came a median ${
            ms(ready.median)
          } ms after the waiter started (${ms(ready.min)}..${ms(ready.max)}). `,
          s.server === "RabbitMQ"
            ? `\`Server startup complete\` followed the listener line by a median ${
              ms(win.median)
            } ms (${ms(win.min)}..${
              ms(win.max)
            }); preflight had connected (and, with a user, logged in) before that line in ${
              ok.filter((t) =>
                t.detectMs !== undefined && t.windowMs !== undefined &&
                t.detectMs < t.windowMs
              ).length
            } of ${
              ok.filter((t) => t.detectMs !== undefined).length
            } trials. A TCP-only check cannot be early here: the port opens when the broker is usable.`
            : s.name === "late start"
            ? `The port accepted connections without a handshake from about \`Server socket created\` to the ready line (both as seen): median ${
              ms(win.median)
            } ms (${ms(win.min)}..${ms(win.max)}).`
            : "The port accepted connections without a handshake during all that time.",
          errors.length ? ` Failed trials: ${errors.join("; ")}.` : "",
        ].join(""),
      );
      const nc = of("nc loop").filter((t) => t.error === undefined);
      const pf = (name: string) =>
        ms(
          summarize(
            of(name).filter((t) => t.error === undefined).map((t) =>
              t.latencyMs!
            ),
          ).median,
        );
      verdicts.rows.push([
        `${title(s)}: median latency, early starts`,
        `preflight ${pf("preflight")} ms, with login ${
          pf("preflight (login)")
        } ms; nc loop ${
          ms(summarize(nc.map((t) => t.latencyMs!)).median)
        } ms, ${nc.filter((t) => t.early).length}/${nc.length} early`,
        "(reference)",
      ]);
    }
  }
  if (all.length === 0) return;
  const mine = all.filter((t) => t.waiter.startsWith("preflight"));
  const mineOk = mine.filter((t) => t.error === undefined);
  const early = mineOk.filter((t) => t.early).length;
  verdicts.rows.push([
    "preflight never early (MariaDB, RabbitMQ)",
    `${early} early of ${mineOk.length} trials (${
      mine.length - mineOk.length
    } failed)`,
    early === 0 && mine.length === mineOk.length ? "**yes**" : "**NO**",
  ]);
}
