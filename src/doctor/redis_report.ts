/**
 * The Redis lines of `doctor`: reachable (connect, `AUTH`, `SELECT`), `PING`
 * round trip, server version (`INFO server`), and the pending tasks of each
 * Celery queue. Celery's Redis transport keeps a queue in a list named after
 * it, plus one list per priority step (`NAME\x06\x163`, `\x06\x166`,
 * `\x06\x169`); the count is their total `LLEN`.
 */
import { connectRedis, type RedisSession } from "../checks/redis_session.ts";
import { RespErrorReply, type RespValue } from "../checks/resp.ts";
import { hostPort } from "../checks/target.ts";
import { type CheckLine, line } from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";
import { boundedStep } from "./bounded_step.ts";

/** Kombu's priority separator and the steps above 0 (priority 0 is the plain list). */
const PRIORITY_SEP = "\x06\x16";
const PRIORITY_STEPS = [3, 6, 9];

/** The Redis keys holding a Celery queue's pending messages. */
export function queueKeys(queue: string): string[] {
  return [queue, ...PRIORITY_STEPS.map((p) => `${queue}${PRIORITY_SEP}${p}`)];
}

/** `redis_version` (or `valkey_version`) from an `INFO server` reply. */
export function infoVersion(info: string): string | undefined {
  const m = /^(?:redis|valkey)_version:([^\r\n]+)/m.exec(info);
  return m?.[1].trim();
}

class ReplyError extends Error {}

function expectType<T extends RespValue>(
  reply: RespValue,
  what: string,
  ok: (v: RespValue) => v is T,
): T {
  if (reply instanceof RespErrorReply) {
    throw new ReplyError(`${what}: ${reply.message}`);
  }
  if (!ok(reply)) {
    throw new ReplyError(
      `${what}: unexpected reply ${JSON.stringify(reply).slice(0, 80)}`,
    );
  }
  return reply;
}

const isString = (v: RespValue): v is string => typeof v === "string";
const isNumber = (v: RespValue): v is number => typeof v === "number";

/** The Redis lines, in order: reachable, ping, version, one queue line per queue. */
export async function redisReport(
  plan: DoctorPlan,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const target = plan.redis;
  const id = target?.id ?? null;
  const rest = (why: string) => [
    line("redis", "ping", "skip", why, { target: id }),
    line("redis", "version", "skip", why, { target: id }),
    ...plan.queues.map((q) =>
      line("redis", "queue", "skip", why, { target: id, subject: q })
    ),
  ];
  if (!target) {
    return [
      line("redis", "reachable", "skip", "REDIS_URL is not set"),
      ...rest("REDIS_URL is not set"),
    ];
  }
  const ms = plan.timeoutMs;
  const where = hostPort(target);
  const conn = await boundedStep(
    ms,
    signal,
    (s) => connectRedis(target, s),
    where,
  );
  if (conn.value === undefined) {
    return [
      line("redis", "reachable", "fail", conn.error ?? "no connection", {
        target: id,
        latency_ms: conn.ms,
      }),
      ...rest("not reachable"),
    ];
  }
  const session: RedisSession = conn.value;
  try {
    const lines: CheckLine[] = [
      line("redis", "reachable", "pass", `${where} accepts connections`, {
        target: id,
        latency_ms: conn.ms,
      }),
    ];
    const ping = await boundedStep(
      ms,
      signal,
      async (s) =>
        expectType(await session.conn.command(["PING"], s), "PING", isString),
      where,
    );
    if (ping.value !== "PONG") {
      lines.push(
        line(
          "redis",
          "ping",
          "fail",
          ping.error ?? `PING answered '${ping.value}'`,
          {
            target: id,
            latency_ms: ping.ms,
          },
        ),
        ...rest("PING failed").slice(1),
      );
      return lines;
    }
    lines.push(
      line("redis", "ping", "pass", "PONG", {
        target: id,
        latency_ms: ping.ms,
        value: "PONG",
      }),
    );
    const info = await boundedStep(ms, signal, async (s) =>
      expectType(
        await session.conn.command(["INFO", "server"], s),
        "INFO server",
        isString,
      ), where);
    const version = info.value !== undefined
      ? infoVersion(info.value)
      : undefined;
    lines.push(
      version !== undefined
        ? line("redis", "version", "pass", `Redis ${version}`, {
          target: id,
          value: version,
        })
        : line(
          "redis",
          "version",
          "fail",
          info.error ?? "INFO server has no redis_version",
          {
            target: id,
          },
        ),
    );
    for (const queue of plan.queues) {
      const count = await boundedStep(ms, signal, async (s) => {
        let total = 0;
        for (const key of queueKeys(queue)) {
          total += expectType(
            await session.conn.command(["LLEN", key], s),
            `LLEN ${key.replaceAll(PRIORITY_SEP, "\\x06\\x16")}`,
            isNumber,
          );
        }
        return total;
      }, where);
      lines.push(
        count.value !== undefined
          ? line("redis", "queue", "pass", `${count.value} pending`, {
            target: id,
            subject: queue,
            value: count.value,
          })
          : line("redis", "queue", "fail", count.error ?? "no answer", {
            target: id,
            subject: queue,
          }),
      );
    }
    return lines;
  } finally {
    session.conn.close();
  }
}
