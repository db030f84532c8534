import assert from "node:assert/strict";
import { SpawnError } from "../errors.ts";
import { resolveCommand } from "./resolve_command.ts";

async function withDir(fn: (dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function spawnCode(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SpawnError, `expected SpawnError, got ${e}`);
    return { code: e.code, message: e.message };
  }
  assert.fail("expected a SpawnError");
}

const ignoreOnWindows = Deno.build.os === "windows";

Deno.test({
  name: "resolveCommand finds a program on PATH like execvp",
  ignore: ignoreOnWindows,
  fn: () =>
    withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/app`, "#!/bin/sh\n");
      await Deno.chmod(`${dir}/app`, 0o755);
      assert.equal(
        resolveCommand("app", { PATH: `/nonexistent:${dir}` }),
        `${dir}/app`,
      );
    }),
});

Deno.test({
  name: "resolveCommand skips a non-executable match and finds a later one",
  ignore: ignoreOnWindows,
  fn: () =>
    withDir(async (dir) => {
      await Deno.mkdir(`${dir}/a`);
      await Deno.mkdir(`${dir}/b`);
      await Deno.writeTextFile(`${dir}/a/app`, "#!/bin/sh\n");
      await Deno.writeTextFile(`${dir}/b/app`, "#!/bin/sh\n");
      await Deno.chmod(`${dir}/b/app`, 0o755);
      assert.equal(
        resolveCommand("app", { PATH: `${dir}/a:${dir}/b` }),
        `${dir}/b/app`,
      );
    }),
});

Deno.test({
  name: "resolveCommand skips a directory on PATH and finds a later program",
  ignore: ignoreOnWindows,
  fn: () =>
    withDir(async (dir) => {
      await Deno.mkdir(`${dir}/a/app`, { recursive: true });
      await Deno.mkdir(`${dir}/b`);
      await Deno.writeTextFile(`${dir}/b/app`, "#!/bin/sh\n");
      await Deno.chmod(`${dir}/b/app`, 0o755);
      assert.equal(
        resolveCommand("app", { PATH: `${dir}/a:${dir}/b` }),
        `${dir}/b/app`,
      );
    }),
});

Deno.test({
  name: "resolveCommand uses a name with a slash as is, without PATH",
  ignore: ignoreOnWindows,
  fn: () => {
    assert.equal(
      resolveCommand("/bin/sh", { PATH: "/nonexistent" }),
      "/bin/sh",
    );
    const { code, message } = spawnCode(() =>
      resolveCommand("./no-such-app", { PATH: "/bin" })
    );
    assert.equal(code, 127);
    assert.equal(message, "Command not found: './no-such-app'");
  },
});

Deno.test({
  name: "resolveCommand searches /bin:/usr/bin when PATH is unset",
  ignore: ignoreOnWindows,
  fn: () => {
    assert.match(resolveCommand("sh", {}), /^\/(usr\/)?bin\/sh$/);
  },
});

Deno.test("resolveCommand reports a missing program with 127", () => {
  const { code, message } = spawnCode(() =>
    resolveCommand("no-such-app-x1", { PATH: "/bin:/usr/bin" })
  );
  assert.equal(code, 127);
  assert.equal(message, "Command not found: 'no-such-app-x1'");
  assert.equal(spawnCode(() => resolveCommand("", {})).code, 127);
});

Deno.test({
  name: "resolveCommand reports a file without execute permission with 126",
  ignore: ignoreOnWindows,
  fn: () =>
    withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/app`, "echo hi\n");
      await Deno.chmod(`${dir}/app`, 0o644);
      const onPath = spawnCode(() => resolveCommand("app", { PATH: dir }));
      assert.equal(onPath.code, 126);
      assert.match(
        onPath.message,
        /^Command not executable: 'app' \(.*\/app\) /,
      );
      assert.equal(
        spawnCode(() => resolveCommand(`${dir}/app`, {})).code,
        126,
      );
    }),
});

Deno.test({
  name: "resolveCommand reports a directory with 126",
  ignore: ignoreOnWindows,
  fn: () =>
    withDir(async (dir) => {
      await Deno.mkdir(`${dir}/app`);
      const direct = spawnCode(() => resolveCommand(`${dir}/app`, {}));
      assert.equal(direct.code, 126);
      assert.match(direct.message, /is a directory$/);
      assert.equal(
        spawnCode(() => resolveCommand("app", { PATH: dir })).code,
        126,
      );
    }),
});
