/**
 * The healthy probe's short cut (src/commands/probe_fast.ts) against the
 * full probe (src/commands/probe.ts): it may only say "healthy" when the
 * full probe would answer 0 for the same command line, environment and
 * server, and it must actually say so in the common case. Real sockets; the
 * full probe runs in-process without the short cut.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  FAST_WINDOW_MS,
  fastPlan,
  type FastTarget,
  isHealthyHead,
  PROBE_VARIABLES,
  probeHealthy,
} from "../src/commands/probe_fast.ts";
import { loadConfig } from "../src/config/load_config.ts";
import { kind as http } from "../src/checks/http.ts";
import { httpRequest } from "../src/checks/http_get.ts";
import { defaultFor, envName, OPTIONS } from "../src/cli/options.ts";
import { parseDuration } from "../src/config/duration.ts";
import { closedPort, startFaultServer } from "./_servers.ts";
import { preflightArgv } from "./_cli.ts";
import { runHandler } from "./_context.ts";

/** The full probe alone, as main.ts runs it when the short cut declines. */
async function fullProbe(
  args: string[],
  env: Record<string, string> = {},
): Promise<number> {
  return (await runHandler(args, env)).code;
}

/** A server that answers every connection with `reply` (written in parts), then closes or hangs. */
function scripted(
  parts: string[],
  after: "close" | "hang" = "close",
  delayMs = 0,
): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      open.add(conn);
      (async () => {
        try {
          await conn.read(new Uint8Array(4096));
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
          for (const p of parts) {
            await conn.write(new TextEncoder().encode(p));
            await new Promise((r) => setTimeout(r, 5));
          }
          if (after === "close") {
            conn.close();
            open.delete(conn);
          }
        } catch { /* closed by the client */ }
      })();
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** The full probe parses `url` as an http target, at the same address, with the same request. */
function assertSameAsFullCheck(fast: FastTarget, url: string): void {
  const target = http.parse(url, "target 1");
  assert.equal(target.scheme, "http");
  assert.equal(fast.hostname, target.host);
  assert.equal(fast.port, target.port);
  assert.equal(fast.request, new TextDecoder().decode(httpRequest(target)));
}

Deno.test("the short cut's default deadline is the option table's probe --timeout default", () => {
  const spec = OPTIONS.find((o) => o.name === "timeout")!;
  assert.equal(
    DEFAULT_PROBE_TIMEOUT_MS,
    parseDuration(defaultFor(spec, "probe")!),
  );
});

Deno.test("the short cut's probe variables are those of the options a probe has", () => {
  const names = OPTIONS.filter((o) => o.commands.includes("probe"))
    .map((o) => envName(o)).filter((n) => n !== undefined);
  assert.deepEqual([...PROBE_VARIABLES].sort(), names.sort());
});

