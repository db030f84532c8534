/**
 * `preflight doctor` end to end, as a user runs it: the CLI against a real
 * PostgreSQL migrated by the example backend's Alembic project, a real
 * Redis holding queued Celery tasks, an in-process health endpoint, and the
 * docker stand-in (tests/fixtures/docker-standin/docker, which stands in for
 * the real `docker` CLI: there is no Docker engine here). Then the failure
 * of each part, line by line; the --json document against
 * docs/doctor-schema.json; and no password anywhere.
 */
import assert from "node:assert/strict";
import { runPreflight } from "./_cli.ts";
import { closedPort, startFaultServer, startPostgres } from "./_servers.ts";
import { startRedis } from "./_redis.ts";
import { mariaDbMissing, startMariaDb } from "./_mariadb.ts";
import { Ajv2020 } from "ajv/dist/2020.js";
import { RespConnection } from "../src/checks/resp.ts";

const BACKEND_DIR = new URL("../examples/backend/", import.meta.url).pathname;
const STANDIN_DIR =
  new URL("./fixtures/docker-standin/", import.meta.url).pathname;
/** docs/doctor-schema.json, compiled by ajv (strict: a schema mistake throws). */
const validateReport = new Ajv2020({ allErrors: true, allowUnionTypes: true })
  .compile(
    JSON.parse(
      await Deno.readTextFile(
        new URL("../docs/doctor-schema.json", import.meta.url),
      ),
    ),
  );
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

interface Line {
  component: string;
  check: string;
  subject: string | null;
  status: string;
  value: unknown;
  message: string;
  latency_ms: number | null;
  target: string | null;
  data?: Record<string, unknown>;
}

interface Report {
  ok: boolean;
  checks: Line[];
  summary: { passed: number; failed: number; skipped: number };
}

/** Runs `doctor --json`, checks the document against the schema, returns it. */
async function doctorJson(
  env: Record<string, string>,
  args: string[] = [],
  opts: { cwd?: string } = {},
): Promise<{ code: number; report: Report; stdout: string; stderr: string }> {
  const r = await runPreflight(["doctor", "--json", ...args], env, opts);
  let report: Report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  assert(
    validateReport(report),
    `schema violations:\n${JSON.stringify(validateReport.errors, null, 2)}`,
  );
  assert.deepEqual(report.ok, r.code === 0, "ok matches the exit code");
  return { code: r.code, report, stdout: r.stdout, stderr: r.stderr };
}

function find(
  report: Report,
  component: string,
  check: string,
  subject?: string,
): Line {
  const l = report.checks.find((c) =>
    c.component === component && c.check === check &&
    (subject === undefined || c.subject === subject)
  );
  if (!l) {
    throw new Error(
      `no ${component} ${check} ${subject ?? ""} line in ${
        JSON.stringify(report.checks)
      }`,
    );
  }
  return l;
}

function assertNoSecret(text: string, secrets: string[]): void {
  for (const s of secrets) {
    for (const form of [s, encodeURIComponent(s)]) {
      assert(!text.includes(form), `output contains a secret:\n${text}`);
    }
  }
}

