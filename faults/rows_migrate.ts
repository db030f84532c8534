/**
 * Rows of the migration step: the database stopped while a migration runs
 * (back in time, or never), the migration child killed by a signal, eight
 * replicas racing to migrate the example backend with real Alembic, and a
 * wrapper's migrator stopped with its process group while the lock waits
 * for it.
 */
import { type PgServer, startPostgres } from "../tests/_servers.ts";
import {
  check,
  type FaultRow,
  firstLine,
  lastLine,
  secs,
} from "./fault_row.ts";
import { PreflightProcess, sleep } from "./preflight_process.ts";
import { observe } from "./observe.ts";
import { newSecret } from "./secrets.ts";
import { sharedPostgres } from "./shared_postgres.ts";

const BACKEND = new URL("../examples/backend", import.meta.url).pathname;

const RETRY_RULE =
  '"Up to --migrate-attempts (6) attempts; the delay before attempt n+1 is --migrate-delay × 2^(n-1) [...] When every attempt failed: --on-migrate-failure continue (the default, as before) or fail (exit 3)." Hand-over env: "PREFLIGHT_MIGRATIONS (applied|failed|skipped)".';

/** A temp dir with an executable `migrate.sh` that records its attempts. */
async function migrationScript(
  body: string,
): Promise<{ dir: string; script: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
  const script = `${dir}/migrate.sh`;
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\necho "$$" >> "${dir}/attempts"\n${body}\n`,
  );
  await Deno.chmod(script, 0o755);
  return {
    dir,
    script,
    [Symbol.asyncDispose]: () =>
      Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

async function advisoryLocks(pg: PgServer, db: string): Promise<number> {
  return Number(
    await pg.psql(
      "select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
      db,
    ),
  );
}

const PSQL_MIGRATION = `sleep 1
exec psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "create table if not exists migrated (i int)"`;

function dbStoppedRecoversRow(): FaultRow {
  return {
    id: "mig-db-stopped-back",
    group: "Migrations",
    scenario:
      "Database stopped (fast shutdown) during migration attempt 1 and started again before attempt 2 (migration: sleep 1; psql create table)",
    expected:
      "Attempt 1 fails (✗ marker), preflight retries after --migrate-delay, attempt 2 succeeds: ✓ Migrations applied successfully, the app runs with PREFLIGHT_MIGRATIONS=applied, exit 0 (the app's).",
    rule: RETRY_RULE,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        database: "app",
      });
      await using m = await migrationScript(PSQL_MIGRATION);
      await using p = new PreflightProcess([
        "run",
        "--timeout",
        "30s",
        "--migrate-delay",
        "1s",
        "--",
        "/bin/sh",
        "-c",
        'echo "migrations=$PREFLIGHT_MIGRATIONS"',
      ], {
        env: {
          DATABASE_URL: pg.url("postgres", pw, "app"),
          MIGRATE_CMD: m.script,
        },
      });
      await p.waitFor(/attempt 1\/6\.\.\./);
      await pg.stop();
      await p.waitFor(/exited with code/);
      await pg.start();
      const notes: string[] = [];
      try {
        await p.waitFor(/attempt 2\/6\.\.\./, 15_000);
        await sleep(300);
        const locks = await advisoryLocks(pg, "app");
        notes.push(
          locks > 0
            ? "during attempt 2 the migration lock was held again"
            : "⚠️ during attempt 2 no advisory lock was held: the lock session died with the server and was not re-taken (the SPEC does not say what to do when the lock connection is lost)",
        );
      } catch { /* the checks below say what went wrong */ }
      const exit = await p.exited;
      const table = await pg.psql(
        "select count(*) from pg_tables where tablename = 'migrated'",
        "app",
      ).catch(() => "?");
      return observe(p, exit, {
        keyLine: lastLine(p.stderr, /✓ Migrations|⚠️ Migrations/),
        checks: [
          check("exit 0", exit.code === 0),
          check(
            "attempt 1 failed (✗ marker)",
            /✗ .* exited with code/.test(p.stderr),
          ),
          check("retried (Retrying in ...)", /Retrying in /.test(p.stderr)),
          check(
            "✓ Migrations applied successfully.",
            p.stderr.includes("✓ Migrations applied successfully."),
          ),
          check(
            "app saw PREFLIGHT_MIGRATIONS=applied",
            /migrations=applied/.test(p.stdout),
          ),
          check("the table exists", table === "1"),
        ],
        notes,
        tailLines: 20,
      });
    },
  };
}

/** Migration runs as [start, end] times, from the lines the script appends. */
function runIntervals(
  log: string,
): { pid: string; start: number; end: number }[] {
  const starts = new Map<string, number>();
  const runs: { pid: string; start: number; end: number }[] = [];
  for (const line of log.trim().split("\n")) {
    const [what, pid, ns] = line.split(" ");
    if (what === "start") starts.set(pid, Number(ns) / 1e6);
    if (what === "end" && starts.has(pid)) {
      runs.push({ pid, start: starts.get(pid)!, end: Number(ns) / 1e6 });
      starts.delete(pid);
    }
  }
  return runs;
}

function dbRestartTwoReplicasRow(): FaultRow {
  return {
    id: "mig-db-restart-lock",
    group: "Migrations",
    scenario:
      "Two replicas: A migrating under the lock, B waiting for it; the database is restarted during A's attempt 1",
    expected:
      "Both end up applied (exit 0), and the migration command never runs in both replicas at the same time, also after the restart: the step stays under the lock.",
    rule:
      '"the whole step runs under a session-level PostgreSQL advisory lock held on a dedicated connection, so that replicas starting together migrate one at a time"',
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        database: "app",
      });
      await using m = await migrationScript(
        `echo "start $$ $(date +%s%N)" >> "$(dirname "$0")/runs"
sleep 1
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "create table if not exists migrated (i int)"
rc=$?
echo "end $$ $(date +%s%N)" >> "$(dirname "$0")/runs"
exit $rc`,
      );
      const env = {
        DATABASE_URL: pg.url("postgres", pw, "app"),
        MIGRATE_CMD: m.script,
      };
      const args = [
        "run",
        "--timeout",
        "30s",
        "--migrate-delay",
        "1s",
        "--",
        "true",
      ];
      await using a = new PreflightProcess(args, { env });
      await a.waitFor(/attempt 1\/6\.\.\./);
      await using b = new PreflightProcess(args, { env });
      await b.waitFor("Waiting for the migration lock held by");
      await pg.stop();
      await a.waitFor(/exited with code/);
      await pg.start();
      const [ea, eb] = await Promise.all([a.exited, b.exited]);
      const runs = runIntervals(
        await Deno.readTextFile(`${m.dir}/runs`).catch(() => ""),
      );
      const overlaps: string[] = [];
      for (let i = 0; i < runs.length; i++) {
        for (let j = i + 1; j < runs.length; j++) {
          const [x, y] = [runs[i], runs[j]];
          if (x.start < y.end && y.start < x.end) {
            overlaps.push(
              `${
                Math.round(Math.min(x.end, y.end) - Math.max(x.start, y.start))
              } ms`,
            );
          }
        }
      }
      const spans = runs.map((r) =>
        `[${Math.round(r.start - runs[0].start)}, ${
          Math.round(r.end - runs[0].start)
        }]`
      ).join(" ");
      const o = observe(a, ea, {
        keyLine: `migration runs, ms from the first start: ${spans}`,
        checks: [
          check(
            `both exit 0 (saw ${ea.code}, ${eb.code})`,
            ea.code === 0 && eb.code === 0,
          ),
          check(
            "both: ✓ Migrations applied successfully.",
            [a, b].every((p) =>
              p.stderr.includes("✓ Migrations applied successfully.")
            ),
          ),
          check(
            `the migration never ran in both at once (${runs.length} runs, overlaps: ${
              overlaps.join(", ") || "none"
            })`,
            overlaps.length === 0,
          ),
        ],
        notes: overlaps.length === 0 ? [] : [
          "what happened: the fast shutdown ended A's lock session; A's attempt 2 ran without taking the lock again (row mig-db-stopped-back shows no advisory lock held during its attempt 2), so B, whose lock loop reconnected after the restart, took the now free lock and ran its migration at the same time",
        ],
        extraLog: `replica B:\n${b.stderr.trim()}\n\nreplica A:`,
        tailLines: 20,
      });
      return {
        ...o,
        command: `2 × ${o.command}`,
        checks: [
          ...o.checks,
          check("replica B printed no password", !b.rawOutput().includes(pw)),
        ],
      };
    },
  };
}

function dbStoppedNeverBackRow(): FaultRow {
  return {
    id: "mig-db-stopped-gone",
    group: "Migrations",
    scenario:
      "Database stopped during migration attempt 1 and never started again (3 attempts, 200 ms delay, default --on-migrate-failure continue)",
    expected:
      "Every attempt fails (attempt 1 in the migration; attempts 2 and 3 are not run because the lock cannot be taken on the dead database: never unlocked), ⚠️ Migrations did not complete, then the app still starts (continue) with PREFLIGHT_MIGRATIONS=failed; exit 0 (the app's); no hang on the dead lock connection.",
    rule: RETRY_RULE,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        database: "app",
      });
      await using m = await migrationScript(PSQL_MIGRATION);
      await using p = new PreflightProcess([
        "run",
        "--timeout",
        "30s",
        "--migrate-attempts",
        "3",
        "--migrate-delay",
        "200ms",
        "--",
        "/bin/sh",
        "-c",
        'echo "migrations=$PREFLIGHT_MIGRATIONS"',
      ], {
        env: {
          DATABASE_URL: pg.url("postgres", pw, "app"),
          MIGRATE_CMD: m.script,
        },
      });
      await p.waitFor(/attempt 1\/3\.\.\./);
      const stoppedAt = performance.now();
      await pg.stop();
      const exit = await p.exited;
      const failures = [
        ...p.stderr.matchAll(
          /✗ .* (exited with code|not run: cannot take the migration lock)/g,
        ),
      ].length;
      return observe(p, exit, {
        keyLine: lastLine(p.stderr, /⚠️ Migrations|✓ Migrations/),
        checks: [
          check("exit 0 (continue, the app's code)", exit.code === 0),
          check(`3 failed attempts (saw ${failures})`, failures === 3),
          check(
            "⚠️ Migrations did not complete.",
            p.stderr.includes("⚠️ Migrations did not complete."),
          ),
          check(
            "app saw PREFLIGHT_MIGRATIONS=failed",
            /migrations=failed/.test(p.stdout),
          ),
          check(
            "done within 20 s of the stop (no hang)",
            p.startedAt + exit.ms - stoppedAt < 20_000,
          ),
        ],
        tailLines: 20,
      });
    },
  };
}

function childKilledOnceRow(): FaultRow {
  return {
    id: "mig-child-killed",
    group: "Migrations",
    scenario:
      "Migration child killed from outside by SIGKILL during attempt 1 (as the OOM killer would); attempt 2 succeeds",
    expected:
      "Attempt 1 is a failed attempt reported with code 137 (128+9), preflight itself is not stopped: it retries, attempt 2 applies, the app runs; exit 0.",
    rule: RETRY_RULE +
      ' Exit codes: "128+N stopped by signal N" (the convention for a child killed by N, as in supervise).',
    async run() {
      await using m = await migrationScript(
        `if [ -e "$(dirname "$0")/killed" ]; then exit 0; fi\necho "$$" > "$(dirname "$0")/pid"\nexec sleep 60`,
      );
      await using p = new PreflightProcess([
        "run",
        "--no-wait",
        "--migrate-delay",
        "300ms",
        "--",
        "true",
      ], { env: { MIGRATE_CMD: m.script } });
      await p.waitFor(/attempt 1\/6\.\.\./);
      let pid = 0;
      for (let i = 0; i < 200 && !pid; i++) {
        pid = Number(
          (await Deno.readTextFile(`${m.dir}/pid`).catch(() => "")).trim(),
        );
        if (!pid) await sleep(25);
      }
      if (!pid) throw new Error("the migration never wrote its PID");
      await Deno.writeTextFile(`${m.dir}/killed`, "");
      Deno.kill(pid, "SIGKILL");
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: firstLine(p.stderr, /exited with code/),
        checks: [
          check("exit 0", exit.code === 0),
          check(
            "attempt 1 reported with code 137",
            /✗ .* exited with code 137\./.test(p.stderr),
          ),
          check("retried", /Retrying in /.test(p.stderr)),
          check(
            "✓ Migrations applied successfully.",
            p.stderr.includes("✓ Migrations applied successfully."),
          ),
        ],
      });
    },
  };
}

function childKilledAlwaysRow(): FaultRow {
  return {
    id: "mig-child-killed-fail",
    group: "Migrations",
    scenario:
      "Migration child killed by SIGKILL on every attempt (sh -c 'kill -KILL $$'), 2 attempts, --on-migrate-failure fail",
    expected:
      "Two failed attempts (code 137), then exit 3 — not 137: preflight was not signalled — and the app never starts.",
    rule: RETRY_RULE,
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        await using p = new PreflightProcess([
          "run",
          "--no-wait",
          "--migrate-attempts",
          "2",
          "--migrate-delay",
          "100ms",
          "--on-migrate-failure",
          "fail",
          "--",
          "touch",
          `${dir}/app-ran`,
        ], { env: { MIGRATE_CMD: "/bin/sh -c 'kill -KILL $$'" } });
        const exit = await p.exited;
        const appRan = await Deno.stat(`${dir}/app-ran`).then(
          () => true,
          () => false,
        );
        const killed = [...p.stderr.matchAll(/exited with code 137\./g)].length;
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Migrations did not complete/),
          checks: [
            check("exit 3", exit.code === 3),
            check(
              `2 attempts reported with code 137 (saw ${killed})`,
              killed === 2,
            ),
            check("the app never started", !appRan),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

function raceRow(): FaultRow {
  const replicas = 8;
  return {
    id: "mig-8-replica-race",
    group: "Migrations",
    scenario:
      "8 replicas of `preflight run` started together against one PostgreSQL that comes up 1.5 s later; the example backend's real `alembic upgrade head`",
    expected:
      "All 8 hand over (exit 0); the migrations are applied once (one seeded row), no attempt fails, and waiting replicas log who holds the lock.",
    rule:
      '"the whole step runs under a session-level PostgreSQL advisory lock [...] so that replicas starting together migrate one at a time and the later ones find the schema current. Waiting for the lock is logged with who holds it."',
    exclusive: true,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        database: "app",
        startDelayMs: 1500,
      });
      const env = {
        DB_HOST: "127.0.0.1",
        DB_PORT: String(pg.port),
        POSTGRES_USER: "postgres",
        POSTGRES_PASSWORD: pw,
        POSTGRES_DB: "app",
        PYTHONDONTWRITEBYTECODE: "1",
      };
      const args = ["run", "--migrate-delay", "100ms", "--", "true"];
      const procs = Array.from(
        { length: replicas },
        () =>
          new PreflightProcess(args, { env, cwd: BACKEND, limitMs: 150_000 }),
      );
      try {
        const exits = await Promise.all(procs.map((p) => p.exited));
        await pg.ready;
        const rows = await pg.psql("select count(*) from items", "app")
          .catch((e) => `error: ${e.message.split("\n")[0]}`);
        const outputs = procs.map((p) => p.stderr);
        const failed = outputs.reduce(
          (n, o) => n + [...o.matchAll(/✗ Alembic exited with code/g)].length,
          0,
        );
        const waiter = outputs.map((o) =>
          firstLine(o, /Waiting for the migration lock held by/)
        ).find(Boolean) ?? "";
        const codes = exits.map((e) =>
          e.code
        );
        const slowest = Math.max(...exits.map((e) => e.ms));
        const first = procs[0];
        const o = observe(first, exits[0], {
          keyLine: waiter,
          checks: [
            check(
              `all exit 0 (saw ${codes.join(",")})`,
              codes.every((c) => c === 0),
            ),
            check(
              `migrations applied once: 1 seeded row (saw ${rows})`,
              rows === "1",
            ),
            check(`no failed Alembic attempt (saw ${failed})`, failed === 0),
            check(
              "every replica: ✓ Migrations applied successfully.",
              outputs.every((x) =>
                x.includes("✓ Migrations applied successfully.")
              ),
            ),
            check("a waiter logged who holds the lock", waiter !== ""),
          ],
          ms: slowest,
          msLabel: "spawn to exit of the slowest replica",
          notes: [
            `exit times: ${exits.map((e) => secs(e.ms)).join(", ")}`,
            `replicas that waited for the lock: ${
              outputs.filter((x) => /Waiting for the migration lock/.test(x))
                .length
            }`,
          ],
          extraLog: "(replica 1 of 8)",
          tailLines: 16,
        });
        const leaks = procs.some((p) => p.rawOutput().includes(pw));
        return {
          ...o,
          command: `8 × ${o.command} (cwd examples/backend)`,
          checks: [
            ...o.checks.filter((c) => !c.label.startsWith("no password")),
            check("no password in any replica's output", !leaks),
          ],
        };
      } finally {
        for (const p of procs) await p[Symbol.asyncDispose]();
      }
    },
  };
}

const GROUP_RULE =
  '"The command runs in its own process group; stop signals go to the group, and the lock is held until every process of the group has exited." Step 4: "a running migration child gets the signal (then SIGKILL after the stop timeout)".';

/**
 * A wrapper script (as `make migrate` or `npm run migrate` are) starting a
 * Python migrator in the foreground; on SIGTERM the migrator takes 1.5 s
 * to finish (or ignores it), then writes `done`.
 */
async function wrappedMigrator(
  dir: string,
  ignoreTerm: boolean,
): Promise<string> {
  await Deno.writeTextFile(
    `${dir}/migrator.py`,
    `import os, signal, sys, time
d = sys.argv[1]; term = []
signal.signal(signal.SIGTERM, signal.SIG_IGN if ${
      ignoreTerm ? "True" : "False"
    } else (lambda *_: term.append(1)))
open(f"{d}/pid", "w").write(str(os.getpid()))
print("migrator-started", file=sys.stderr, flush=True)
t0 = time.time()
while not term and time.time() - t0 < 20:
    time.sleep(0.02)
if term:
    open(f"{d}/term", "w").write("term"); time.sleep(1.5)
open(f"{d}/done", "w").write("done")
`,
  );
  const wrapper = `${dir}/migrate.sh`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\n/usr/bin/python3 ${dir}/migrator.py ${dir}\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  return wrapper;
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function groupStopRow(): FaultRow {
  return {
    id: "mig-group-stop-lock",
    group: "Migrations",
    scenario:
      "SIGTERM to preflight (not PID 1) while a wrapper script's migrator runs; the migrator needs 1.5 s to finish; a second replica starts meanwhile",
    expected:
      "The migrator gets SIGTERM too; preflight exits 143 only after it has exited, holding the lock until then; the second replica migrates after it, never beside it.",
    rule: GROUP_RULE,
    async run() {
      const shared = await sharedPostgres();
      const url = await shared.database("group_stop");
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const wrapper = await wrappedMigrator(dir, false);
        await using p = new PreflightProcess(
          ["migrate", "--stop-timeout", "20s"],
          { env: { DATABASE_URL: url, MIGRATE_CMD: wrapper } },
        );
        await p.waitFor("migrator-started");
        const sentAt = await p.kill("SIGTERM");
        await using second = new PreflightProcess(
          ["migrate", "--timeout", "60s"],
          {
            env: {
              DATABASE_URL: url,
              MIGRATE_CMD:
                `/bin/sh -c 'test -f ${dir}/done && echo after > ${dir}/second || echo during > ${dir}/second'`,
            },
          },
        );
        const exit = await p.exited;
        const doneAtExit = await Deno.stat(`${dir}/done`).then(
          () => true,
          () => false,
        );
        const secondExit = await second.exited;
        const secondSaw = (await Deno.readTextFile(`${dir}/second`).catch(() =>
          "nothing"
        )).trim();
        const term = await Deno.stat(`${dir}/term`).then(
          () => true,
          () => false,
        );
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Stopped by|attempt/),
          ms: p.startedAt + exit.ms - sentAt,
          msLabel: "signal to exit",
          checks: [
            check("exit 143", exit.code === 143),
            check("the migrator (a grandchild) got SIGTERM", term),
            check("preflight exited only after the migrator", doneAtExit),
            check(
              `the second replica migrated after it (saw '${secondSaw}')`,
              secondExit.code === 0 && secondSaw === "after",
            ),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

function groupKillRow(): FaultRow {
  return {
    id: "mig-group-kill",
    group: "Migrations",
    scenario:
      "SIGTERM to preflight (not PID 1) while a wrapper script's migrator that ignores SIGTERM runs (--stop-timeout 500ms)",
    expected:
      "After the stop timeout the whole group gets SIGKILL; preflight exits 143 with no process of the migration left.",
    rule: GROUP_RULE,
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const wrapper = await wrappedMigrator(dir, true);
        await using p = new PreflightProcess(
          ["migrate", "--stop-timeout", "500ms"],
          { env: { MIGRATE_CMD: wrapper } },
        );
        await p.waitFor("migrator-started");
        const pid = Number(await Deno.readTextFile(`${dir}/pid`));
        const sentAt = await p.kill("SIGTERM");
        const exit = await p.exited;
        const ms = p.startedAt + exit.ms - sentAt;
        const left = alive(pid);
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Stopped by|attempt/),
          ms,
          msLabel: "signal to exit",
          checks: [
            check("exit 143", exit.code === 143),
            check("waited for the stop timeout", ms >= 450),
            check(`the migrator (pid ${pid}) is gone`, !left),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Every migration-step row. */
export function migrationRows(): FaultRow[] {
  return [
    dbStoppedRecoversRow(),
    dbRestartTwoReplicasRow(),
    dbStoppedNeverBackRow(),
    childKilledOnceRow(),
    childKilledAlwaysRow(),
    raceRow(),
    groupStopRow(),
    groupKillRow(),
  ];
}
