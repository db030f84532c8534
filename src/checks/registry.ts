/**
 * Maps a URL scheme to the module that checks it. Modules are imported on
 * demand, so a command loads only the checks its targets need (`probe` of an
 * HTTP URL never loads the PostgreSQL client). A new kind of target is one
 * file and one line here.
 */
import type { Check, CheckFactory, CheckOptions } from "./check.ts";
import type { Scheme, Target } from "./target.ts";
import { importLazily, type LazyModule } from "../lazy.ts";

/** Each scheme's module and the factory it exports. */
const MODULES: Record<Scheme, [path: LazyModule, factory: string]> = {
  tcp: ["checks/tcp.ts", "tcpCheck"],
  postgres: ["checks/postgres.ts", "postgresCheck"],
  redis: ["checks/redis.ts", "redisCheck"],
  rediss: ["checks/redis.ts", "redisCheck"],
  http: ["checks/http.ts", "httpCheck"],
  https: ["checks/http.ts", "httpCheck"],
};

/** Loads a scheme's module (see src/lazy.ts: not loaded ahead of time). */
async function loadFactory(scheme: Scheme): Promise<CheckFactory> {
  const [path, name] = MODULES[scheme];
  const module = await importLazily<Record<string, CheckFactory>>(path);
  return module[name];
}

/** Builds the check for a target, loading its module on first use. */
export async function createCheck(
  target: Target,
  options: CheckOptions,
): Promise<Check> {
  const factory = await loadFactory(target.scheme);
  return factory(target, options);
}
