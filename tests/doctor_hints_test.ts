/**
 * `doctor` as a newcomer reads it: each failing line says what to change and
 * where the value came from (the environment, ./.env, the default), secrets
 * masked; health-body fields whose names look secret are masked at any
 * depth; and each latency is the check's own, not module loading.
 */
import assert from "node:assert/strict";
import { runPreflight } from "./_cli.ts";
import { closedPort, startPostgres } from "./_servers.ts";
import { parseArgs } from "../src/cli/parse_args.ts";
import { resolveOptions } from "../src/config/resolve_options.ts";
import { planDoctor } from "../src/doctor/doctor_plan.ts";
import { runDoctor } from "../src/doctor/run_doctor.ts";

async function inDir<T>(
  dotenv: string[],
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-doctor-hints-" });
  try {
    await Deno.writeTextFile(`${dir}/.env`, dotenv.join("\n") + "\n");
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The text line of a check, e.g. "PostgreSQL  reachable". */
function lineOf(out: string, component: string, check: string): string {
  const l = out.split("\n").find((l) =>
    new RegExp(`^.\\s+${component}\\s+${check}\\b`).test(l)
  );
  assert.ok(l, `no ${component} ${check} line in:\n${out}`);
  return l;
}

Deno.test("a failing doctor line says what to change and where each value came from: environment, ./.env or default", async () => {
  const dbPort = closedPort();
  const redisPort = closedPort();
  const appPort = closedPort();
  const r = await inDir([
    `DB_PORT=${dbPort}`,
    `REDIS_URL=redis://:redis-pw-77c1@127.0.0.1:${redisPort}/0`,
    `PORT=${appPort}`,
  ], (cwd) =>
    runPreflight(["doctor", "--timeout", "2s"], {
      DB_HOST: "127.0.0.1",
      PATH: "/nonexistent",
    }, { cwd }));
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lineOf(r.stdout, "PostgreSQL", "reachable"),
    new RegExp(
      `connection refused by 127\\.0\\.0\\.1:${dbPort} → change DB_HOST=127\\.0\\.0\\.1 \\(environment\\) or DB_PORT=${dbPort} \\(\\./\\.env\\)$`,
    ),
  );
  assert.match(
    lineOf(r.stdout, "Redis", "reachable"),
    new RegExp(
      ` → change REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redisPort}/0 \\(\\./\\.env\\)$`,
    ),
  );
  assert.match(
    lineOf(r.stdout, "App", "health"),
    new RegExp(
      ` → change PORT=${appPort} \\(\\./\\.env\\), or give --health-url$`,
    ),
  );
  assert.ok(!r.stdout.includes("redis-pw-77c1"), r.stdout);
  // Lines that passed or were skipped say nothing of the kind.
  assert.ok(!lineOf(r.stdout, "Compose", "cli").includes("→"), r.stdout);
});

Deno.test("a refused login names the credential variables, password masked, defaults too, and --json carries the same as 'fix'", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: "right-pw-42aa",
  });
  const r = await inDir([
    "POSTGRES_USER=postgres",
    "POSTGRES_PASSWORD=wrong-pw-9d0e",
  ], (cwd) =>
    runPreflight(["doctor", "--json", "--timeout", "3s"], {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      PORT: String(closedPort()),
      PATH: "/nonexistent",
    }, { cwd }));
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const login = report.checks.find((c: { check: string; component: string }) =>
    c.component === "postgres" && c.check === "login"
  );
  assert.equal(login.status, "fail");
  assert.match(login.message, /password authentication failed/);
  assert.equal(
    login.fix,
    "change POSTGRES_USER=postgres (./.env), POSTGRES_PASSWORD=*** (./.env) or POSTGRES_DB=the user name (default)",
  );
  const reachable = report.checks.find((c: { check: string }) =>
    c.check === "reachable"
  );
  assert.equal(reachable.status, "pass");
  assert.equal(reachable.fix, undefined);
  assert.ok(!r.stdout.includes("wrong-pw-9d0e"));
});

