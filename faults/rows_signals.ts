/**
 * SIGTERM, SIGINT, SIGHUP and SIGQUIT in every phase, with preflight as PID 1 of its
 * own PID namespace (as in a container, where a shell ignores SIGTERM):
 * during the wait, the lock wait, a migration, a retry delay, after a
 * supervised hand-over, and after an exec hand-over (the app is then PID 1).
 */
import { closedPort } from "../tests/_servers.ts";
import {
  check,
  type FaultRow,
  lastLine,
  type RowCheck,
  secs,
} from "./fault_row.ts";
import { PreflightProcess, sleep } from "./preflight_process.ts";
import { observe } from "./observe.ts";
import { holdMigrationLock, sharedPostgres } from "./shared_postgres.ts";

const SIGNALS = [
  ["SIGTERM", 15],
  ["SIGINT", 2],
  ["SIGHUP", 1],
  // A PID 1 without a handler ignores SIGQUIT: preflight must listen for it.
  ["SIGQUIT", 3],
] as const;
type Sig = typeof SIGNALS[number][0];

/** Advisory locks in the current database (pg_locks is cluster-wide). */
const ADVISORY_HERE =
  "select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())";

/** "Promptly": far below any stop timeout, generous on 2 noisy cores. */
const PROMPT_MS = 5000;

const BEFORE_RULE =
  '"SIGTERM, SIGINT, SIGHUP or SIGQUIT at any moment before the hand-over stops promptly: a running migration child gets the signal (then SIGKILL after the stop timeout), and preflight exits 128+N. This must also hold when preflight is PID 1." Exit codes: "128+N: stopped by signal N".';

/** What one phase needs: how to start, when to signal, what to verify. */
interface PhaseRun {
  args: string[];
  env?: Record<string, string>;
  /** Printed on stderr when the phase is reached. */
  ready: string | RegExp;
  /** Extra settling time after `ready`. */
  settleMs?: number;
  /** Runs right before the signal is sent. */
  beforeSignal?: () => Promise<void>;
  verify?: () => Promise<RowCheck[]>;
  dispose?: () => Promise<void>;
}

interface Phase {
  key: string;
  title: string;
  expected: (sig: Sig, n: number) => string;
  rule: string;
  code: (n: number) => number;
  setup: (sig: Sig, n: number) => Promise<PhaseRun>;
}

/** Polls `probe` until it returns true or `ms` passes. */
async function eventually(
  probe: () => Promise<boolean>,
  ms = 5000,
): Promise<boolean> {
  const end = performance.now() + ms;
  while (true) {
    if (await probe().catch(() => false)) return true;
    if (performance.now() > end) return false;
    await sleep(100);
  }
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "preflight-faults-" });
}

