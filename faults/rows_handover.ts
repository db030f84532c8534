/**
 * Rows of the hand-over: an app (or migration command) that is missing or
 * not executable, in exec and supervise mode, and the watchdog stopping an
 * app whose health URL fails.
 */
import { freePort } from "../tests/_servers.ts";
import { check, type FaultRow, lastLine } from "./fault_row.ts";
import { PreflightProcess } from "./preflight_process.ts";
import { observe } from "./observe.ts";

const SPAWN_RULE =
  '"App not found: exit 127; not executable: exit 126; both with a message." Exit codes: "126 / 127: the app or migration command is not executable / not found".';

interface SpawnCase {
  id: string;
  scenario: string;
  code: 126 | 127;
  supervise?: boolean;
  /** The app; a path inside the temp dir when `file`. */
  app?: string;
  migrate?: string;
}

function spawnRow(c: SpawnCase): FaultRow {
  return {
    id: c.id,
    group: "Hand-over",
    scenario: c.scenario,
    expected:
      `Exit ${c.code} with a message naming the command; nothing else runs.`,
    rule: SPAWN_RULE,
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        // A script without the x bit: the "not executable" case.
        await Deno.writeTextFile(`${dir}/app`, "#!/bin/sh\necho ran\n");
        await Deno.chmod(`${dir}/app`, 0o644);
        const app = (c.app ?? "true").replace("$DIR", dir);
        const named = app.split("/").at(-1)!;
        const args = [
          "run",
          "--no-wait",
          ...(c.migrate ? [] : ["--no-migrate"]),
          ...(c.supervise ? ["--supervise"] : []),
          "--",
          app,
        ];
        await using p = new PreflightProcess(args, {
          env: c.migrate ? { MIGRATE_CMD: c.migrate } : {},
        });
        const exit = await p.exited;
        const name = c.migrate ? c.migrate.split(" ")[0] : named;
        return observe(p, exit, {
          keyLine: lastLine(
            p.stderr,
            new RegExp(name.replace(/[.-]/g, "\\$&")),
          ),
          checks: [
            check(`exit ${c.code}`, exit.code === c.code),
            check(`message names '${name}'`, p.stderr.includes(name)),
            check("the app did not run", !p.stdout.includes("ran")),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

function watchdogRow(): FaultRow {
  return {
    id: "watchdog-trip",
    group: "Hand-over",
    scenario:
      "Watchdog: the app's health URL answers 200 three times, then 503 (interval 300 ms, 2 failures)",
    expected:
      "After 2 consecutive failures the app is stopped (it gets SIGTERM and records it) and preflight exits 1, so a restart policy restarts the container.",
    rule:
      '"--watchdog URL (supervise only): [...] after --watchdog-failures (3) consecutive failures the app is stopped as above and preflight exits 1"',
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const app = `${dir}/app.py`;
        await Deno.writeTextFile(
          app,
          `import http.server, signal, sys
port = int(sys.argv[1]); n = [0]
def stop(*_):
    open(sys.argv[2], "w").write("stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n[0] += 1
        self.send_response(200 if n[0] <= 3 else 503); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
`,
        );
        const port = freePort();
        await using p = new PreflightProcess([
          "run",
          "--no-wait",
          "--no-migrate",
          "--watchdog",
          `http://127.0.0.1:${port}/health`,
          "--watchdog-interval",
          "300ms",
          "--watchdog-failures",
          "2",
          "--",
          "/usr/bin/python3",
          app,
          String(port),
          `${dir}/stopped`,
        ]);
        const exit = await p.exited;
        const stopped = await Deno.readTextFile(`${dir}/stopped`).catch(() =>
          ""
        );
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Watchdog: .* times in a row/),
          checks: [
            check("exit 1", exit.code === 1),
            check(
              "logged the trip",
              /Watchdog: .* failed 2 times in a row; stopping the app/.test(
                p.stderr,
              ),
            ),
            check("the app got SIGTERM and stopped", stopped === "stopped"),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Every hand-over row. */
export function handOverRows(): FaultRow[] {
  return [
    spawnRow({
      id: "app-not-found",
      scenario: "App not found on PATH (exec hand-over)",
      code: 127,
      app: "no-such-app-7d1e",
    }),
    spawnRow({
      id: "app-not-found-supervise",
      scenario: "App not found on PATH (--supervise)",
      code: 127,
      app: "no-such-app-7d1e",
      supervise: true,
    }),
    spawnRow({
      id: "app-not-executable",
      scenario: "App is a file without the execute bit (exec hand-over)",
      code: 126,
      app: "$DIR/app",
    }),
    spawnRow({
      id: "app-not-executable-supervise",
      scenario: "App is a file without the execute bit (--supervise)",
      code: 126,
      app: "$DIR/app",
      supervise: true,
    }),
    spawnRow({
      id: "migrate-cmd-not-found",
      scenario:
        "Migration command not found (MIGRATE_CMD=no-such-migrator-5c2a up)",
      code: 127,
      migrate: "no-such-migrator-5c2a up",
    }),
    watchdogRow(),
  ];
}
