import assert from "node:assert/strict";
import { parseArgs } from "../cli/parse_args.ts";
import { resolveOptions } from "./resolve_options.ts";
import { ConfigError } from "../errors.ts";
import { OPTIONS } from "../cli/options.ts";

const resolve = (
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
) => resolveOptions(parseArgs(args), env, files);

Deno.test("precedence: a flag beats the variable, the variable beats an env file, an env file beats the default", () => {
  const file = {
    PREFLIGHT_TIMEOUT: "30s",
    PREFLIGHT_MIGRATE_ATTEMPTS: "4",
    PREFLIGHT_STOP_TIMEOUT: "7s",
  };
  const env = { PREFLIGHT_TIMEOUT: "20s", PREFLIGHT_MIGRATE_ATTEMPTS: "5" };
  const c = resolve(["run", "--timeout", "10s"], env, file);
  assert.equal(c.options.timeout, 10_000);
  assert.equal(c.sources.timeout, "--timeout");
  assert.equal(c.options.migrateAttempts, 5);
  assert.equal(c.sources.migrateAttempts, "PREFLIGHT_MIGRATE_ATTEMPTS");
  assert.equal(c.options.stopTimeout, 7_000);
  assert.equal(c.options.migrateDelay, 2_000);
  assert.equal(c.sources.migrateDelay, "default");
  // Env-file variables reach the app's environment; the process's win.
  assert.equal(c.env.PREFLIGHT_TIMEOUT, "20s");
  assert.equal(c.env.PREFLIGHT_STOP_TIMEOUT, "7s");
});

Deno.test("defaults follow the contract, per command", () => {
  const run = resolve([]).options;
  assert.equal(run.timeout, 60_000);
  assert.equal(run.onTimeout, "continue");
  assert.equal(run.migrateAttempts, 6);
  assert.equal(run.migrateDelay, 2_000);
  assert.equal(run.migrateMaxDelay, 64_000);
  assert.equal(run.onMigrateFailure, "continue");
  assert.equal(run.stopTimeout, 10_000);
  assert.equal(run.watchdogInterval, 10_000);
  assert.equal(run.watchdogFailures, 3);
  assert.equal(run.logPrefix, "[entrypoint] ");
  assert.equal(resolve(["wait", "tcp://a:1"]).options.onTimeout, "fail");
  assert.equal(resolve(["probe"]).options.timeout, 3_000);
  assert.deepEqual(resolve(["doctor"]).options.queue, ["celery"]);
});

Deno.test("lists accumulate over repeated flags and split on spaces and commas", () => {
  const c = resolve([
    "run",
    "--wait-for",
    "tcp://a:1 tcp://b:2",
    "--wait-for",
    "tcp://c:3,tcp://d:4",
  ]);
  assert.deepEqual(c.options.waitFor, [
    "tcp://a:1",
    "tcp://b:2",
    "tcp://c:3",
    "tcp://d:4",
  ]);
  assert.deepEqual(
    resolve([], { PREFLIGHT_WAIT_FOR: "tcp://a:1, tcp://b:2" }).options.waitFor,
    ["tcp://a:1", "tcp://b:2"],
  );
});

Deno.test("booleans from variables accept 1/0, true/false, yes/no, on/off", () => {
  for (const v of ["1", "true", "YES", "on"]) {
    assert.equal(resolve([], { PREFLIGHT_NO_WAIT: v }).options.noWait, true);
  }
  for (const v of ["0", "false", "no", "off", ""]) {
    assert.equal(resolve([], { PREFLIGHT_NO_WAIT: v }).options.noWait, false);
  }
});

Deno.test("http statuses accept lists and ranges", () => {
  assert.deepEqual(
    resolve(["probe", "--http-status", "200,204"]).options.httpStatus,
    [200, 204],
  );
  assert.equal(
    resolve(["probe", "--http-status", "200-399"]).options.httpStatus?.length,
    200,
  );
});