const PHASES: Phase[] = [
  {
    key: "wait",
    title: "during the wait (`run`, database refused, 60 s budget)",
    expected: (_s, n) => `Exit ${128 + n} promptly.`,
    rule: BEFORE_RULE,
    code: (n) => 128 + n,
    setup: () =>
      Promise.resolve({
        args: ["run", "--timeout", "60s", "--", "true"],
        env: { DB_HOST: "127.0.0.1", DB_PORT: String(closedPort()) },
        ready: "Waiting for Postgres at",
        settleMs: 200,
      }),
  },
  {
    key: "lock-wait",
    title: "while waiting for the migration lock another session holds",
    expected: (_s, n) =>
      `Exit ${
        128 + n
      } promptly; the migration never runs; preflight's lock-waiting session is gone.`,
    rule: BEFORE_RULE +
      ' Lock: "Waiting for the lock is logged with who holds it, and bounded by the same deadline."',
    code: (n) => 128 + n,
    async setup(sig) {
      const { pg } = await sharedPostgres();
      const db = `lockwait_${sig.toLowerCase()}`;
      const url = await (await sharedPostgres()).database(db);
      const holder = await holdMigrationLock(url);
      const dir = await tempDir();
      return {
        args: ["run", "--timeout", "60s", "--", "true"],
        env: {
          DATABASE_URL: url,
          MIGRATE_CMD: `touch ${dir}/migrated`,
        },
        ready: "Waiting for the migration lock held by",
        settleMs: 300,
        async verify() {
          const migrated = await Deno.stat(`${dir}/migrated`).then(
            () => true,
            () => false,
          );
          const gone = await eventually(async () =>
            (await pg.psql(
              `select count(*) from pg_stat_activity where datname = '${db}' and application_name like 'preflight migrate%'`,
            )) === "0"
          );
          return [
            check("the migration never ran", !migrated),
            check("preflight's lock-waiting session is gone", gone),
          ];
        },
        async dispose() {
          await holder.release();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    },
  },
  {
    key: "migration",
    title: "during a migration (the child traps the signal and records it)",
    expected: (s, n) =>
      `The migration child gets ${s} itself; preflight exits ${
        128 + n
      } promptly and the advisory lock is released.`,
    rule: BEFORE_RULE,
    code: (n) => 128 + n,
    async setup(sig) {
      const shared = await sharedPostgres();
      const db = `migration_${sig.toLowerCase()}`;
      const url = await shared.database(db);
      const dir = await tempDir();
      const script = `${dir}/migrate.sh`;
      await Deno.writeTextFile(
        script,
        `#!/bin/sh
for s in TERM INT HUP QUIT; do trap "echo SIG$s > ${dir}/got; exit 0" $s; done
echo migration-running >&2
while :; do sleep 0.05; done
`,
      );
      await Deno.chmod(script, 0o755);
      let heldDuring = -1;
      return {
        args: ["run", "--timeout", "60s", "--", "true"],
        env: { DATABASE_URL: url, MIGRATE_CMD: script },
        ready: "migration-running",
        settleMs: 100,
        async verify() {
          const got = (await Deno.readTextFile(`${dir}/got`).catch(() => ""))
            .trim();
          const released = await eventually(async () =>
            (await shared.pg.psql(
              ADVISORY_HERE,
              db,
            )) === "0"
          );
          return [
            check(
              `the lock was held during the migration (saw ${heldDuring})`,
              heldDuring === 1,
            ),
            check(
              `the child got ${sig} (saw '${got || "nothing"}')`,
              got === sig,
            ),
            check("the advisory lock was released", released),
          ];
        },
        async beforeSignal() {
          heldDuring = Number(
            await shared.pg.psql(
              ADVISORY_HERE,
              db,
            ),
          );
        },
        async dispose() {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    },
  },
  {
    key: "retry-delay",
    title: "during a 30 s retry delay (MIGRATE_CMD=false)",
    expected: (_s, n) =>
      `Exit ${128 + n} promptly, without sitting out the delay.`,
    rule: BEFORE_RULE,
    code: (n) => 128 + n,
    setup: () =>
      Promise.resolve({
        args: ["run", "--no-wait", "--migrate-delay", "30s", "--", "true"],
        env: { MIGRATE_CMD: "false" },
        ready: "Retrying in 30s...",
        settleMs: 200,
      }),
  },
  {
    key: "supervised",
    title: "after a supervised hand-over (app: sleep 60, no handler)",
    expected: (s, n) =>
      `${s} is forwarded to the app, which dies of it; preflight exits ${
        128 + n
      } (128+N for a child killed by N).`,
    rule:
      '"--supervise: the app runs as a child; SIGTERM, SIGINT, SIGHUP, SIGQUIT, [...] are forwarded; [...] preflight exits with the child\'s code, or 128+N if a signal N killed it"',
    code: (n) => 128 + n,
    setup: () =>
      Promise.resolve({
        args: [
          "run",
          "--no-wait",
          "--no-migrate",
          "--supervise",
          "--",
          "sleep",
          "60",
        ],
        ready: "Starting Sleep application...",
        settleMs: 400,
      }),
  },
  {
    key: "exec",
    title:
      "after the exec hand-over (the app, now PID 1, traps it and exits 100+N)",
    expected: (s, n) =>
      `The app itself (PID 1 after exec) gets ${s}; its handler exits ${
        100 + n
      }, which unshare returns.`,
    rule:
      '"Default, exec: the process image is replaced (execve), so the app keeps the PID (PID 1 in a container) and receives signals directly." Exit codes: "after the hand-over, the app\'s own codes".',
    code: (n) => 100 + n,
    setup: () =>
      Promise.resolve({
        args: [
          "run",
          "--no-wait",
          "--no-migrate",
          "--",
          "/bin/sh",
          "-c",
          'trap "exit 101" HUP; trap "exit 102" INT; trap "exit 103" QUIT; trap "exit 115" TERM; echo app-ready >&2; while :; do sleep 0.1; done',
        ],
        ready: "app-ready",
        settleMs: 100,
      }),
  },
];

function signalRow(phase: Phase, sig: Sig, n: number): FaultRow {
  const expectedCode = phase.code(n);
  return {
    id: `sig-${phase.key}-${sig.toLowerCase()}`,
    group: "Signals as PID 1",
    scenario: `${sig} ${phase.title}, preflight as PID 1`,
    expected: phase.expected(sig, n),
    rule: phase.rule,
    async run() {
      const setup = await phase.setup(sig, n);
      try {
        await using p = new PreflightProcess(setup.args, {
          env: setup.env,
          pid1: true,
          limitMs: 90_000,
        });
        await p.waitFor(setup.ready);
        await sleep(setup.settleMs ?? 0);
        await setup.beforeSignal?.();
        const cmdline = await p.pid1Cmdline();
        const sentAt = await p.kill(sig);
        const exit = await p.exited;
        const ms = p.startedAt + exit.ms - sentAt;
        const extra = await setup.verify?.() ?? [];
        const checks = [
          check(`exit ${expectedCode}`, exit.code === expectedCode),
          check(
            `promptly (within ${secs(PROMPT_MS)} of the signal)`,
            ms < PROMPT_MS,
          ),
          ...extra,
        ];
        if (phase.key === "exec") {
          checks.push(
            check(
              `PID 1 was the app after exec (saw '${cmdline.slice(0, 40)}')`,
              cmdline.startsWith("/bin/sh -c"),
            ),
          );
        }
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Stopped by|Starting|exited|Waiting/) ||
            lastLine(p.stderr, /./),
          ms,
          msLabel: "signal to exit",
          checks,
          notes: [
            `PID 1 when signalled: ${cmdline.split(" ").slice(0, 6).join(" ")}`,
          ],
        });
      } finally {
        await setup.dispose?.();
      }
    },
  };
}

function supervisedOwnCodeRow(): FaultRow {
  return {
    id: "sig-supervised-app-code",
    group: "Signals as PID 1",
    scenario:
      "SIGTERM after a supervised hand-over to an app that traps it and exits 7, preflight as PID 1",
    expected:
      "The forwarded SIGTERM reaches the app; preflight exits with the app's own code 7.",
    rule:
      '"--supervise: [...] preflight exits with the child\'s code, or 128+N if a signal N killed it"',
    async run() {
      await using p = new PreflightProcess([
        "run",
        "--no-wait",
        "--no-migrate",
        "--supervise",
        "--",
        "/bin/sh",
        "-c",
        'trap "exit 7" TERM; echo app-ready >&2; while :; do sleep 0.1; done',
      ], { pid1: true, limitMs: 60_000 });
      await p.waitFor("app-ready");
      await sleep(100);
      const sentAt = await p.kill("SIGTERM");
      const exit = await p.exited;
      const ms = p.startedAt + exit.ms - sentAt;
      return observe(p, exit, {
        keyLine: lastLine(p.stderr, /Starting/),
        ms,
        msLabel: "signal to exit",
        checks: [
          check("exit 7", exit.code === 7),
          check(`promptly (within ${secs(PROMPT_MS)})`, ms < PROMPT_MS),
        ],
      });
    },
  };
}

function execNoHandlerRow(): FaultRow {
  const watchMs = 2000;
  return {
    id: "sig-exec-no-handler",
    group: "Signals as PID 1",
    scenario:
      "SIGTERM after the exec hand-over to an app with no handler (sleep 60), which is now PID 1",
    expected:
      "Whatever the app does: sleep is PID 1 and installs no handler, and the kernel never applies a default action to a namespace's init, so it keeps running (as in any container); the harness then SIGKILLs it and reports unshare's status.",
    rule:
      '"Default, exec: [...] the app keeps the PID (PID 1 in a container) and receives signals directly. It starts with the signal dispositions preflight itself was started with (so, in a container, none ignored [...])"',
    async run() {
      await using p = new PreflightProcess([
        "run",
        "--no-wait",
        "--no-migrate",
        "--",
        "sleep",
        "60",
      ], { pid1: true, limitMs: 60_000 });
      await p.waitFor("Starting Sleep application...");
      let cmdline = "";
      for (let i = 0; i < 100 && !cmdline.startsWith("sleep"); i++) {
        cmdline = await p.pid1Cmdline();
        if (!cmdline.startsWith("sleep")) await sleep(50);
      }
      const status = await Deno.readTextFile(`/proc/${await p.pid1()}/status`)
        .catch(() => "");
      const mask = (name: string) =>
        BigInt(
          `0x${
            status.match(new RegExp(`^${name}:\\s*(\\S+)`, "m"))?.[1] ?? "0"
          }`,
        );
      const termBit = 1n << 14n; // SIGTERM is 15
      const termDefault = (mask("SigIgn") & termBit) === 0n &&
        (mask("SigCgt") & termBit) === 0n && status !== "";
      await p.kill("SIGTERM");
      await sleep(watchMs);
      const alive = !p.done;
      Deno.kill(await p.pid1(), "SIGKILL");
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: lastLine(p.stderr, /Starting/),
        ms: watchMs,
        msLabel: "watched after SIGTERM",
        harnessKills: true,
        checks: [
          check(
            `PID 1 was the app after exec (saw '${cmdline}')`,
            cmdline === "sleep 60",
          ),
          check(
            "SIGTERM neither ignored nor caught by the app (SigIgn/SigCgt)",
            termDefault,
          ),
          check(
            `still running ${
              secs(watchMs)
            } after SIGTERM (kernel init protection)`,
            alive,
          ),
        ],
        notes: [
          `after the harness's SIGKILL of PID 1, unshare ended with status ${exit.code}${
            /sigprocmask unblock failed/.test(p.stderr)
              ? " (unshare tried to re-raise the child's SIGKILL on itself and failed: 'sigprocmask unblock failed', so it exits 1)"
              : ""
          }${
            exit.signal
              ? ` (killed by ${exit.signal}: unshare re-raises the signal its child died of)`
              : ""
          }`,
        ],
      });
    },
  };
}

/** Every signal row: each phase × SIGTERM, SIGINT, SIGHUP, SIGQUIT, and two app cases. */
export function signalRows(): FaultRow[] {
  const rows: FaultRow[] = [];
  for (const phase of PHASES) {
    for (const [sig, n] of SIGNALS) rows.push(signalRow(phase, sig, n));
  }
  rows.push(supervisedOwnCodeRow(), execNoHandlerRow());
  return rows;
}