Deno.test("the short cut sends byte for byte the request of the full HTTP check, to the same address", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}$/);
  fc.assert(
    fc.property(
      fc.tuple(octet, octet, octet, octet),
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.array(segment, { maxLength: 4 }),
      fc.boolean(),
      (ip, port, segments, slash) => {
        const path = segments.map((s) => `/${s}`).join("") +
          (slash ? "/" : "");
        const url = `http://${ip.join(".")}${
          port === null ? "" : `:${port}`
        }${path}`;
        const fast = fastPlan(["probe", url], {})?.targets;
        assert(fast, `declined ${url}`);
        assertSameAsFullCheck(fast[0], url);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("whatever the URL, the short cut accepts only what the full probe reads the same way", () => {
  const one = <T>(...xs: T[]) => fc.constantFrom(...xs);
  let accepted = 0;
  fc.assert(
    fc.property(
      fc.tuple(
        one(
          "http://",
          "http://",
          "http://",
          "HTTP://",
          "https://",
          "tcp://",
          "http:/",
        ),
        one("", "", "", "", "u:p@", "u@", ":@"),
        one(
          "127.0.0.1",
          "10.0.0.1",
          "010.0.0.1",
          "1.2.3",
          "256.1.1.1",
          "0.0.0.0",
          "localhost",
          "[::1]",
          "",
        ),
        one("", ":8000", ":80", ":0", ":65535", ":65536", ":08000", ":", ":x"),
        fc.array(
          one(
            "/health",
            "/a.b",
            "/~x",
            "/-",
            "/A",
            "/",
            "/..",
            "/.",
            "/%2e",
            "/ ",
            "/é",
            "x",
          ),
          { maxLength: 5 },
        ),
        one("", "", "", "", "?x=1", "#f", "?"),
      ).map((p) => p.flat().join("")),
      (text) => {
        const fast = fastPlan(["probe", text], {})?.targets;
        if (fast === undefined) return;
        accepted++;
        assertSameAsFullCheck(fast[0], text);
      },
    ),
    { numRuns: 5000 },
  );
  // Not vacuous: some of the generated URLs are in the domain.
  assert(accepted >= 5, `only ${accepted} accepted`);
});

Deno.test("the short cut declines options, PREFLIGHT_* variables, other targets and an unusual PORT", () => {
  const ok = "http://127.0.0.1:8000/health";
  assert(fastPlan(["probe", ok], {}));
  assert(fastPlan(["probe"], { PORT: "8000" }));
  assert(fastPlan(["probe"], {}));
  // Variables of options a probe does not have are never read by it.
  assert(fastPlan(["probe", ok], {
    PREFLIGHT_WAIT_FOR: "postgres://db:5432",
    PREFLIGHT_MIGRATE_CMD: "alembic upgrade head",
    PREFLIGHT_SUPERVISE: "not even a boolean",
  }));
  const declined: [string[], Record<string, string>][] = [
    [["probe", "--json", ok], {}],
    [["probe", ok, "--timeout"], {}],
    [["probe", ok, "--timeout", "0"], {}],
    [["probe", ok, "--timeout", "soon"], {}],
    [["probe", ok, "--timeout=1s", "--timeout=2s"], {}],
    [["probe", ok, "--timeout", "1s", "--json"], {}],
    [["probe", ok, "--timeout-x=1s"], {}],
    [["probe", "-h"], {}],
    [["probe", "-"], {}],
    [["probe", ok], { PREFLIGHT_TIMEOUT: "0" }],
    [["probe", ok], { PREFLIGHT_TIMEOUT: "later" }],
    [["probe", ok], { PREFLIGHT_TIMEOUT: "1s", PREFLIGHT_JSON: "1" }],
    [["probe", ok], { PREFLIGHT_LOG_FORMAT: "json" }],
    [["probe", ok], { PREFLIGHT_HTTP_STATUS: "200" }],
    [["probe", ok], { PREFLIGHT_ENV_FILE: "/x.env" }],
    [["probe"], { PORT: "abc" }],
    [["probe"], { PORT: " 8000" }],
    [["probe"], { PORT: "0" }],
    [["probe"], { PORT: "70000" }],
    [["probe", "https://127.0.0.1:8443/health"], {}],
    [["probe", "http://localhost:8000/health"], {}],
    [["probe", "http://[::1]:8000/health"], {}],
    [["probe", "http://u:secret@127.0.0.1:8000/health"], {}],
    [["probe", "http://127.0.0.1:8000/health?full=1"], {}],
    [["probe", "http://127.0.0.1:8000/a/../health"], {}],
    [["probe", "http://127.0.0.1:8000/h%65alth"], {}],
    [["probe", "tcp://127.0.0.1:8000"], {}],
    [["probe", "postgres://127.0.0.1:5432/db"], {}],
    [["probe", ok, "redis://127.0.0.1:6379"], {}],
    [["wait", ok], {}],
  ];
  for (const [args, env] of declined) {
    assert.equal(
      fastPlan(args, env),
      undefined,
      `accepted ${JSON.stringify([args, env])}`,
    );
  }
});

Deno.test("the short cut's deadline is the --timeout the full configuration resolves, flag over variable", async () => {
  const ok = "http://127.0.0.1:8000/health";
  assert.equal(fastPlan(["probe", ok], {})!.timeoutMs, 3000);
  assert.equal(fastPlan(["probe", "--timeout", "2s", ok], {})!.timeoutMs, 2000);
  assert.equal(fastPlan(["probe", "--timeout=1m30s"], {})!.timeoutMs, 90_000);
  assert.equal(fastPlan(["probe", "-t", "2s", ok], {})!.timeoutMs, 2000);
  assert.equal(fastPlan(["probe", "-t=4s", ok], {})!.timeoutMs, 4000);
  const duration = fc.oneof(
    fc.constantFrom(
      "2s",
      " 2s ",
      "500ms",
      "1m30s",
      "1.5",
      "0",
      "0.0001s",
      "",
      "x",
      "-1s",
      "2h",
      "30s1m",
      "1e3",
    ),
    fc.string({ maxLength: 6 }),
  );
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.option(duration),
      fc.option(duration),
      fc.boolean(),
      async (flag, variable, equals) => {
        const args = ["probe", ok];
        if (flag !== null) {
          args.push(...(equals ? [`--timeout=${flag}`] : ["--timeout", flag]));
        }
        const env: Record<string, string> = variable === null
          ? {}
          : { PREFLIGHT_TIMEOUT: variable };
        const plan = fastPlan(args, env);
        if (plan === undefined) return;
        accepted++;
        const config = await loadConfig(args, env);
        assert.equal(plan.timeoutMs, config.options.timeout);
      },
    ),
    { numRuns: 400 },
  );
  assert(accepted >= 20, `only ${accepted} accepted`);
});

Deno.test("a response head counts as healthy only when complete, well-formed and 2xx", () => {
  assert(isHealthyHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  assert(isHealthyHead("HTTP/1.0 204\r\n\r\n"));
  assert(!isHealthyHead("HTTP/1.1 200 OK\r\n"));
  assert(!isHealthyHead("HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n"));
  assert(!isHealthyHead("HTTP/1.1 2000 OK\r\n\r\n"));
  assert(!isHealthyHead("SSH-2.0-OpenSSH\r\n\r\n"));
  assert(!isHealthyHead("HTTP/1.1 500 Oops\r\n\r\n"));
});

Deno.test("against real servers, the short cut says healthy only when the full probe answers 0, and does say so for a plain 2xx", async () => {
  const cases: {
    name: string;
    parts: string[];
    after?: "close" | "hang";
    fast: boolean;
    full: number;
  }[] = [
    {
      name: "200",
      parts: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"],
      fast: true,
      full: 0,
    },
    {
      name: "204",
      parts: ["HTTP/1.0 204 No Content\r\n\r\n"],
      fast: true,
      full: 0,
    },
    {
      name: "200 in pieces",
      parts: ["HTTP/1.1 2", "00 OK\r\nX: y\r\n", "\r\n"],
      fast: true,
      full: 0,
    },
    {
      name: "301",
      parts: ["HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n"],
      fast: false,
      full: 1,
    },
    {
      name: "404",
      parts: ["HTTP/1.1 404 Not Found\r\n\r\n"],
      fast: false,
      full: 1,
    },
    { name: "503", parts: ["HTTP/1.1 503 Busy\r\n\r\n"], fast: false, full: 1 },
    { name: "not HTTP", parts: ["garbage\r\n\r\n"], fast: false, full: 1 },
    {
      name: "4-digit status",
      parts: ["HTTP/1.1 2000 OK\r\n\r\n"],
      fast: false,
      full: 1,
    },
    { name: "closed at once", parts: [], fast: false, full: 1 },
    // The full probe reads a status line cut short by a close as an answer;
    // the short cut does not, and leaves it to the full probe.
    {
      name: "200, then closed mid-head",
      parts: ["HTTP/1.1 200 OK\r\n"],
      fast: false,
      full: 0,
    },
  ];
  for (const c of cases) {
    const server = scripted(c.parts, c.after);
    try {
      const url = `http://127.0.0.1:${server.port}/health`;
      const targets = fastPlan(["probe", url], {})?.targets;
      assert(targets);
      const fast = await probeHealthy(targets, 2000);
      const full = await fullProbe(["probe", url]);
      assert.equal(fast, c.fast, `${c.name}: short cut`);
      assert.equal(full, c.full, `${c.name}: full probe`);
      if (fast) {
        assert.equal(
          full,
          0,
          `${c.name}: healthy only if the full probe agrees`,
        );
      }
    } finally {
      server.close();
    }
  }
  const refused = fastPlan(
    ["probe", `http://127.0.0.1:${closedPort()}/`],
    {},
  )?.targets;
  assert.equal(await probeHealthy(refused!, 2000), false);
});

Deno.test("the short cut gives up at the end of its window on a silent peer or a head that never ends", async () => {
  await using silent = startFaultServer("silent");
  const hang = scripted(["HTTP/1.1 200 OK\r\n"], "hang");
  try {
    for (const port of [silent.port, hang.port]) {
      const t0 = performance.now();
      const targets = fastPlan(["probe", `http://127.0.0.1:${port}/`], {})
        ?.targets;
      // A 3 s deadline: the window is FAST_WINDOW_MS, not the deadline.
      assert.equal(await probeHealthy(targets!, 3000), false);
      // Generous bound for a loaded machine, still under the 3 s deadline.
      assert(performance.now() - t0 < FAST_WINDOW_MS + 2200);
    }
  } finally {
    hang.close();
  }
});

/** The CLI probe (short cut first, as in production), with no PREFLIGHT_* variables. */
function cliCommand(args: string[]): Deno.Command {
  const [cmd, ...pre] = preflightArgv();
  return new Deno.Command(cmd, {
    args: [...pre, "probe", ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs {@linkcode cliCommand} to the end. */
async function cliProbe(
  args: string[],
): Promise<{ code: number; stderr: string; ms: number }> {
  const t0 = performance.now();
  const out = await cliCommand(args).output();
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    ms: performance.now() - t0,
  };
}

Deno.test("probe through the CLI: a silent peer with no options still ends within the default deadline, with exit 1 and the full probe's message", async () => {
  await using silent = startFaultServer("silent");
  const r = await cliProbe([`http://127.0.0.1:${silent.port}/health`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^unhealthy: http:\/\/127\.0\.0\.1:\d+\/health: no answer/,
  );
  // 3 s deadline shared by the short cut and the full probe, not 3 s each.
  assert(r.ms < DEFAULT_PROBE_TIMEOUT_MS + 2500, `took ${r.ms} ms`);
});

Deno.test("probe through the CLI: SIGTERM ends it at once with exit 1 (probe answers 0 or 1 only)", async () => {
  await using silent = startFaultServer("silent");
  const child = cliCommand([`http://127.0.0.1:${silent.port}/health`])
    .spawn();
  // Once the full probe is running (its connection is the second, after
  // the short cut's), stop it.
  await silent.acceptedAtLeast(2);
  const stoppedAt = performance.now();
  child.kill("SIGTERM");
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /probe: stopped by SIGTERM/);
  // At once, not at the 3 s deadline (more than 2.5 s away).
  const ms = performance.now() - stoppedAt;
  assert(ms < 2000, `exited ${ms} ms after SIGTERM`);
});

Deno.test("probe through the CLI: when the short cut declines, the message is the full probe's own, target by target", async () => {
  await using silent = startFaultServer("silent");
  const busy = scripted(["HTTP/1.1 503 Busy\r\n\r\n"]);
  const fine = scripted(["HTTP/1.1 200 OK\r\n\r\n"]);
  const refused = closedPort();
  try {
    const url = (port: number) => `http://127.0.0.1:${port}/health`;
    // An answer, a refusal and a healthy target keep their own outcome next
    // to a silent one; only the silent one ran out of time.
    const r = await cliProbe([
      url(busy.port),
      url(silent.port),
      url(refused),
      url(fine.port),
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`:${busy.port}/health: HTTP 503`));
    assert.match(
      r.stderr,
      new RegExp(`:${refused}/health: connection refused`),
    );
    assert.match(r.stderr, new RegExp(`:${silent.port}/health: no answer`));
    assert.doesNotMatch(r.stderr, new RegExp(`:${fine.port}/`));
  } finally {
    busy.close();
    fine.close();
  }
});

Deno.test("probe through the CLI: slow answers get the full probe's verdict within the one deadline", async () => {
  // 503 after 1 s: reported as such, not as "no answer".
  const slowBusy = scripted(["HTTP/1.1 503 Busy\r\n\r\n"], "close", 1000);
  // A status line cut short by a close, after 1.8 s: the full probe reads
  // it as an answer (the short cut does not), so the probe is healthy.
  const slowCut = scripted(["HTTP/1.1 200 OK\r\n"], "close", 1800);
  try {
    let r = await cliProbe([`http://127.0.0.1:${slowBusy.port}/health`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /: HTTP 503 from /);
    r = await cliProbe([`http://127.0.0.1:${slowCut.port}/health`]);
    assert.equal(r.code, 0, r.stderr);
    assert(r.ms < DEFAULT_PROBE_TIMEOUT_MS + 2500, `took ${r.ms} ms`);
  } finally {
    slowBusy.close();
    slowCut.close();
  }
});
