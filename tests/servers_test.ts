/**
 * The test harness itself (tests/_servers.ts): other tests trust it to start
 * what it says and to leave nothing behind.
 */
import assert from "node:assert/strict";
import { closedPort, startFaultServer, startPostgres } from "./_servers.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (e) {
    return (e as Error).name === "ConnectionRefused";
  }
}

Deno.test("startPostgres with startDelayMs refuses connections until it is ready, and cleanup removes everything", async () => {
  const pg = await startPostgres({ startDelayMs: 300, database: "app" });
  try {
    assert.ok(await refused(pg.port), "nothing listens before the delay");
    await pg.ready;
    assert.equal(await pg.psql("select current_database()", "app"), "app");
    assert.match(await pg.log(), /database system is ready/);
  } finally {
    await pg.cleanup();
  }
  assert.ok(await refused(pg.port), "the server is stopped");
  assert.ok(!(await exists(pg.dataDir)), "the data directory is removed");
  await pg.cleanup(); // idempotent
});

Deno.test("a closed port refuses connections", async () => {
  assert.ok(await refused(closedPort()));
});

Deno.test("fault servers misbehave as named", async () => {
  const read = async (conn: Deno.Conn, ms: number) => {
    const buf = new Uint8Array(256);
    const timer = setTimeout(() => conn.close(), ms);
    try {
      const n = await conn.read(buf);
      return n === null ? "eof" : buf.subarray(0, n);
    } catch {
      return "silence";
    } finally {
      clearTimeout(timer);
    }
  };
  const hello = new TextEncoder().encode("hello");
  {
    await using s = startFaultServer("accept-close");
    const conn = await Deno.connect({ port: s.port });
    const got = await read(conn, 2000);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
    assert.ok(got === "eof", `expected EOF, got ${got}`);
  }
  {
    await using s = startFaultServer("silent");
    const conn = await Deno.connect({ port: s.port });
    await conn.write(hello);
    assert.equal(await read(conn, 300), "silence");
  }
  {
    await using s = startFaultServer("garbage");
    const conn = await Deno.connect({ port: s.port });
    await conn.write(hello);
    const got = await read(conn, 2000);
    conn.close();
    assert.ok(got instanceof Uint8Array && got[0] === 0xff);
  }
  {
    await using s = startFaultServer("slow", {
      payload: new Uint8Array([1, 2]),
      intervalMs: 100,
    });
    const conn = await Deno.connect({ port: s.port });
    await conn.write(hello);
    const first = await read(conn, 2000);
    conn.close();
    assert.ok(first instanceof Uint8Array && first.length === 1);
    assert.equal(s.accepted, 1);
  }
});
