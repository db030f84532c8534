/**
 * Maps a URL scheme to the module that checks it. Modules are imported on
 * demand, so a command loads only the checks its targets need (`probe` of an
 * HTTP URL never loads the PostgreSQL client). A new kind of target is one
 * file and one line here.
 */
import type { Check, CheckFactory, CheckOptions } from "./check.ts";
import type { Scheme, Target } from "./target.ts";

const loaders: Record<Scheme, () => Promise<CheckFactory>> = {
  tcp: () => import("./tcp.ts").then((m) => m.tcpCheck),
  postgres: () => import("./postgres.ts").then((m) => m.postgresCheck),
  redis: () => import("./redis.ts").then((m) => m.redisCheck),
  rediss: () => import("./redis.ts").then((m) => m.redisCheck),
  http: () => import("./http.ts").then((m) => m.httpCheck),
  https: () => import("./http.ts").then((m) => m.httpCheck),
};

/** Builds the check for a target, loading its module on first use. */
export async function createCheck(
  target: Target,
  options: CheckOptions,
): Promise<Check> {
  const factory = await loaders[target.scheme]();
  return factory(target, options);
}
