/**
 * Rows of the hand-over: an app (or migration command) that is missing or
 * not executable (a binary for another CPU architecture included), in exec
 * and supervise mode; arguments and variables that are not UTF-8; the
 * watchdog stopping an app whose health URL fails, and sparing one that is
 * still starting.
 */
import { freePort } from "../tests/_servers.ts";
import { preflightArgv } from "../tests/_cli.ts";
import { check, type FaultRow, lastLine, tail } from "./fault_row.ts";
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

const FORMAT_RULE =
  '"A binary for another CPU architecture is ‘not executable’ (126, saying so); only a file with neither an ELF header nor #! runs with /bin/sh."';

/** A copy of /bin/true whose ELF header names a CPU this machine is not. */
async function foreignBinary(dir: string): Promise<string> {
  const elf = await Deno.readFile("/bin/true");
  // e_machine (2 bytes at offset 18): aarch64 on x86_64, x86_64 elsewhere.
  new DataView(elf.buffer).setUint16(
    18,
    Deno.build.arch === "x86_64" ? 183 : 62,
    true,
  );
  const path = `${dir}/true-foreign`;
  await Deno.writeFile(path, elf, { mode: 0o755 });
  return path;
}

function execFormatRow(
  id: string,
  where: "exec" | "supervise" | "migration",
): FaultRow {
  return {
    id,
    group: "Hand-over",
    scenario:
      `A binary for another CPU architecture (/bin/true with a patched ELF e_machine) as the ${
        where === "migration" ? "migration command" : `app (${where})`
      }`,
    expected:
      "Exit 126 with 'exec format error (built for another CPU architecture?)'; never run through /bin/sh (no 'Syntax error'); nothing after it runs.",
    rule: FORMAT_RULE,
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const foreign = await foreignBinary(dir);
        const args = where === "migration"
          ? ["run", "--no-wait", "--", "touch", `${dir}/app-ran`]
          : [
            "run",
            "--no-wait",
            "--no-migrate",
            ...(where === "supervise" ? ["--supervise"] : []),
            "--",
            foreign,
          ];
        await using p = new PreflightProcess(args, {
          env: where === "migration" ? { MIGRATE_CMD: foreign } : {},
        });
        const exit = await p.exited;
        const appRan = await Deno.stat(`${dir}/app-ran`).then(
          () => true,
          () => false,
        );
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /exec format error|Syntax error/),
          checks: [
            check("exit 126", exit.code === 126),
            check(
              "says 'exec format error (built for another CPU architecture?)'",
              p.stderr.includes(
                "exec format error (built for another CPU architecture?)",
              ),
            ),
            check("not run through /bin/sh", !/Syntax error/.test(p.stderr)),
            check("the app did not run", !appRan),
          ],
        });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

const BYTES_RULE =
  '"Arguments and environment reach the app byte for byte, including values and names that are not valid UTF-8."';

const hex = (b: Uint8Array) =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

