/**
 * What preflight prints, through the CLI: on a terminal a live waiting line
 * and colours (NO_COLOR honoured), plain lines elsewhere with heartbeats
 * that give the budget; no message said twice; in JSON, banner rules are not
 * events and failures carry `reason`.
 */
import assert from "node:assert/strict";
import { closedPort } from "./_servers.ts";
import { preflightArgv, runPreflight } from "./_cli.ts";

const PTY_RUN = new URL("./fixtures/pty_run.py", import.meta.url).pathname;

/** Runs preflight on a pseudo-terminal; returns what the terminal received. */
async function onTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; screen: string }> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [PTY_RUN, ...preflightArgv(), ...args],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      TERM: "xterm",
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, screen: new TextDecoder().decode(out.stdout) };
}

/** A port that starts listening after `ms`. */
function lateListener(ms: number): { port: number; close(): void } {
  const port = closedPort();
  let listener: Deno.Listener | undefined;
  const timer = setTimeout(() => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  }, ms);
  return {
    port,
    close() {
      clearTimeout(timer);
      listener?.close();
    },
  };
}

const ESC = "\x1b[";

Deno.test("on a terminal, wait shows a live line with the elapsed time of the budget and the last reason, and colours the outcome", async () => {
  const late = lateListener(1200);
  try {
    const { code, screen } = await onTerminal(
      ["wait", "-t", "20s", `tcp://127.0.0.1:${late.port}`],
      {},
    );
    assert.equal(code, 0, screen);
    // The live line: rewritten in place, cleared before the next log line.
    assert.match(
      screen,
      new RegExp(
        // (cut to the terminal's width: 80 columns here)
        `\\r\\x1b\\[2K.*\\[\\d+s of 20s\\] waiting for tcp://127\\.0\\.0\\.1:${late.port}: connection refused`,
      ),
    );
    assert.ok(screen.includes(`\r${ESC}2K`), JSON.stringify(screen));
    // The ready line in green, the prefix dimmed.
    assert.ok(
      screen.includes(
        `${ESC}2m[entrypoint] ${ESC}0m${ESC}32m✓ tcp://127.0.0.1:${late.port} is ready`,
      ),
      JSON.stringify(screen),
    );
    // On a terminal the live line replaces the periodic lines.
    assert.ok(!screen.includes("Still waiting"), screen);
  } finally {
    late.close();
  }
});

Deno.test("on a terminal with NO_COLOR set, the live line stays and no colour is used", async () => {
  const late = lateListener(800);
  try {
    const { code, screen } = await onTerminal(
      ["wait", "-t", "20s", `tcp://127.0.0.1:${late.port}`],
      { NO_COLOR: "1" },
    );
    assert.equal(code, 0, screen);
    assert.match(screen, /\[\d+s of 20s\] waiting for tcp:/);
    const colour = new RegExp(String.fromCharCode(27) + "\\[[\\d;]*m");
    assert.ok(!colour.test(screen), JSON.stringify(screen));
  } finally {
    late.close();
  }
});

Deno.test("on a terminal with --log-level error (wait-for-it's --quiet), there is no live line either", async () => {
  const port = closedPort();
  const { code, screen } = await onTerminal(
    ["wait", "-t", "1s", "--log-level", "error", `127.0.0.1:${port}`],
    { NO_COLOR: "1" },
  );
  assert.equal(code, 124, screen);
  assert.ok(!screen.includes("waiting for"), JSON.stringify(screen));
  assert.ok(!screen.includes(`\r${ESC}2K`), JSON.stringify(screen));
  assert.match(screen, /Targets not ready in time/);
});

Deno.test("off a terminal, lines are plain and the heartbeat gives the budget: 'Still waiting (5s of 5.6s)'", async () => {
  const port = closedPort();
  const r = await runPreflight([
    "wait",
    "-t",
    "5600ms",
    `tcp://127.0.0.1:${port}`,
  ]);
  assert.equal(r.code, 124, r.stderr);
  assert.ok(!r.stderr.includes("\x1b") && !r.stderr.includes("\r"), r.stderr);
  assert.ok(
    r.stderr.includes(
      `[entrypoint] Still waiting (5s of 5.6s): tcp://127.0.0.1:${port}: connection refused by 127.0.0.1:${port}\n`,
    ),
    r.stderr,
  );
});

/** The text of a line without its prefix, marks and final period, for comparing. */
function gist(line: string): string {
  return line.replace(/^\[entrypoint\] /, "").replace(/^(✓|✗|⚠️)\s*/u, "")
    .replace(/\.$/, "").toLowerCase();
}

Deno.test("no message is printed twice: a failed migration and a failed wait end with one line each saying why", async () => {
  const dead = closedPort();
  const cases: [string[], Record<string, string>, number][] = [
    [["migrate", "--migrate-attempts", "1"], { MIGRATE_CMD: "false" }, 3],
    [
      [
        "run",
        "--no-wait",
        "--migrate-attempts",
        "1",
        "--on-migrate-failure",
        "fail",
        "--",
        "true",
      ],
      { MIGRATE_CMD: "false" },
      3,
    ],
    [
      ["run", "-t", "300ms", "--on-timeout", "fail", "--", "true"],
      { DB_HOST: "127.0.0.1", DB_PORT: String(dead) },
      124,
    ],
    [["wait", "-t", "300ms", `127.0.0.1:${dead}`], {}, 124],
  ];
  for (const [args, env, exit] of cases) {
    const r = await runPreflight(args, env);
    assert.equal(r.code, exit, r.stderr);
    const lines = r.stderr.split("\n").filter((l) =>
      l.startsWith("[entrypoint] ")
    )
      .map(gist).filter((l) => !/^=+$/.test(l));
    const seen = new Set<string>();
    for (const l of lines) {
      assert.ok(!seen.has(l), `'${l}' printed twice:\n${r.stderr}`);
      seen.add(l);
    }
  }
});

Deno.test("in JSON logs, the banner rules are not events, and each failure carries its reason as a field", async () => {
  const dead = closedPort();
  const r = await runPreflight([
    "run",
    "--log-format",
    "json",
    "-t",
    "300ms",
    "--migrate-attempts",
    "1",
    "--",
    "true",
  ], { DB_HOST: "127.0.0.1", DB_PORT: String(dead), MIGRATE_CMD: "false" });
  assert.equal(r.code, 0, r.stderr);
  const records = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(records.length >= 6, r.stderr);
  assert.ok(!records.some((x) => /^=+$/.test(x.msg)), r.stderr);
  assert.ok(!records.some((x) => "banner" in x), r.stderr);
  const waitFailure = records.find((x) => x.msg.startsWith("✗ postgres://"));
  assert.equal(waitFailure?.reason, `connection refused by 127.0.0.1:${dead}`);
  const migrationFailure = records.find((x) =>
    x.msg.startsWith("✗ False exited")
  );
  assert.equal(migrationFailure?.reason, "exited with code 1");
  assert.equal(migrationFailure?.exit_code, 1);
});
