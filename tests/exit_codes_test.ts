/**
 * Exit 1 against exit 124, through the CLI against a real PostgreSQL: a
 * permanent failure (wrong password) ends `wait` and `run --on-timeout fail`
 * with exit 1 and the server's reason; 124 stays "not ready in time", when
 * only transient failures were seen.
 */
import assert from "node:assert/strict";
import { closedPort, startPostgres } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

const REASON = /password authentication failed for user "postgres"/;

Deno.test("run --on-timeout fail exits 1 on a wrong password, with the server's reason once in text and as a field in JSON", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: "right-pw-61c0",
  });
  const url = pg.url("postgres", "wrong-pw-9a7e", "postgres");
  const args = [
    "run",
    "--timeout",
    "60s",
    "--on-timeout",
    "fail",
    "--no-migrate",
    "--",
    "true",
  ];
  const text = await runPreflight(args, { DATABASE_URL: url });
  assert.equal(text.code, 1, text.stderr);
  assert.equal(
    text.stderr.match(new RegExp(REASON, "g"))?.length,
    1,
    text.stderr,
  );
  assert.match(
    text.stderr,
    /\[entrypoint\] Dependencies failed: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\n$/,
  );
  assert.ok(!text.stderr.includes("wrong-pw-9a7e"));

  const json = await runPreflight([
    "run",
    "--log-format",
    "json",
    ...args.slice(1),
  ], {
    DATABASE_URL: url,
  });
  assert.equal(json.code, 1, json.stderr);
  const records = json.stderr.trim().split("\n").map((l) => JSON.parse(l));
  const last = records.at(-1);
  assert.equal(last.level, "error");
  assert.equal(last.exit_code, 1);
  assert.match(last.reason, REASON);
  const failure = records.find((r) => r.msg.startsWith("✗ "));
  assert.equal(failure.level, "error");
  assert.match(failure.reason, REASON);
  assert.ok(!json.stderr.includes("wrong-pw-9a7e"));
});

Deno.test("wait and run --on-timeout fail exit 124 when targets were only refused: not ready in time", async () => {
  const port = closedPort();
  const w = await runPreflight(["wait", "-t", "300ms", `127.0.0.1:${port}`]);
  assert.equal(w.code, 124, w.stderr);
  assert.match(
    w.stderr,
    /Targets not ready in time: tcp:\/\/127\.0\.0\.1:\d+\n$/,
  );
  const r = await runPreflight(
    [
      "run",
      "-t",
      "300ms",
      "--on-timeout",
      "fail",
      "--no-migrate",
      "--",
      "true",
    ],
    { DB_HOST: "127.0.0.1", DB_PORT: String(port) },
  );
  assert.equal(r.code, 124, r.stderr);
  assert.match(
    r.stderr,
    /Dependencies not ready in time: postgres:\/\/127\.0\.0\.1:\d+\n$/,
  );
});
