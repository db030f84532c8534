/**
 * Rows of PostgreSQL targets read as libpq reads them, each against real
 * servers: sslmode's fallbacks with `ssl = on` and pg_hba rules refusing
 * one kind of connection, target_session_attrs with a real hot standby
 * (`pg_basebackup -R`), a server reached only by its Unix socket, host
 * lists, and a password with an unencoded `#`.
 */
import { closedPort, type PgServer, startPostgres } from "../tests/_servers.ts";
import { check, type FaultRow, lastLine } from "./fault_row.ts";
import { PreflightProcess } from "./preflight_process.ts";
import { observe, targetLine, targetState } from "./observe.ts";
import { newSecret } from "./secrets.ts";

const LIBPQ_RULE =
  '"PostgreSQL targets follow libpq: sslmode=prefer (default) falls back to a plain connection when the server refuses SSL, allow tries plain first; target_session_attrs [...] decides readiness as libpq does; a Unix-socket directory as host (percent-encoded, or ?host=/dir) connects to DIR/.s.PGSQL.PORT; a multi-host list h1:p1,h2:p2 is ready when one host is."';

/**
 * Whether libpq agrees the target is ready: `pg_isready` for a URL without
 * a user, `psql` logging in with one. The oracle, shown in notes.
 */
async function libpqConnects(url: string): Promise<boolean> {
  const login = /^[a-z]+:\/\/[^/?#]*@/.test(url);
  const out = await new Deno.Command(
    login ? "/usr/bin/psql" : "/usr/bin/pg_isready",
    {
      args: login ? ["-X", "-A", "-t", "-c", "select 1", url] : ["-d", url],
      env: { PGCONNECT_TIMEOUT: "10" },
      stdout: "null",
      stderr: "null",
    },
  ).output();
  return out.success;
}

/** A `wait` row: the URLs, whether libpq connects, and the outcome expected. */
function waitRow(c: {
  id: string;
  scenario: string;
  expected: string;
  rule?: string;
  setup: () => Promise<{ urls: string[]; dispose: () => Promise<void> }>;
  ready: boolean;
  /** For a not-ready row: the reason's text. */
  reason?: RegExp;
  budget?: string;
}): FaultRow {
  return {
    id: c.id,
    group: "Wait: PostgreSQL as libpq reads it",
    scenario: c.scenario,
    expected: c.expected,
    rule: c.rule ?? LIBPQ_RULE,
    async run() {
      const { urls, dispose } = await c.setup();
      try {
        const libpq = await Promise.all(urls.map(libpqConnects));
        await using p = new PreflightProcess([
          "wait",
          "--timeout",
          c.budget ?? "20s",
          ...urls,
        ]);
        const exit = await p.exited;
        const states = urls.map((u) => targetState(p.stderr, u));
        const checks = c.ready
          ? [
            check("exit 0", exit.code === 0),
            check(
              `every target ready (saw ${states.join(", ")})`,
              states.every((s) => s === "ready"),
            ),
            check(
              "libpq (psql) connects too",
              libpq.every(Boolean),
            ),
          ]
          : [
            check(`exit 124 (saw ${exit.code})`, exit.code === 124),
            check(
              `not ready, not failed (saw ${states.join(", ")})`,
              states.every((s) => s === "timeout"),
            ),
            check(
              `the reason says ${c.reason}`,
              c.reason ? c.reason.test(p.stderr) : true,
            ),
            check("libpq (psql) refuses too", libpq.every((ok) => !ok)),
          ];
        return observe(p, exit, {
          keyLine: targetLine(p.stderr, urls[0]) || lastLine(p.stderr, /✗|✓/),
          checks,
          notes: [
            `psql with the same URLs: ${
              libpq.map((ok) => ok ? "connects" : "refuses").join(", ")
            }`,
          ],
        });
      } finally {
        await dispose();
      }
    },
  };
}

/** A primary and a streaming hot standby of it (`pg_basebackup -R`). */
async function primaryAndStandby(password: string): Promise<
  { primary: PgServer; standby: PgServer; dispose: () => Promise<void> }
> {
  const primary = await startPostgres({ auth: "scram", password });
  try {
    const standby = await startPostgres({ replicaOf: primary, auth: "scram" });
    return {
      primary,
      standby,
      async dispose() {
        await standby.cleanup();
        await primary.cleanup();
      },
    };
  } catch (e) {
    await primary.cleanup();
    throw e;
  }
}

function unencodedPasswordRow(): FaultRow {
  return {
    id: "pg-password-unencoded",
    group: "Wait: PostgreSQL as libpq reads it",
    scenario:
      "DATABASE_URL whose password has an unencoded '#' (postgres://app:s3cr#t…@db:5432/app)",
    expected:
      "Exit 2 before anything runs, saying to percent-encode the '#' as %23; the password is never shown; no 'the port must be a number'.",
    rule:
      '"A password with an unencoded # or / gets a message to percent-encode it" (issue 13); Configuration: "Invalid input [...] is reported before anything is done, in one message naming the option or variable, the offending value (secrets masked)".',
    async run() {
      const secret = newSecret("s3cr#t");
      await using p = new PreflightProcess(["run", "--", "true"], {
        env: { DATABASE_URL: `postgres://app:${secret}@db:5432/app` },
      });
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: lastLine(p.stderr, /percent-encoded|Invalid/),
        checks: [
          check("exit 2", exit.code === 2),
          check(
            "names DATABASE_URL and says to percent-encode '#' as %23",
            /Invalid DATABASE_URL .*contains '#', which must be percent-encoded: '#' as %23/
              .test(p.stderr),
          ),
          check(
            "not 'the port must be a number'",
            !/port must be a number/.test(p.stderr),
          ),
        ],
      });
    },
  };
}

