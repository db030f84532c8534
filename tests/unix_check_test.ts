/**
 * The Unix socket check against real sockets in a temp directory: a
 * listener, no socket yet (then one appears while the check polls), a
 * socket nobody listens on, and paths that are not sockets.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as unix } from "../src/checks/unix.ts";
import { runPreflight, startPreflight } from "./_cli.ts";

async function attempt(
  path: string,
  timeoutMs = 5000,
): Promise<Error | undefined> {
  try {
    await unix.check(unix.parse(`unix://${path}`, "test"), {}).check(
      AbortSignal.timeout(timeoutMs),
    );
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-unix-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("unix check is ready when a listener accepts, and doctor reports the socket's mode and owner", () =>
  withDir(async (dir) => {
    const path = `${dir}/app.sock`;
    using listener = Deno.listen({ transport: "unix", path });
    const accepted = listener.accept().then((c) => c.close());
    assert.equal(await attempt(path), undefined);
    await accepted;
    const facts = await unix.facts!(
      unix.parse(`unix://${path}`, "t"),
      AbortSignal.timeout(5000),
    );
    const info = await Deno.stat(path);
    assert.equal(
      facts.data.mode,
      (info.mode! & 0o7777).toString(8).padStart(4, "0"),
    );
    assert.equal(facts.data.uid, info.uid);
    assert.match(
      facts.summary,
      /^accepts connections \(mode \d{4}, owner \d+:\d+\)$/,
    );
  }));

Deno.test("unix check: a listener that never calls accept() is ready (the kernel queues the connection; nothing is sent)", () =>
  withDir(async (dir) => {
    const path = `${dir}/quiet.sock`;
    using _listener = Deno.listen({ transport: "unix", path });
    assert.equal(await attempt(path), undefined);
  }));

Deno.test("unix check: no socket yet is not ready; it becomes ready once a server creates it", () =>
  withDir(async (dir) => {
    const path = `${dir}/later.sock`;
    const first = await attempt(path);
    assert.ok(first instanceof NotReadyError, String(first));
    assert.equal(first.message, `no socket at ${path} (yet)`);
    const check = unix.check(unix.parse(`unix://${path}`, "t"), {});
    let listener: Deno.Listener | undefined;
    try {
      // Poll as the wait loop would; the server appears after the first miss.
      for (let i = 0; i < 500; i++) {
        try {
          await check.check(AbortSignal.timeout(2000));
          break;
        } catch (e) {
          assert.ok(e instanceof NotReadyError);
          listener ??= Deno.listen({ transport: "unix", path });
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(listener, "the check passed before the socket existed?");
      assert.equal(await attempt(path), undefined);
    } finally {
      listener?.close();
    }
  }));

Deno.test("unix check: a socket nobody listens on (left by a stopped server) is not ready", () =>
  withDir(async (dir) => {
    const path = `${dir}/stale.sock`;
    // Bound but never listening, then gone: what a crashed server leaves.
    // (A Deno listener removes its file on close, so Python makes this one.)
    const out = await new Deno.Command("python3", {
      args: [
        "-c",
        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
        path,
      ],
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.ok((await Deno.stat(path)).isSocket);
    const e = await attempt(path);
    assert.ok(e instanceof NotReadyError, String(e));
    assert.match(e.message, /^nothing accepts connections on .*stale\.sock/);
  }));

Deno.test("unix check: a path that is not a socket is permanent", () =>
  withDir(async (dir) => {
    const file = `${dir}/file.txt`;
    await Deno.writeTextFile(file, "not a socket");
    const cases: [string, RegExp][] = [
      [file, /file\.txt is a regular file, not a socket$/],
      [dir, /is a directory, not a socket$/],
      [
        `${file}/app.sock`,
        /cannot be a socket: a parent in the path is not a directory/,
      ],
    ];
    for (const [path, pattern] of cases) {
      const e = await attempt(path);
      assert.ok(e instanceof PermanentError, `${path}: ${e}`);
      assert.match(e.message, pattern);
    }
  }));

Deno.test("wait and probe of unix:// through the CLI: no socket yet is not ready, then ready once a server listens; a path that is not a socket fails at once (exit 1)", () =>
  withDir(async (dir) => {
    const path = `${dir}/app.sock`;
    const down = await runPreflight(["probe", `unix://${path}`]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /no socket at .*app\.sock \(yet\)/);

    await using waiting = startPreflight([
      "wait",
      "--timeout",
      "30s",
      "--log-level",
      "debug",
      `unix://${path}`,
      "--",
      "true",
    ]);
    await waiting.waitForStderr(/not ready: no socket at/);
    using _listener = Deno.listen({ transport: "unix", path });
    const up = await waiting.result;
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /✓ unix:\/\/.*app\.sock is ready/);
    const healthy = await runPreflight(["probe", `unix://${path}`]);
    assert.deepEqual([healthy.code, healthy.stderr], [0, ""]);

    const file = `${dir}/not-a-socket`;
    await Deno.writeTextFile(file, "");
    const failed = await runPreflight([
      "wait",
      "--timeout",
      "60s",
      `unix://${file}`,
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /not-a-socket is a regular file, not a socket/);
    const probed = await runPreflight(["probe", `unix://${file}`]);
    assert.equal(probed.code, 1, probed.stderr);
  }));
