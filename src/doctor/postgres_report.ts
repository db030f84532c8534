/**
 * The PostgreSQL lines of `doctor`: reachable (a `pg_isready`-level probe),
 * login (the readiness check with credentials), then, over one session,
 * the server version with a query round trip and the current migration
 * revision. The probe and the login run at once; each is bounded by the
 * per-check timeout, and so is the session.
 */
import { kind as postgres } from "../checks/postgres.ts";
import { classifyLoginError } from "../checks/postgres_errors.ts";
import { postgresJsOptions } from "../checks/postgres_options.ts";
import { raceAbort } from "../checks/connect.ts";
import { reasonOf } from "../checks/check.ts";
import { pgAddress, type PostgresTarget } from "../checks/postgres_url.ts";
import { scrub } from "../redact.ts";
import { type CheckLine, line } from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";
import { boundedStep } from "./bounded_step.ts";

/** What the session found. */
interface SessionFacts {
  rttMs: number;
  version: string;
  /** Null when the version table does not exist. */
  revisions: string[] | null;
  /** Set when the version table exists but could not be read. */
  revisionError?: string;
}

async function session(
  target: PostgresTarget,
  table: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<SessionFacts> {
  const { default: postgres } = await import("postgres");
  const sql = postgres({
    ...postgresJsOptions(target),
    max: 1,
    prepare: false,
    fetch_types: false,
    idle_timeout: 0,
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    onnotice: () => {},
    connection: { application_name: "preflight doctor" },
  });
  try {
    // The first query opens the connection; the second is the round trip.
    await raceAbort(sql`select 1`, signal);
    const t0 = performance.now();
    await raceAbort(sql`select 1`, signal);
    const rttMs = performance.now() - t0;
    const [{ server_version: version }] = await raceAbort(
      sql`show server_version`,
      signal,
    );
    const [{ reg }] = await raceAbort(
      sql`select to_regclass(${table})::text as reg`,
      signal,
    );
    if (reg === null) return { rttMs, version, revisions: null };
    try {
      // `reg` is the server's own quoted rendering of an existing table.
      const rows = await raceAbort(
        sql.unsafe(`select version_num::text as v from ${reg} order by 1`),
        signal,
      );
      return { rttMs, version, revisions: rows.map((r) => String(r.v)) };
    } catch (e) {
      if (signal.aborted) throw e;
      return {
        rttMs,
        version,
        revisions: null,
        revisionError: scrub(reasonOf(e)),
      };
    }
  } catch (e) {
    if (signal.aborted) throw e;
    throw classifyLoginError(e, pgAddress(target));
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

/** The four PostgreSQL lines. */
export async function postgresReport(
  plan: DoctorPlan,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const ms = plan.timeoutMs;
  const where = pgAddress(plan.database);
  const login = plan.login;
  const loginTarget = login?.id ?? null;
  const [reach, auth] = await Promise.all([
    boundedStep(
      ms,
      signal,
      (s) => postgres.check(plan.database, {}).check(s),
      where,
    ),
    login
      ? boundedStep(
        ms,
        signal,
        (s) => postgres.check(login, {}).check(s),
        where,
      )
      : Promise.resolve(undefined),
  ]);
  const lines: CheckLine[] = [
    reach.error === undefined
      ? line("postgres", "reachable", "pass", `${where} accepts connections`, {
        target: plan.database.id,
        latency_ms: reach.ms,
      })
      : line("postgres", "reachable", "fail", reach.error, {
        target: plan.database.id,
        latency_ms: reach.ms,
      }),
  ];
  const skipRest = (why: string) => [
    line("postgres", "version", "skip", why, { target: loginTarget }),
    line("postgres", "migration", "skip", why, {
      target: loginTarget,
      data: { table: plan.versionTable },
    }),
  ];
  if (!login || !auth) {
    const why =
      "no credentials: set DATABASE_URL, PGUSER/PGPASSWORD or POSTGRES_USER/POSTGRES_PASSWORD";
    return [
      ...lines,
      line("postgres", "login", "skip", why),
      ...skipRest("no credentials"),
    ];
  }
  const who = `${login.username}@${pgAddress(login)}/${
    login.path || login.username
  }`;
  if (auth.error !== undefined) {
    return [
      ...lines,
      line("postgres", "login", "fail", auth.error, {
        target: loginTarget,
        latency_ms: auth.ms,
      }),
      ...skipRest("login failed"),
    ];
  }
  lines.push(
    line("postgres", "login", "pass", `logged in as ${who}`, {
      target: loginTarget,
      latency_ms: auth.ms,
    }),
  );
  let facts: SessionFacts | undefined;
  const run = await boundedStep(ms, signal, async (s) => {
    facts = await session(login, plan.versionTable, s, ms);
  }, where);
  if (run.error !== undefined || facts === undefined) {
    return [
      ...lines,
      line("postgres", "version", "fail", run.error ?? "no answer", {
        target: loginTarget,
      }),
      line("postgres", "migration", "skip", "no session", {
        target: loginTarget,
        data: { table: plan.versionTable },
      }),
    ];
  }
  const f: SessionFacts = facts;
  const short = f.version.split(/\s/)[0];
  lines.push(
    line("postgres", "version", "pass", `PostgreSQL ${f.version}`, {
      target: loginTarget,
      latency_ms: Math.round(f.rttMs),
      value: short,
      data: { server_version: f.version },
    }),
  );
  if (f.revisionError !== undefined) {
    lines.push(
      line(
        "postgres",
        "migration",
        "fail",
        `cannot read ${plan.versionTable}: ${f.revisionError}`,
        {
          target: loginTarget,
          data: { table: plan.versionTable },
        },
      ),
    );
  } else {
    const revs = f.revisions ?? [];
    const value = revs.length > 0 ? revs.join(",") : "none";
    const note = f.revisions === null
      ? `none (no ${plan.versionTable} table: never migrated)`
      : revs.length === 0
      ? `none (${plan.versionTable} is empty)`
      : `${value} (${plan.versionTable})`;
    lines.push(
      line("postgres", "migration", "pass", note, {
        target: loginTarget,
        value,
        data: {
          table: plan.versionTable,
          table_exists: f.revisions !== null,
          revisions: revs,
        },
      }),
    );
  }
  return lines;
}