Deno.test("a variable of an option the command does not have is ignored, not an error", () => {
  // PREFLIGHT_MIGRATE_ATTEMPTS set for `run` must not break `probe` in the same container.
  const c = resolve(["probe"], { PREFLIGHT_MIGRATE_ATTEMPTS: "not-a-number" });
  assert.equal(c.options.migrateAttempts, undefined);
  assert.equal(c.sources.migrateAttempts, "n/a");
});

Deno.test("parseArgs: the command, options in both forms, positionals and the command after --", () => {
  const inv = parseArgs([
    "wait",
    "--timeout=5s",
    "tcp://a:1",
    "--attempt-timeout",
    "1s",
    "tcp://b:2",
    "--",
    "app",
    "--flag",
  ]);
  assert.equal(inv.command, "wait");
  assert.deepEqual(inv.flags.get("timeout"), ["5s"]);
  assert.deepEqual(inv.flags.get("attempt-timeout"), ["1s"]);
  assert.deepEqual(inv.positionals, ["tcp://a:1", "tcp://b:2"]);
  assert.deepEqual(inv.commandArgv, ["app", "--flag"]);
  assert.equal(parseArgs([]).command, "run");
  assert.equal(parseArgs(["--no-wait"]).command, "run");
  assert.equal(parseArgs(["--version"]).command, "version");
  assert.deepEqual(parseArgs(["run", "uvicorn", "--port", "1"]).commandArgv, [
    "uvicorn",
    "--port",
    "1",
  ]);
  assert.deepEqual(
    parseArgs(["restart", "-f", "a.yml", "-f", "b.yml", "worker"]).flags.get(
      "file",
    ),
    ["a.yml", "b.yml"],
  );
});

Deno.test("parseArgs rejects what it does not know with a ConfigError", () => {
  for (
    const args of [
      ["nope"],
      ["run", "--nope"],
      ["probe", "--migrate-cmd", "x"],
      ["doctor", "x"],
      ["migrate", "--", "x"],
      ["run", "--timeout"],
    ]
  ) {
    assert.throws(() => parseArgs(args), ConfigError, args.join(" "));
  }
});

Deno.test("every option's default parses for every command that has it", () => {
  for (
    const cmd of [
      "run",
      "wait",
      "migrate",
      "probe",
      "doctor",
      "restart",
    ] as const
  ) {
    const args = cmd === "wait" ? [cmd, "tcp://a:1"] : [cmd];
    const c = resolve(args);
    for (const o of OPTIONS.filter((o) => o.commands.includes(cmd))) {
      assert.ok(
        o.name.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase()) in
          c.options,
        o.name,
      );
    }
  }
});

Deno.test("--timeout 0 (or -t 0, or PREFLIGHT_TIMEOUT=0) is no deadline for run, wait and migrate; probe, doctor and restart reject it", () => {
  assert.equal(resolve(["run", "--timeout", "0"]).options.timeout, Infinity);
  assert.equal(resolve(["wait", "-t", "0", "x:1"]).options.timeout, Infinity);
  assert.equal(
    resolve(["migrate"], { PREFLIGHT_TIMEOUT: "0s" }).options.timeout,
    Infinity,
  );
  assert.equal(resolve(["wait", "-t", "5", "x:1"]).options.timeout, 5_000);
  for (const command of ["probe", "doctor", "restart"]) {
    assert.throws(
      () => resolve([command, "-t", "0"]),
      (e) =>
        e instanceof ConfigError &&
        /^Invalid --timeout '0': expected a duration greater than 0/.test(
          e.message,
        ),
    );
  }
});

Deno.test("the resolved options have one field per option of the table, by its camel-case name, for every command", () => {
  const camel = (name: string) =>
    name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const names = OPTIONS.map((o) => camel(o.name)).sort();
  for (const cmd of ["run", "wait", "migrate", "probe", "doctor", "restart"]) {
    const c = resolve([cmd]);
    assert.deepEqual(Object.keys(c.options).sort(), names, cmd);
    assert.ok(Object.isFrozen(c.options), cmd);
  }
});