/** Every row of PostgreSQL as libpq reads it. */
export function libpqRows(): FaultRow[] {
  return [
    waitRow({
      id: "pg-prefer-falls-back",
      scenario:
        "Login target, default sslmode (prefer), server with ssl = on whose pg_hba says hostssl … reject, hostnossl … md5",
      expected:
        "The TLS session is refused, the plain retry logs in: exit 0, as psql connects.",
      ready: true,
      async setup() {
        const pw = newSecret();
        const pg = await startPostgres({
          auth: "scram",
          password: pw,
          tls: true,
          hba: [
            "hostssl all all 127.0.0.1/32 reject",
            "hostnossl all all 127.0.0.1/32 md5",
          ],
        });
        return {
          urls: [pg.url("postgres", pw, "postgres")],
          dispose: () => pg.cleanup(),
        };
      },
    }),
    waitRow({
      id: "pg-allow-falls-back-to-tls",
      scenario:
        "Login target with sslmode=allow, server whose pg_hba says hostnossl … reject, hostssl … scram-sha-256",
      expected:
        "The plain login is refused, the TLS retry logs in: exit 0, as psql connects.",
      ready: true,
      async setup() {
        const pw = newSecret();
        const pg = await startPostgres({
          auth: "scram",
          password: pw,
          tls: true,
          hba: [
            "hostnossl all all 127.0.0.1/32 reject",
            "hostssl all all 127.0.0.1/32 scram-sha-256",
          ],
        });
        return {
          urls: [pg.url("postgres", pw, "postgres", { sslmode: "allow" })],
          dispose: () => pg.cleanup(),
        };
      },
    }),
    waitRow({
      id: "pg-read-write-on-standby",
      scenario:
        "Login target with target_session_attrs=read-write on a real hot standby (pg_basebackup -R, hot_standby = on), 3 s budget",
      expected:
        "Not ready (the standby is read-only; it may be promoted), so exit 124 at the deadline, saying why; psql refuses too.",
      ready: false,
      reason: /is a standby .*target_session_attrs=read-write/,
      budget: "3s",
      async setup() {
        const pw = newSecret();
        const s = await primaryAndStandby(pw);
        return {
          urls: [
            `postgres://postgres:${pw}@127.0.0.1:${s.standby.port}/postgres?target_session_attrs=read-write`,
          ],
          dispose: s.dispose,
        };
      },
    }),
    waitRow({
      id: "pg-read-write-in-host-list",
      scenario:
        "Login target listing the standby, then the primary, with target_session_attrs=read-write; and standby with target_session_attrs=standby",
      expected:
        "Ready on the primary, and on the standby: exit 0, as psql connects.",
      ready: true,
      async setup() {
        const pw = newSecret();
        const s = await primaryAndStandby(pw);
        return {
          urls: [
            `postgres://postgres:${pw}@127.0.0.1:${s.standby.port},127.0.0.1:${s.primary.port}/postgres?target_session_attrs=read-write`,
            `postgres://postgres:${pw}@127.0.0.1:${s.standby.port}/postgres?target_session_attrs=standby`,
          ],
          dispose: s.dispose,
        };
      },
    }),
    waitRow({
      id: "pg-unix-socket-only",
      scenario:
        "Server with no TCP listener, reached by its Unix socket: postgres://%2F<dir>:PORT (pg_isready level) and postgres://postgres@/postgres?host=/<dir>&port=PORT (login)",
      expected: "Both connect to DIR/.s.PGSQL.PORT and are ready: exit 0.",
      ready: true,
      async setup() {
        const pw = newSecret();
        const pg = await startPostgres({
          auth: "scram",
          password: pw,
          listenTcp: false,
        });
        return {
          urls: [
            `postgres://${encodeURIComponent(pg.socketDir)}:${pg.port}`,
            `postgres://postgres@/postgres?host=${pg.socketDir}&port=${pg.port}`,
          ],
          dispose: () => pg.cleanup(),
        };
      },
    }),
    waitRow({
      id: "pg-host-list-one-up",
      scenario:
        "Host lists whose first host refuses: postgres://127.0.0.1:CLOSED,127.0.0.1:PORT (both levels)",
      expected: "Ready when one host is: exit 0, as psql connects.",
      ready: true,
      async setup() {
        const pw = newSecret();
        const pg = await startPostgres({ auth: "scram", password: pw });
        const hosts = `127.0.0.1:${closedPort()},127.0.0.1:${pg.port}`;
        return {
          urls: [
            `postgres://${hosts}`,
            `postgres://postgres:${pw}@${hosts}/postgres`,
          ],
          dispose: () => pg.cleanup(),
        };
      },
    }),
    unencodedPasswordRow(),
  ];
}