/** An in-process health endpoint whose answer the test sets. */
function startHealth() {
  const state = {
    status: 200,
    body: { status: "ok", database: "ok" } as unknown,
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json(state.body, { status: state.status }),
  );
  return {
    state,
    url: `http://127.0.0.1:${server.addr.port}/health`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function alembicUpgrade(env: Record<string, string>): Promise<void> {
  const out = await new Deno.Command("alembic", {
    args: ["upgrade", "head"],
    cwd: BACKEND_DIR,
    clearEnv: true,
    env: { PATH: SYSTEM_PATH, HOME: "/tmp", LANG: "C.UTF-8", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(
    out.success,
    `alembic upgrade head failed:\n${new TextDecoder().decode(out.stderr)}`,
  );
}

async function redisCommand(url: URL, password: string, ...args: string[][]) {
  const ctl = new AbortController();
  const conn = await RespConnection.connect({
    host: url.hostname,
    port: Number(url.port),
    signal: ctl.signal,
  });
  try {
    assert.deepEqual(
      await conn.command(["AUTH", password], ctl.signal),
      "OK",
      "AUTH",
    );
    for (const a of args) await conn.command(a, ctl.signal);
  } finally {
    conn.close();
  }
}

/** A state directory for the docker stand-in, with a scenario. */
async function standin(
  scenario: string,
): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-docker-standin-" });
  await Deno.writeTextFile(`${dir}/scenario`, scenario);
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const PS_HEALTHY =
  `EXTRA_PS='{"ID":"b1","Name":"stack-postgres-1","Service":"postgres","State":"running","Health":"healthy","Status":"Up 1 hour (healthy)","ExitCode":0}
{"ID":"b2","Name":"stack-beat-1","Service":"beat","State":"running","Health":"","Status":"Up 1 hour","ExitCode":0}'\n`;
const PS_WORKER_EXITED =
  `EXTRA_PS='{"ID":"b3","Name":"stack-worker-1","Service":"worker","State":"exited","Health":"","Status":"Exited (1) 2 minutes ago","ExitCode":1}'\n`;

Deno.test("doctor reports a real stack line by line, and fails the right line with the right reason", async (t) => {
  const password = `Tr1cky/p@ss:w%rd-${crypto.randomUUID().slice(0, 8)}`;
  const redisPassword = `redis-${crypto.randomUUID()}`;
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
  });
  await using redis = await startRedis({ password: redisPassword });
  await using health = startHealth();
  await using docker = await standin(PS_HEALTHY);
  const dbEnv = {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: password,
    POSTGRES_DB: "app",
  };
  await alembicUpgrade(dbEnv);
  // Two tasks in the default priority and one in priority step 3.
  await redisCommand(new URL(redis.url()), redisPassword, [
    "RPUSH",
    "celery",
    "task-1",
    "task-2",
  ], ["RPUSH", "celery\x06\x163", "task-3"]);
  const env = {
    ...dbEnv,
    REDIS_URL: redis.url({ db: 0 }),
    PREFLIGHT_HEALTH_URL: health.url,
    PATH: `${STANDIN_DIR}:${SYSTEM_PATH}`,
    DOCKER_STANDIN_STATE: docker.dir,
  };
  const secrets = [password, redisPassword];

  await t.step(
    "every line passes: revision 0002, 3 pending tasks, health fields, compose services (exit 0)",
    async () => {
      const r = await runPreflight(["doctor"], env);
      assert.deepEqual(r.code, 0, `exit code (${r.stdout}${r.stderr})`);
      assertNoSecret(r.stdout + r.stderr, secrets);
      const rows = r.stdout.split("\n");
      const row = (prefix: RegExp) => {
        const found = rows.find((l) => prefix.test(l));
        assert(found, `no line ${prefix} in:\n${r.stdout}`);
        return found;
      };
      assert(
        /accepts connections/.test(row(/^✓\s+PostgreSQL\s+reachable\s/)),
        r.stdout,
      );
      assert(
        row(/^✓\s+PostgreSQL\s+login\s/).includes("postgres@127.0.0.1:"),
        r.stdout,
      );
      assert(
        /PostgreSQL 15\./.test(row(/^✓\s+PostgreSQL\s+version\s/)),
        r.stdout,
      );
      assert(
        /\s0002 \(alembic_version\)$/.test(
          row(/^✓\s+PostgreSQL\s+migration\s/),
        ),
        r.stdout,
      );
      assert(row(/^✓\s+Redis\s+ping\s/).endsWith("PONG"), r.stdout);
      assert(/\s3 pending$/.test(row(/^✓\s+Redis\s+queue celery\s/)), r.stdout);
      assert(
        /HTTP 200 · status=ok, database=ok/.test(row(/^✓\s+App\s+health\s/)),
        r.stdout,
      );
      assert(
        /running \(healthy\)/.test(row(/^✓\s+Compose\s+service backend\s/)),
        r.stdout,
      );
      assert(/running/.test(row(/^✓\s+Compose\s+service beat\s/)), r.stdout);
      assert(/All checks passed/.test(r.stdout), r.stdout);
    },
  );

  await t.step(
    "--json validates against the schema and carries the values",
    async () => {
      const { code, report, stdout, stderr } = await doctorJson(env);
      assert.deepEqual(code, 0, "exit code");
      assertNoSecret(stdout + stderr, secrets);
      // The schema does judge: a field removed, an unknown one added or a
      // status out of its enum each fail it.
      const { ok: _, ...missing } = report;
      assert(!validateReport(missing), "a report without 'ok' passed");
      assert(
        !validateReport({ ...report, extra: 1 }),
        "an unknown field passed",
      );
      assert(
        !validateReport({
          ...report,
          checks: [{ ...report.checks[0], status: "maybe" }],
        }),
        "an unknown status passed",
      );
      assert.deepEqual(report.summary.failed, 0, "failed count");
      assert.deepEqual(
        find(report, "postgres", "migration").value,
        "0002",
        "revision",
      );
      assert(
        /^\d+\.\d+/.test(String(find(report, "postgres", "version").value)),
        "version",
      );
      assert.deepEqual(
        find(report, "redis", "queue", "celery").value,
        3,
        "queue length",
      );
      assert(
        /^\d+\.\d+\.\d+/.test(String(find(report, "redis", "version").value)),
        "redis version",
      );
      const app = find(report, "app", "health");
      assert.deepEqual(app.value, 200, "HTTP status");
      assert.deepEqual(
        app.data?.body,
        { status: "ok", database: "ok" },
        "health body",
      );
      assert(
        typeof find(report, "postgres", "login").latency_ms === "number",
        "latency",
      );
      assert(
        find(report, "postgres", "login").target?.includes(":***@"),
        "target masked",
      );
      assert.deepEqual(
        report.checks.map((c) => `${c.component}.${c.check}`).slice(0, 9),
        [
          "postgres.reachable",
          "postgres.login",
          "postgres.version",
          "postgres.migration",
          "redis.reachable",
          "redis.ping",
          "redis.version",
          "redis.queue",
          "app.health",
        ],
        "line order",
      );
    },
  );

  await t.step("a database never migrated has revision none", async () => {
    const { code, report } = await doctorJson({
      ...env,
      POSTGRES_DB: "postgres",
    });
    assert.deepEqual(code, 0, "exit code");
    const m = find(report, "postgres", "migration");
    assert.deepEqual([m.status, m.value], ["pass", "none"], "migration line");
    assert(m.message.includes("no alembic_version table"), m.message);
  });

  await t.step("--version-table names another table", async () => {
    await pg.psql(
      "CREATE TABLE app_versions (version_num varchar(32) PRIMARY KEY); INSERT INTO app_versions VALUES ('abc123')",
      "app",
    );
    const { report } = await doctorJson(env, [
      "--version-table",
      "public.app_versions",
    ]);
    assert.deepEqual(
      find(report, "postgres", "migration").value,
      "abc123",
      "revision",
    );
  });

  await t.step(
    "a wrong password fails the login line with the server's reason",
    async () => {
      const wrong = `wrong-${crypto.randomUUID()}`;
      const { code, report, stdout, stderr } = await doctorJson({
        ...env,
        POSTGRES_PASSWORD: wrong,
      });
      assert.deepEqual(code, 1, "exit code");
      assertNoSecret(stdout + stderr, [...secrets, wrong]);
      assert.deepEqual(
        find(report, "postgres", "reachable").status,
        "pass",
        "reachable",
      );
      const login = find(report, "postgres", "login");
      assert.deepEqual(login.status, "fail", "login status");
      assert(
        /password authentication failed.*28P01/.test(login.message),
        login.message,
      );
      assert.deepEqual(
        find(report, "postgres", "version").status,
        "skip",
        "version skipped",
      );
      assert.deepEqual(
        find(report, "redis", "ping").status,
        "pass",
        "redis unaffected",
      );
      // The text report says the same on the login line.
      const text = await runPreflight(["doctor"], {
        ...env,
        POSTGRES_PASSWORD: wrong,
      });
      assert.deepEqual(text.code, 1, "text exit code");
      assertNoSecret(text.stdout + text.stderr, [...secrets, wrong]);
      assert(
        /^✗\s+PostgreSQL\s+login\s.*password authentication failed/m.test(
          text.stdout,
        ),
        text.stdout,
      );
    },
  );

  await t.step(
    "a 500 from the health endpoint fails the app line with its fields",
    async () => {
      health.state.status = 500;
      health.state.body = {
        status: "error",
        database: "error: connection refused",
      };
      try {
        const { code, report } = await doctorJson(env);
        assert.deepEqual(code, 1, "exit code");
        const app = find(report, "app", "health");
        assert.deepEqual([app.status, app.value], ["fail", 500], "app line");
        assert(app.message.startsWith("HTTP 500 · status=error"), app.message);
        assert.deepEqual(report.summary.failed, 1, "only that line fails");
      } finally {
        health.state.status = 200;
        health.state.body = { status: "ok", database: "ok" };
      }
    },
  );

  await t.step("an exited Compose service fails its line", async () => {
    await Deno.writeTextFile(`${docker.dir}/scenario`, PS_WORKER_EXITED);
    const { code, report } = await doctorJson(env);
    assert.deepEqual(code, 1, "exit code");
    const worker = find(report, "compose", "service", "worker");
    assert.deepEqual(
      [worker.status, worker.value],
      ["fail", "exited (1)"],
      "worker line",
    );
    assert.deepEqual(
      find(report, "compose", "service", "backend").status,
      "pass",
      "backend",
    );
  });

  await t.step(
    "without docker compose the Compose line is skipped with the reason",
    async () => {
      await Deno.writeTextFile(`${docker.dir}/scenario`, "COMPOSE=missing\n");
      const { code, report } = await doctorJson(env);
      assert.deepEqual(code, 0, "a skipped line does not fail the report");
      const cli = find(report, "compose", "cli");
      assert.deepEqual(cli.status, "skip", "cli status");
      assert(
        cli.message ===
          "docker compose is not available: docker: unknown command: docker compose",
        cli.message,
      );
      const none = await doctorJson({ ...env, PATH: "/nonexistent" });
      assert(
        /docker compose is not available: 'docker' was not found on PATH/.test(
          find(none.report, "compose", "cli").message,
        ),
        "no docker at all",
      );
    },
  );

  await t.step(
    "a stopped Redis fails the reachable line and skips the rest",
    async () => {
      await redis.stop();
      const { code, report } = await doctorJson(env);
      assert.deepEqual(code, 1, "exit code");
      const reach = find(report, "redis", "reachable");
      assert.deepEqual(reach.status, "fail", "reachable");
      assert(
        /connection refused by 127\.0\.0\.1:\d+/.test(reach.message),
        reach.message,
      );
      assert.deepEqual(
        find(report, "redis", "queue", "celery").status,
        "skip",
        "queue skipped",
      );
    },
  );

  await t.step(
    "a stopped PostgreSQL fails reachable and login with connection refused",
    async () => {
      await pg.stop();
      const { code, report, stdout, stderr } = await doctorJson(env);
      assert.deepEqual(code, 1, "exit code");
      assertNoSecret(stdout + stderr, secrets);
      for (const check of ["reachable", "login"]) {
        const l = find(report, "postgres", check);
        assert.deepEqual(l.status, "fail", `${check} status`);
        assert(/connection refused/.test(l.message), l.message);
      }
    },
  );
});

Deno.test("doctor bounds every check by --timeout and runs them at once, so dead hosts do not make it slow", async () => {
  // Servers that accept connections and never answer.
  await using pgHole = startFaultServer("silent");
  await using redisHole = startFaultServer("silent");
  await using httpHole = startFaultServer("silent");
  // `docker compose ps` never answers (an engine that hangs).
  await using docker = await standin("HANG=ps\n");
  const started = performance.now();
  const { code, report } = await doctorJson({
    DATABASE_URL: `postgres://app:pw-not-shown@127.0.0.1:${pgHole.port}/app`,
    REDIS_URL: `redis://127.0.0.1:${redisHole.port}/0`,
    PREFLIGHT_HEALTH_URL: `http://127.0.0.1:${httpHole.port}/health`,
    PATH: `${STANDIN_DIR}:${SYSTEM_PATH}`,
    DOCKER_STANDIN_STATE: docker.dir,
  }, ["--timeout", "1s"]);
  const elapsed = performance.now() - started;
  assert.deepEqual(code, 1, "exit code");
  // Four dead parts, one second each, checked at once: a few seconds with
  // start-up even on a slow machine; generous bound.
  assert(elapsed < 10_000, `took ${Math.round(elapsed)} ms`);
  for (
    const [component, check] of [
      ["postgres", "reachable"],
      ["postgres", "login"],
      ["redis", "reachable"],
      ["app", "health"],
    ]
  ) {
    const l = find(report, component, check);
    assert.deepEqual(l.status, "fail", `${component} ${check}`);
    assert(
      /^no (HTTP response|answer) from 127\.0\.0\.1:\d+ within 1s$/.test(
        l.message,
      ),
      `${component} ${check}: ${l.message}`,
    );
  }
  const ps = find(report, "compose", "service");
  assert.deepEqual(ps.status, "fail", "compose service");
  assert.deepEqual(
    ps.message,
    "docker compose ps --all did not finish within 1s",
    "compose message",
  );
});

Deno.test("doctor reads ./.env where the environment does not set a variable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "preflight-doctor-env-" });
  try {
    const port = closedPort();
    await Deno.writeTextFile(
      `${dir}/.env`,
      [
        "DB_HOST=127.0.0.1",
        `DB_PORT=${port}`,
        "POSTGRES_USER=app",
        "POSTGRES_PASSWORD=dotenv-secret-value",
        "PORT=1",
        "PREFLIGHT_QUEUE=celery emails",
      ].join("\n"),
    );
    const { report, stdout, stderr } = await doctorJson(
      { PORT: String(closedPort()), PATH: "/nonexistent" },
      [],
      { cwd: dir },
    );
    assertNoSecret(stdout + stderr, ["dotenv-secret-value"]);
    assert.deepEqual(
      find(report, "postgres", "reachable").target,
      `postgres://127.0.0.1:${port}`,
      "DB_HOST/DB_PORT from .env",
    );
    assert(
      find(report, "postgres", "login").target?.startsWith(
        "postgres://app:***@",
      ),
      "credentials from .env, masked",
    );
    assert(
      !find(report, "app", "health").target?.includes(":1/"),
      "PORT from the environment wins over .env",
    );
    assert.deepEqual(
      report.checks.filter((c) => c.check === "queue").map((c) => c.subject),
      ["celery", "emails"],
      "PREFLIGHT_QUEUE from .env",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor rejects an invalid variable before checking anything (exit 2)", async () => {
  const r = await runPreflight(["doctor"], {
    DB_PORT: "abc",
    PATH: "/nonexistent",
  });
  assert.deepEqual(r.code, 2, "exit code");
  assert(
    r.stderr.includes("Invalid DB_PORT 'abc': expected a port number 1-65535"),
    r.stderr,
  );
  assert.deepEqual(r.stdout, "", "no report");
});

Deno.test("doctor reports the targets of --wait-for and PREFLIGHT_WAIT_FOR, one line each with what the server says: MariaDB's version, a socket's mode; a target not ready fails its line", async () => {
  const missing = mariaDbMissing();
  if (missing) {
    console.log(`skipped (${missing})`);
    return;
  }
  await using db = await startMariaDb({
    users: [{ name: "app", password: "Doctor-pw-51" }],
    database: "app",
  });
  const dir = await Deno.makeTempDir({ prefix: "preflight-doctor-" });
  try {
    const sock = `${dir}/app.sock`;
    using _listener = Deno.listen({ transport: "unix", path: sock });
    const refused = `mysql://127.0.0.1:${closedPort()}`;
    const env = {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(closedPort()),
      PATH: "/nonexistent",
      PREFLIGHT_WAIT_FOR: `${db.url()} unix://${sock}`,
    };
    const { report, stdout } = await doctorJson(env, [
      "--timeout",
      "5s",
      "--wait-for",
      `${db.url({ user: "app", password: "Doctor-pw-51" })},${refused}`,
    ]);
    // The flag wins over the variable, as for every option.
    const targets = report.checks.filter((c) => c.component === "target");
    assert.equal(targets.length, 2, "one line per target of --wait-for");
    const mysql = find(
      report,
      "target",
      "ready",
      `MySQL at ${db.host}:${db.port} as app`,
    );
    assert.equal(mysql.status, "pass", mysql.message);
    const version = (await db.sql("SELECT VERSION()")).trim();
    assert(
      version.startsWith(String(mysql.value)),
      `${mysql.value} vs ${version}`,
    );
    assert.equal(mysql.message, `MariaDB ${mysql.value}`, "message");
    assert.equal(mysql.data?.product, "MariaDB", "data.product");
    const down = find(
      report,
      "target",
      "ready",
      `MySQL at 127.0.0.1:${refused.split(":").at(-1)}`,
    );
    assert.equal(down.status, "fail", down.message);
    assert(/refused/.test(down.message), down.message);
    assertNoSecret(stdout, ["Doctor-pw-51"]);

    const viaEnv = await doctorJson(env, ["--timeout", "5s"]);
    const socket = find(
      viaEnv.report,
      "target",
      "ready",
      `Unix socket ${sock}`,
    );
    assert.equal(socket.status, "pass", socket.message);
    assert(
      /^accepts connections \(mode \d{4}/.test(socket.message),
      socket.message,
    );
    find(viaEnv.report, "target", "ready", `MySQL at ${db.host}:${db.port}`);

    // Text output: a Target row per target.
    const text = await runPreflight(["doctor", "--timeout", "5s"], env);
    assert(
      new RegExp(
        `Target\\s+ready Unix socket ${sock}\\s+\\S+\\s+accepts connections`,
      )
        .test(text.stdout),
      text.stdout,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
