/**
 * A fake Redis for the one row a real server cannot give reliably: it
 * answers every command with `-LOADING` for a while (as a real Redis does
 * while it loads a large dataset into memory), then `+PONG` / `+OK`.
 */
import { startFakeRedis } from "../tests/_fake_redis.ts";

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

  const fake = startFakeRedis(reply);
  return {
    port: fake.port,
    get loadingReplies() {
      return loadingReplies;
    },
    get normalReplies() {
      return normalReplies;
    },
    [Symbol.asyncDispose]: () => fake[Symbol.asyncDispose](),
  };
}
