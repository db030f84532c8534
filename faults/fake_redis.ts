/**
 * A fake Redis for the one row a real server cannot give reliably: it
 * answers every command with `-LOADING` for a while (as a real Redis does
 * while it loads a large dataset into memory), then `+PONG` / `+OK`.
 */
import { RespParser, type RespValue } from "../src/checks/resp.ts";

/** A fake Redis listening on 127.0.0.1. */
export interface LoadingRedis extends AsyncDisposable {
  readonly port: number;
  /** LOADING replies sent so far. */
  readonly loadingReplies: number;
  /** Commands answered normally so far. */
  readonly normalReplies: number;
}

/** Starts the fake; it is "loading" for `loadingMs` after the first connection. */
export function startLoadingRedis(loadingMs: number): LoadingRedis {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const enc = new TextEncoder();
  let loadingUntil: number | undefined;
  let loadingReplies = 0;
  let normalReplies = 0;

  const reply = (cmd: string[]): string => {
    loadingUntil ??= performance.now() + loadingMs;
    if (performance.now() < loadingUntil) {
      loadingReplies++;
      return "-LOADING Redis is loading the dataset in memory\r\n";
    }
    normalReplies++;
    return cmd[0]?.toUpperCase() === "PING" ? "+PONG\r\n" : "+OK\r\n";
  };

  const serve = async (conn: Deno.Conn) => {
    const parser = new RespParser();
    const buf = new Uint8Array(4096);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        parser.feed(buf.subarray(0, n));
        for (let v = parser.next(); v !== undefined; v = parser.next()) {
          const cmd = (v as RespValue[]).map(String);
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
    get loadingReplies() {
      return loadingReplies;
    },
    get normalReplies() {
      return normalReplies;
    },
    async [Symbol.asyncDispose]() {
      try {
        listener.close();
      } catch { /* already closed */ }
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
