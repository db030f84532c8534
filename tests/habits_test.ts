/**
 * Habits of other waiting tools, through the CLI: `--timeout 0` waits
 * without a deadline, and a bare `HOST:PORT` on PostgreSQL's or Redis's port
 * gets a hint towards the URL that checks the server itself.
 */
import assert from "node:assert/strict";
import { closedPort } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

Deno.test("wait --timeout 0 has no deadline: it waits for a port that opens later, and exits 0", async () => {
  const port = closedPort();
  let listener: Deno.Listener | undefined;
  const opener = setTimeout(() => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  }, 800);
  try {
    const r = await runPreflight([
      "wait",
      "--timeout",
      "0",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`✓ tcp://127\\.0\\.0\\.1:${port} is ready`),
    );
  } finally {
    clearTimeout(opener);
    listener?.close();
  }
});

Deno.test("a bare HOST:PORT on 5432 or 6379 is checked as tcp:// and the log suggests postgres:// or redis://", async () => {
  for (const [port, scheme] of [[5432, "postgres"], [6379, "redis"]] as const) {
    // Whether something listens there does not matter: continue either way.
    const r = await runPreflight([
      "wait",
      "-t",
      "100ms",
      "--on-timeout",
      "continue",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stderr.includes(
        `127.0.0.1:${port} is checked as tcp://127.0.0.1:${port} (the port only); ${scheme}://127.0.0.1:${port} waits until the server itself is ready`,
      ),
      r.stderr,
    );
  }
  const other = await runPreflight([
    "wait",
    "-t",
    "100ms",
    "--on-timeout",
    "continue",
    "127.0.0.1:1",
  ]);
  assert.ok(!other.stderr.includes("is checked as"), other.stderr);
});
