/**
 * scripts/restart-backend.sh and scripts/restart-backend.ps1, the old restart
 * helper's interface over `preflight restart backend`. The shell wrapper runs
 * for real against tests/fixtures/docker-standin/docker, the stand-in for the
 * `docker` CLI that tests/restart_test.ts uses (no Docker engine here); its
 * calls log shows what the wrapper made preflight ask Docker for. PowerShell
 * is not installed here: the .ps1 runs only where `pwsh` is, and otherwise
 * its option names are checked against preflight's parser.
 */
import assert from "node:assert/strict";
import { parseArgs } from "../src/cli/parse_args.ts";
import { preflightArgv } from "./_cli.ts";
import { closedPort } from "./_servers.ts";

const ROOT = new URL("../", import.meta.url);
const STANDIN_DIR =
  new URL("./fixtures/docker-standin/", import.meta.url).pathname;
const SH = new URL("scripts/restart-backend.sh", ROOT).pathname;
const PS1 = new URL("scripts/restart-backend.ps1", ROOT).pathname;
const SYSTEM_PATH = "/usr/bin:/bin";

interface Setup extends AsyncDisposable {
  /** A directory holding only a `preflight` shim (the binary as tests run it). */
  readonly bin: string;
  readonly cwd: string;
  calls(): Promise<string[]>;
  env(extra?: Record<string, string>): Record<string, string>;
}

async function setup(scenario = ""): Promise<Setup> {
  const state = await Deno.makeTempDir({ prefix: "preflight-wrapper-docker-" });
  const bin = await Deno.makeTempDir({ prefix: "preflight-wrapper-bin-" });
  const cwd = await Deno.makeTempDir({ prefix: "preflight-wrapper-cwd-" });
  await Deno.writeTextFile(`${state}/scenario`, scenario);
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  await Deno.writeTextFile(
    `${bin}/preflight`,
    `#!/bin/sh\nexec ${preflightArgv().map(q).join(" ")} "$@"\n`,
    { mode: 0o755 },
  );
  return {
    bin,
    cwd,
    calls: async () =>
      (await Deno.readTextFile(`${state}/calls.log`).catch(() => ""))
        .split("\n").filter(Boolean),
    env: (extra = {}) => ({
      PATH: `${STANDIN_DIR}:${bin}:${SYSTEM_PATH}`,
      HOME: Deno.env.get("HOME") ?? "/root",
      NO_COLOR: "1",
      DOCKER_STANDIN_STATE: state,
      // Nothing listens there: the doctor summary after the restart fails fast.
      DB_HOST: "127.0.0.1",
      DB_PORT: String(closedPort()),
      PORT: String(closedPort()),
      ...extra,
    }),
    async [Symbol.asyncDispose]() {
      for (const d of [state, bin, cwd]) {
        await Deno.remove(d, { recursive: true });
      }
    },
  };
}

