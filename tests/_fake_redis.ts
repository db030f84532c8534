/**
 * A fake Redis for the replies a real server cannot give on demand
 * (`-LOADING`, `-BUSY`, `-MASTERDOWN`): used by the Redis check's tests and
 * the fault matrix, which say so where they use it.
 */
/** One character per byte, so lengths in bytes are lengths in characters. */
const dec = new TextDecoder("latin1");

/**
 * Reads one client command (an array of bulk strings, as every client
 * sends them) from the start of `text`: the words and the rest, or
 * undefined until it is complete.
 */
export function takeCommand(
  text: string,
): { cmd: string[]; rest: string } | undefined {
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return undefined;
  let at = head[0].length;
  const cmd: string[] = [];
  for (let i = 0; i < Number(head[1]); i++) {
    const len = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!len) return undefined;
    at += len[0].length;
    if (text.length < at + Number(len[1]) + 2) return undefined;
    cmd.push(text.slice(at, at + Number(len[1])));
    at += Number(len[1]) + 2;
  }
  return { cmd, rest: text.slice(at) };
}

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
    let pending = "";
    const buf = new Uint8Array(4096);
    const enc = new TextEncoder();
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        pending += dec.decode(buf.subarray(0, n), { stream: true });
        for (let c = takeCommand(pending); c; c = takeCommand(pending)) {
          pending = c.rest;
          seen.push(c.cmd);
          await conn.write(enc.encode(reply(c.cmd)));
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
