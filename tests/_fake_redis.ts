/**
 * A fake Redis for the replies a real server cannot give on demand
 * (`-LOADING`, `-BUSY`, `-MASTERDOWN`): used by the Redis check's tests and
 * the fault matrix, which say so where they use it.
 */
import { RespParser, type RespValue } from "../src/checks/resp.ts";

/**
 * A fake Redis on 127.0.0.1: answers each command with the raw RESP that
 * `reply` returns for it (e.g. "-LOADING ...\r\n").
 */
export function startFakeRedis(reply: (cmd: string[]) => string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  const seen: string[][] = [];
  const tasks = new Set<Promise<void>>();
  const serve = async (conn: Deno.Conn) => {
    const parser = new RespParser();
    const buf = new Uint8Array(4096);
    const enc = new TextEncoder();
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        parser.feed(buf.subarray(0, n));
        for (let v = parser.next(); v !== undefined; v = parser.next()) {
          const cmd = (v as RespValue[]).map(String);
          seen.push(cmd);
          await conn.write(enc.encode(reply(cmd)));
        }
      }
    } catch {
      /* closed */
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const t = serve(conn);
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
    } catch { /* listener closed */ }
  })();
  return {
    port,
    seen,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await loop;
      await Promise.all([...tasks]);
    },
  };
}