async function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(file, {
    args,
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 90_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

const restarted = (calls: string[]) =>
  calls.some((c) => /^compose( .*)? restart backend$/.test(c));
const logsCall = (calls: string[]) =>
  calls.find((c) => /^compose( .*)? logs .*backend$/.test(c));

Deno.test("restart-backend.sh --tail-lines N restarts the backend through preflight, waits until healthy and shows N log lines since the restart", async () => {
  await using s = await setup("HEALTHY_AFTER=2\n");
  const r = await run(SH, ["--tail-lines", "7"], s.env(), s.cwd);
  assert(r.code === 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const calls = await s.calls();
  assert(restarted(calls), calls.join("\n"));
  assert(/ --tail 7 backend$/.test(logsCall(calls) ?? ""), calls.join("\n"));
  assert(r.stderr.includes("backend is healthy after the restart"), r.stderr);
  assert(r.stdout.includes("Application startup complete."), r.stdout);
  assert(!r.stdout.includes("before the restart"), r.stdout);
});

Deno.test("restart-backend.sh --no-logs does not ask for the log; --logs (the old default) shows the default 50 lines", async () => {
  {
    await using s = await setup("HEALTHY_AFTER=1\n");
    const r = await run(SH, ["--no-logs"], s.env(), s.cwd);
    assert(r.code === 0, `exit ${r.code}\n${r.stderr}`);
    const calls = await s.calls();
    assert(restarted(calls), calls.join("\n"));
    assert(logsCall(calls) === undefined, calls.join("\n"));
    assert(!r.stdout.includes("Application startup complete."), r.stdout);
  }
  {
    await using s = await setup("HEALTHY_AFTER=1\n");
    const r = await run(SH, ["--logs"], s.env(), s.cwd);
    assert(r.code === 0, `exit ${r.code}\n${r.stderr}`);
    assert(
      / --tail 50 backend$/.test(logsCall(await s.calls()) ?? ""),
      (await s.calls()).join("\n"),
    );
  }
});

Deno.test("restart-backend.sh passes other options through and keeps preflight's exit codes (1 not healthy in time, 2 invalid option)", async () => {
  {
    await using s = await setup("HEALTHY_AFTER=never\n");
    const r = await run(
      SH,
      [
        "--timeout",
        "2s",
        "-f",
        `${s.cwd}/compose.yml`,
        "--project-directory",
        s.cwd,
      ],
      s.env(),
      s.cwd,
    );
    assert(r.code === 1, `exit ${r.code}\n${r.stderr}`);
    const calls = await s.calls();
    assert(
      calls.includes(
        `compose -f ${s.cwd}/compose.yml --project-directory ${s.cwd} restart backend`,
      ),
      calls.join("\n"),
    );
  }
  {
    await using s = await setup();
    const r = await run(SH, ["--tail-lines", "many"], s.env(), s.cwd);
    assert(r.code === 2, `exit ${r.code}\n${r.stderr}`);
    assert(r.stderr.includes("--tail-lines"), r.stderr);
    assert((await s.calls()).length === 0, "docker was called");
  }
});

Deno.test("restart-backend.sh finds preflight through PREFLIGHT_BIN, and says so when it finds none (exit 127)", async () => {
  await using s = await setup("HEALTHY_AFTER=1\n");
  const noPreflight = `${STANDIN_DIR}:${SYSTEM_PATH}`;
  let r = await run(SH, ["--no-logs"], {
    ...s.env(),
    PATH: noPreflight,
    PREFLIGHT_BIN: `${s.bin}/preflight`,
  }, s.cwd);
  assert(r.code === 0, `exit ${r.code}\n${r.stderr}`);
  assert(restarted(await s.calls()), (await s.calls()).join("\n"));

  r = await run(SH, [], { ...s.env(), PATH: noPreflight }, s.cwd);
  assert(r.code === 127, `exit ${r.code}\n${r.stderr}`);
  assert(/'preflight' not found.*PREFLIGHT_BIN/.test(r.stderr), r.stderr);
});

Deno.test("restart-backend.ps1 passes only options preflight restart accepts", () => {
  const text = Deno.readTextFileSync(PS1);
  const flags = [...text.matchAll(/'(--[a-z-]+)'/g)].map((m) => m[1]);
  for (const f of ["--no-logs", "--tail-lines", "--timeout"]) {
    assert(flags.includes(f), `restart-backend.ps1 does not pass ${f}`);
  }
  assert(/-not \$Logs -or \$NoLogs/.test(text), "-Logs:$false / -NoLogs");
  assert(/'restart', 'backend'/.test(text), "not preflight restart backend");
  const inv = parseArgs([
    "restart",
    "backend",
    ...flags.flatMap((f) => f === "--no-logs" ? [f] : [f, "1"]),
  ]);
  assert(inv.command === "restart", inv.command);
});

const hasPwsh = (() => {
  try {
    return new Deno.Command("pwsh", { args: ["-v"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "restart-backend.ps1 -TailLines N and -Logs:$false map to --tail-lines N and --no-logs",
  ignore: !hasPwsh,
  async fn() {
    {
      await using s = await setup("HEALTHY_AFTER=1\n");
      const r = await run(
        "pwsh",
        [
          "-NoProfile",
          "-File",
          PS1,
          "-TailLines",
          "7",
        ],
        s.env(),
        s.cwd,
      );
      assert(r.code === 0, `exit ${r.code}\n${r.stderr}`);
      assert(
        / --tail 7 backend$/.test(logsCall(await s.calls()) ?? ""),
        (await s.calls()).join("\n"),
      );
    }
    {
      await using s = await setup("HEALTHY_AFTER=1\n");
      const r = await run(
        "pwsh",
        [
          "-NoProfile",
          "-Command",
          `& '${PS1}' -Logs:$false`,
        ],
        s.env(),
        s.cwd,
      );
      assert(r.code === 0, `exit ${r.code}\n${r.stderr}`);
      assert(logsCall(await s.calls()) === undefined, "asked for the log");
    }
  },
});
