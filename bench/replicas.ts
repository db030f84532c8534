/**
 * Eight replicas starting together, as in tests/migration_lock_test.ts: eight
 * `preflight run` processes with the example backend's real Alembic
 * migrations, against one PostgreSQL that starts 1.5 s after them, with the
 * default retry schedule (2 s, 4 s, ...). Measures when the last app
 * started and how many migration attempts failed, with and without the lock.
 */
import { startPostgres } from "../tests/_servers.ts";
import { readyTimes, tuneLogging } from "./pg_log.ts";
import {
  cleanEnv,
  parseEpoch,
  PREFLIGHT_DISPLAY,
  preflightRun,
  runCapture,
} from "./proc.ts";
import { STAMP } from "./readiness.ts";

const BACKEND = new URL("../examples/backend", import.meta.url).pathname;

/** Number of replicas started together. */
export const REPLICAS = 8;

/** One round of eight replicas. */
export interface ReplicaRound {
  readonly lock: boolean;
  /** Launch to the start of the last app, ms. */
  readonly allRunningMs?: number;
  /** PostgreSQL ready line to the start of the last app, ms. */
  readonly afterReadyMs?: number;
  /** "✗ Alembic exited with code" lines over all replicas. */
  readonly failedAttempts: number;
  /** Replicas whose app started (exit 0 with a timestamp). */
  readonly started: number;
  /** Rows in the seeded table: 1 when the migrations ran exactly once. */
  readonly rows: string;
  readonly error?: string;
}

/** The exact command line of one replica, for the report. */
export function replicaDisplay(lock: boolean): string {
  return `${PREFLIGHT_DISPLAY} run${
    lock ? "" : " --no-migrate-lock"
  } -- date +%s.%N   (cwd examples/backend; DB_HOST, DB_PORT, POSTGRES_USER/PASSWORD/DB set)`;
}

/** Starts eight replicas against a database that comes up 1.5 s later. */
export async function replicaRound(lock: boolean): Promise<ReplicaRound> {
  const password = `bench-${crypto.randomUUID()}`;
  const pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
    startDelayMs: 1500,
  });
  try {
    tuneLogging(pg.dataDir, false);
    const env = cleanEnv({
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: "app",
      PYTHONDONTWRITEBYTECODE: "1",
    });
    const argv = [
      ...preflightRun(),
      "run",
      ...(lock ? [] : ["--no-migrate-lock"]),
      "--",
      ...STAMP,
    ];
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from(
        { length: REPLICAS },
        () => runCapture(argv, { env, cwd: BACKEND, timeoutMs: 150_000 }),
      ),
    );
    await pg.ready;
    const ready = readyTimes(await pg.log()).at(0);
    const rows = await pg.psql("select count(*) from items", "app").catch((
      e,
    ) => `error: ${(e as Error).message.split("\n")[0]}`);
    const starts = results.map((r) =>
      r.code === 0 ? parseEpoch(r.stdout) : undefined
    );
    const ok = starts.filter((s): s is number => s !== undefined);
    const failedAttempts = results.reduce(
      (n, r) =>
        n + [...r.stderr.matchAll(/✗ Alembic exited with code/g)].length,
      0,
    );
    const last = ok.length ? Math.max(...ok) : undefined;
    return {
      lock,
      allRunningMs: ok.length === REPLICAS ? last! - t0 : undefined,
      afterReadyMs: ok.length === REPLICAS && ready !== undefined
        ? last! - ready
        : undefined,
      failedAttempts,
      started: ok.length,
      rows,
      error: ok.length === REPLICAS
        ? undefined
        : `only ${ok.length} of ${REPLICAS} apps started; codes ${
          results.map((r) => r.code).join(",")
        }`,
    };
  } finally {
    await pg.cleanup();
  }
}