Deno.test("health-body fields whose names look secret are masked at any depth, in the table and in --json", async () => {
  const secrets = [
    "hunter2-pw-0001",
    "tok-0002-abcdef",
    "key-0003-abcdef",
    "Bearer 0004-abcdef",
    "url-pw-0005",
    "cookie-0006-abc",
  ];
  const body = {
    status: "ok",
    database: {
      password: secrets[0],
      dsn: `postgres://u:${secrets[4]}@db/app`,
    },
    auth: { accessToken: secrets[1] },
    integrations: [{ name: "mail", api_key: secrets[2] }],
    Authorization: secrets[3],
    SESSION_COOKIE: secrets[5],
    keyspace: "db0",
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json(body),
  );
  try {
    const env = {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(closedPort()),
      PATH: "/nonexistent",
    };
    const url = `http://127.0.0.1:${server.addr.port}/health`;
    const text = await runPreflight(["doctor", "--health-url", url], env);
    const json = await runPreflight(
      ["doctor", "--json", "--health-url", url],
      env,
    );
    for (const s of secrets) {
      assert.ok(!text.stdout.includes(s), `${s} in:\n${text.stdout}`);
      assert.ok(!json.stdout.includes(s), `${s} in:\n${json.stdout}`);
    }
    const health = JSON.parse(json.stdout).checks.find((
      c: { component: string },
    ) => c.component === "app");
    assert.equal(health.status, "pass");
    assert.deepEqual(health.data.body, {
      status: "ok",
      database: { password: "***", dsn: "postgres://u:***@db/app" },
      auth: "***",
      integrations: [{ name: "mail", api_key: "***" }],
      Authorization: "***",
      SESSION_COOKIE: "***",
      keyspace: "db0",
    });
    assert.match(text.stdout, /database\.password=\*\*\*/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("each doctor latency is the check's own: modules load before the clock starts", async () => {
  // A module load made slow on purpose: were it inside a check's timing,
  // that latency would be at least this long.
  const SLOW_LOAD_MS = 1500;
  const config = resolveOptions(parseArgs(["doctor", "--timeout", "2s"]), {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(closedPort()),
    PORT: String(closedPort()),
    PATH: "/nonexistent",
  });
  let loaded = false;
  const report = await runDoctor(
    await planDoctor(config),
    new AbortController().signal,
    {
      load: () =>
        new Promise((r) =>
          setTimeout(() => {
            loaded = true;
            r();
          }, SLOW_LOAD_MS)
        ),
    },
  );
  assert.ok(loaded, "runDoctor did not load the check modules");
  const timed = report.checks.filter((c) => c.latency_ms !== null);
  assert.ok(timed.length >= 2, JSON.stringify(report.checks));
  for (const c of timed) {
    assert.ok(
      c.latency_ms! < SLOW_LOAD_MS,
      `${c.component} ${c.check}: ${c.latency_ms} ms includes the module load`,
    );
  }
});

Deno.test("doctor loads every module its checks would load lazily before timing them", async () => {
  const { loadCheckModules } = await import("../src/doctor/run_doctor.ts");
  const source = await Deno.readTextFile(
    new URL("../src/doctor/run_doctor.ts", import.meta.url),
  );
  const preloaded = loadCheckModules.toString() + source;
  const lazy = new Set<string>();
  for (const dir of ["checks", "doctor"]) {
    for (
      const e of Deno.readDirSync(new URL(`../src/${dir}/`, import.meta.url))
    ) {
      if (!e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
      const text = await Deno.readTextFile(
        new URL(`../src/${dir}/${e.name}`, import.meta.url),
      );
      for (const m of text.matchAll(/\bimport\(\s*"([^"./][^"]*)"\s*\)/g)) {
        lazy.add(m[1]);
      }
    }
  }
  assert.ok(lazy.size >= 2, [...lazy].join(", "));
  for (const specifier of lazy) {
    assert.ok(
      preloaded.includes(`import("${specifier}")`),
      `${specifier} is loaded lazily by a check but not by loadCheckModules`,
    );
  }
});