function bytesRow(
  id: string,
  where: "exec" | "supervise" | "migration",
): FaultRow {
  return {
    id,
    group: "Hand-over",
    scenario: `Non-UTF-8 bytes: LATIN=caf\\xe9, a variable named N\\xffAME${
      where === "migration" ? "" : ", an argument arg\\xff"
    } (${
      where === "migration" ? "the migration command" : `${where} hand-over`
    }; preflight started by Python's os.execvpe, as Deno.Command cannot)`,
    expected:
      "The child reports every byte as given: the Latin-1 value, the odd name, the argument; no U+FFFD replacement anywhere.",
    rule: BYTES_RULE,
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const report =
          new URL("../tests/fixtures/report_bytes.py", import.meta.url)
            .pathname;
        const launcher =
          new URL("../tests/fixtures/exec_bytes.py", import.meta.url)
            .pathname;
        const enc = new TextEncoder();
        const latin = new Uint8Array([...enc.encode("caf"), 0xe9]);
        const oddName = new Uint8Array([0x4e, 0xff, ...enc.encode("AME")]);
        const oddArg = new Uint8Array([...enc.encode("arg"), 0xff]);
        const words = where === "migration"
          ? ["migrate", "--no-migrate-lock"]
          : [
            "run",
            "--no-wait",
            "--no-migrate",
            ...(where === "supervise" ? ["--supervise"] : []),
            "--",
            "/usr/bin/python3",
            report,
          ];
        const argv = [
          ...[...preflightArgv(), ...words].map((w) => enc.encode(w)),
          ...(where === "migration" ? [] : [oddArg]),
        ];
        const env: [Uint8Array, Uint8Array][] = [
          [
            enc.encode("PATH"),
            enc.encode(Deno.env.get("PATH") ?? "/usr/bin:/bin"),
          ],
          [enc.encode("NO_COLOR"), enc.encode("1")],
          [enc.encode("LATIN"), latin],
          [oddName, enc.encode("x")],
          [enc.encode("REPORT_TO"), enc.encode(`${dir}/report.json`)],
          ...(where === "migration"
            ? [
              [
                enc.encode("MIGRATE_CMD"),
                enc.encode(`/usr/bin/python3 ${report}`),
              ] as [
                Uint8Array,
                Uint8Array,
              ],
            ]
            : []),
        ];
        const spec = JSON.stringify({
          argv: argv.map(hex),
          env: env.map(([k, v]) => [hex(k), hex(v)]),
        });
        const t0 = performance.now();
        const out = await new Deno.Command("/usr/bin/python3", {
          args: [launcher, spec],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const ms = performance.now() - t0;
        const stderr = new TextDecoder().decode(out.stderr);
        const got = JSON.parse(
          await Deno.readTextFile(`${dir}/report.json`).catch(() =>
            '{"argv":[],"env":[]}'
          ),
        ) as { argv: string[]; env: [string, string][] };
        const envGot = new Map(got.env);
        const lossy = got.env.some(([k, v]) =>
          k.includes("efbfbd") || v.includes("efbfbd")
        ) || got.argv.some((a) =>
          a.includes("efbfbd")
        );
        const checks = [
          check(`exit 0 (saw ${out.code})`, out.code === 0),
          check(
            "LATIN arrived as caf\\xe9",
            envGot.get(hex(enc.encode("LATIN"))) === hex(latin),
          ),
          check(
            "N\\xffAME arrived with its name",
            envGot.get(hex(oddName)) === "78",
          ),
          check("no U+FFFD replacement anywhere", !lossy),
        ];
        if (where !== "migration") {
          checks.push(
            check(
              "the argument arrived as arg\\xff",
              got.argv[0] === hex(oddArg),
            ),
          );
        }
        return {
          command: `env 'LATIN=caf\\xe9' 'N\\xffAME=x' preflight ${
            words.join(" ")
          }${where === "migration" ? "" : " 'arg\\xff'"}`,
          code: out.code,
          ms,
          msLabel: "spawn to exit",
          keyLine: `LATIN=${
            envGot.get(hex(enc.encode("LATIN"))) ?? "missing"
          } (hex)`,
          checks,
          log: `the child reported (hex): argv ${
            JSON.stringify(got.argv)
          }\nstderr:\n${tail(stderr, 6)}`,
        };
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

function watchdogStartPeriodRow(): FaultRow {
  return {
    id: "watchdog-start-period",
    group: "Hand-over",
    scenario:
      "Watchdog on an app that listens only after 3 s (interval 300 ms, 2 failures, default 60 s start period), healthy 3 times, then 503",
    expected:
      "The refused checks of the start period do not count: the app lives to listen and serve; then 2 consecutive 503s stop it and preflight exits 1.",
    rule:
      '"As Docker\'s start_period: until the first passing check, failures within --watchdog-start-period (60 s) do not count."',
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const app = `${dir}/app.py`;
        await Deno.writeTextFile(
          app,
          `import http.server, signal, sys, time
port = int(sys.argv[1]); log = open(sys.argv[2], "a", buffering=1); n = [0]
def stop(*_):
    log.write("stopped\\n"); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
time.sleep(3)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n[0] += 1
        log.write("200\\n" if n[0] <= 3 else "503\\n")
        self.send_response(200 if n[0] <= 3 else 503); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", port), H)
log.write("listening\\n")
server.serve_forever()
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
          `${dir}/log`,
        ]);
        const exit = await p.exited;
        const log = (await Deno.readTextFile(`${dir}/log`).catch(() => ""))
          .trim().split("\n");
        const uncounted = p.stderr.split("\n").filter((l) =>
          /start period: not counted/.test(l)
        )
          .length;
        return observe(p, exit, {
          keyLine: lastLine(p.stderr, /Watchdog: .* times in a row/),
          checks: [
            check("exit 1", exit.code === 1),
            check(
              `refused checks of the start period not counted (saw ${uncounted})`,
              uncounted >= 2,
            ),
            check(
              "the app lived to listen and answer 200 three times",
              log.slice(0, 4).join(",") === "listening,200,200,200",
            ),
            check(
              "stopped after two 503s in a row",
              log.filter((l) =>
                    l === "503"
                  ).length === 2 &&
                log.includes("stopped"),
            ),
          ],
          notes: [`the app's log: ${log.join(", ")}`],
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
    execFormatRow("app-exec-format", "exec"),
    execFormatRow("app-exec-format-supervise", "supervise"),
    execFormatRow("migrate-exec-format", "migration"),
    bytesRow("app-bytes-exec", "exec"),
    bytesRow("app-bytes-supervise", "supervise"),
    bytesRow("migrate-bytes", "migration"),
    watchdogRow(),
    watchdogStartPeriodRow(),
  ];
}
