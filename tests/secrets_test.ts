/**
 * Secrets never appear in any output: passwords in URLs and values of
 * variables whose names contain PASSWORD, SECRET, TOKEN or KEY, in text and
 * JSON logs, at debug level, on success and on failure.
 */
import assert from "node:assert/strict";
import { closedPort, startPostgres } from "./_servers.ts";
import { startRedis } from "./_redis.ts";
import { runPreflight } from "./_cli.ts";

const PG_PW = "pg-Secret-4a7b9e";
const REDIS_PW = "redis-Secret-91c2d3";
const WRONG = "wrong-Secret-55e0aa";
const API_TOKEN = "tok-Secret-0d8f1e";

function assertClean(label: string, r: { stdout: string; stderr: string }) {
  // Every case prints something: silence would make this test vacuous.
  assert.match(r.stdout + r.stderr, /\S/, `${label}: no output`);
  for (
    const s of [PG_PW, REDIS_PW, WRONG, API_TOKEN, encodeURIComponent(PG_PW)]
  ) {
    assert.ok(
      !r.stdout.includes(s),
      `${label}: '${s}' on stdout:\n${r.stdout}`,
    );
    assert.ok(
      !r.stderr.includes(s),
      `${label}: '${s}' on stderr:\n${r.stderr}`,
    );
  }
}

Deno.test("no password or secret variable appears in any output, in text or JSON, on success or failure", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: PG_PW,
    database: "app",
  });
  await using redis = await startRedis({ password: REDIS_PW });
  const good = pg.url("postgres", PG_PW, "app");
  const bad = pg.url("postgres", WRONG, "app");
  const redisUrl = redis.url();
  const env = { API_TOKEN, SOME_SECRET_KEY: API_TOKEN };
  let seen = 0;
  for (const format of ["text", "json"]) {
    for (const level of ["debug", "info"]) {
      const common = ["--log-format", format, "--log-level", level];
      const cases: [string, string[], Record<string, string>][] = [
        ["wait ok", ["wait", ...common, good, redisUrl], env],
        ["wait wrong pw", ["wait", ...common, "--timeout", "2s", bad], env],
        ["wait refused", [
          "wait",
          ...common,
          "--timeout",
          "300ms",
          `postgres://u:${PG_PW}@127.0.0.1:${closedPort()}/db`,
        ], env],
        ["run ok", ["run", ...common, "--", "true"], {
          ...env,
          DATABASE_URL: good,
          REDIS_URL: redisUrl,
          MIGRATE_CMD: "true",
        }],
        ["run wrong pw, migrations fail", [
          "run",
          ...common,
          "--timeout",
          "1s",
          "--migrate-attempts",
          "1",
          "--",
          "true",
        ], {
          ...env,
          DB_HOST: "127.0.0.1",
          DB_PORT: String(pg.port),
          POSTGRES_USER: "postgres",
          POSTGRES_PASSWORD: WRONG,
          POSTGRES_DB: "app",
          MIGRATE_CMD: "false",
        }],
        ["run bad option with secrets set", [
          "run",
          ...common,
          "--timeout",
          "x",
        ], { ...env, DATABASE_URL: good }],
      ];
      for (const [label, args, e] of cases) {
        const r = await runPreflight(args, e);
        assertClean(`${label} (${format}, ${level})`, r);
        seen++;
      }
    }
  }
  for (
    const args of [["probe", "--json", good, redisUrl], ["probe", bad], [
      "probe",
      "--json",
      bad,
    ]]
  ) {
    assertClean(args.join(" "), await runPreflight(args, env));
    seen++;
  }
  // Paths that only the output layer's scrub can catch: a secret variable's
  // value echoed in an error about another option, and a raw '@' or '/' in a
  // password that URL parsing would split.
  const raw = `postgres://u:${PG_PW}@x/y@127.0.0.1:${closedPort()}/db`;
  for (
    const [args, e] of [
      [["run", "--timeout", API_TOKEN], env],
      [["wait", "--timeout", "300ms", raw], env],
      [["run", "--timeout", "300ms", "--no-migrate", "--", "true"], {
        ...env,
        DATABASE_URL: raw,
      }],
    ] as [string[], Record<string, string>][]
  ) {
    assertClean(args.join(" "), await runPreflight(args, e));
    seen++;
  }
  assert.equal(seen, 30);
});

Deno.test("a URL's password is masked wherever it appears, not only in its URL (it is registered as a secret when the URL is parsed)", async () => {
  // The same word as a host name of another target: only the registration
  // of the first target's password can mask it there.
  const word = "hunter2-pass-7f3a";
  const r = await runPreflight([
    "wait",
    "--timeout",
    "1s",
    "--log-level",
    "debug",
    `postgres://app:${word}@127.0.0.1:${closedPort()}/app`,
    `tcp://${word}:5432`,
  ]);
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /tcp:\/\/\*\*\*:5432/);
  assert.ok(!r.stderr.includes(word), r.stderr);
});

Deno.test("a mistyped URL (its '//' missing) is reported with its password masked, through the command line", async () => {
  const cases: [string[], Record<string, string>][] = [
    [["run", "--", "true"], {
      DATABASE_URL: `postgresql:/app:${PG_PW}@db/app`,
    }],
    [["wait", "--timeout", "1s", `app:${PG_PW}@db:5432`], {}],
    [["wait", "--timeout", "1s", "tcp://db:1", `app:${PG_PW}@db:5432`], {}],
    [["wait", "--timeout", "1s", `postgres:app:${PG_PW}@db/app`], {}],
    [["probe", `postgresql:/app:${PG_PW}@db/app`], {}],
  ];
  for (const [args, env] of cases) {
    const r = await runPreflight(args, env);
    assert.equal(r.code, args[0] === "probe" ? 1 : 2, r.stderr);
    assertClean(args.join(" "), r);
  }
});
