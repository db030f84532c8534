/**
 * Detection latency for MariaDB and RabbitMQ, side by side with a `nc -z`
 * loop once a second (how wait4x-style TCP polling behaves). Each trial
 * starts a fresh server (tests/_mariadb.ts, tests/_rabbitmq.ts) and one
 * waiter, which runs `date +%s.%N` once it thinks the server is ready:
 * - MariaDB, late start: nothing listens until `mariadbd` starts 1.5-3 s
 *   after the waiter; it then opens its port, loads its grants and runs its
 *   init file before it says "ready for connections" and greets clients;
 * - MariaDB, slow initialisation: the port is open from the start but the
 *   init file is held (the harness's gate) until 1.5-3 s after the waiter
 *   started: connections are accepted, no handshake comes;
 * - RabbitMQ, late start: the node starts 0-1 s after the waiter and boots
 *   for several seconds; its AMQP listener opens at the end of the boot.
 *
 * Reference moments: MariaDB's "ready for connections" line, as seen by the
 * bench (its log has whole seconds: bench/log_watch.ts); RabbitMQ's
 * "started TCP listener on 127.0.0.1:PORT" line (the node's own timestamp,
 * microseconds), the first moment its port accepts at all.
 */
import { mariaDbMissing, startMariaDb } from "../tests/_mariadb.ts";
import { rabbitMqMissing, startRabbitMq } from "../tests/_rabbitmq.ts";
import {
  type LogWatch,
  rabbitMqLineTime,
  secondsAgree,
  type SeenLine,
  watchLog,
} from "./log_watch.ts";
import {
  type Finished,
  parseEpoch,
  PREFLIGHT_DISPLAY,
  preflightRun,
  runCapture,
  sleep,
} from "./proc.ts";
import { STAMP, timing } from "./readiness.ts";
import { ncLoop, readyLogTime, type Waiter } from "./waiters.ts";

/** The servers measured. */
export type LateServer = "MariaDB" | "RabbitMQ";

/** One server and the way it comes up. */
export interface LateScenario {
  readonly server: LateServer;
  readonly name: "late start" | "slow initialisation";
  /** Why it cannot run here, or undefined. */
  readonly missing: () => string | undefined;
  /** The waiters, preflight's first. */
  readonly waiters: readonly Waiter[];
  readonly run: (waiter: Waiter) => Promise<LateTrial>;
}

/** One waiter against one fresh server. */
export interface LateTrial {
  readonly server: LateServer;
  readonly scenario: string;
  readonly waiter: string;
  /** Command start minus the reference line, ms (negative: early). */
  readonly latencyMs?: number;
  readonly early?: boolean;
  /** preflight only: its "is ready" log line minus the reference line, ms. */
  readonly detectMs?: number;
  /** preflight only: command start minus its "is ready" log line, ms. */
  readonly handOverMs?: number;
  /** The reference line, ms after the waiter started. */
  readonly readyAfterMs?: number;
  /**
   * How long the port accepted before the reference line, ms: MariaDB's
   * "Server socket created" to "ready for connections" (as seen), or for the
   * gated scenario from the waiter's start (the port was open already).
   * RabbitMQ: "Server startup complete" minus the listener line (positive:
   * the broker served connections before it said its start was complete).
   */
  readonly windowMs?: number;
  readonly error?: string;
}

const USER = "app";
const PASSWORD = "bench-secret";
const DATABASE = "app";

function randomDelay(min: number, max: number): number {
  return Math.round(min + Math.random() * (max - min));
}

/** `preflight wait --log-format json URL -- CMD`; `url` gets the port. */
function preflightKindWaiter(
  name: string,
  url: (port: number) => string,
): Waiter {
  return {
    name,
    argv: (port, cmd) => [
      ...preflightRun(),
      "wait",
      "--log-format",
      "json",
      url(port),
      "--",
      ...cmd,
    ],
    display: `${PREFLIGHT_DISPLAY} wait --log-format json ${
      url(0).replace(`:${PASSWORD}@`, ":***@").replace(":0", ":PORT")
    } -- CMD`,
    detectedAt: readyLogTime,
  };
}

/** Waiters against a MariaDB server: greeting, login, `nc -z` loop. */
export const mariaDbWaiters: readonly Waiter[] = [
  preflightKindWaiter("preflight", (port) => `mysql://127.0.0.1:${port}`),
  preflightKindWaiter(
    "preflight (login)",
    (port) => `mysql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
  ),
  ncLoop,
];

/** Waiters against a RabbitMQ node: Connection.Start, login, `nc -z` loop. */
export const rabbitMqWaiters: readonly Waiter[] = [
  preflightKindWaiter("preflight", (port) => `amqp://127.0.0.1:${port}`),
  preflightKindWaiter(
    "preflight (login)",
    (port) => `amqp://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
  ),
  ncLoop,
];

/** Latency, early start and preflight's split, from the command's output and the reference moment. */
function evaluate(
  base: Pick<LateTrial, "server" | "scenario" | "waiter">,
  waiter: Waiter,
  t0: number,
  out: Finished,
  ready: number | undefined,
  windowMs: number | undefined,
): LateTrial {
  const start = parseEpoch(out.stdout);
  const common = {
    ...base,
    readyAfterMs: ready === undefined ? undefined : ready - t0,
    windowMs,
  };
  return { ...common, ...timing(waiter, out, start, ready) };
}

const READY = /\[Note\] \S+: ready for connections\./;
const SOCKET = /\[Note\] Server socket created on IP:/;

/** MariaDB's ready line as seen, checked against the second it carries. */
async function mariaDbReady(
  watch: LogWatch,
): Promise<{ ready?: SeenLine; error?: string }> {
  const ready = await watch.until(READY, 10_000);
  if (!ready) return { error: "no 'ready for connections' line seen" };
  if (!secondsAgree(ready)) {
    return {
      error: `the ready line was seen at ${
        new Date(ready.seenAt).toISOString()
      }, outside its logged second: ${ready.text}`,
    };
  }
  return { ready };
}

/**
 * One MariaDB trial. `gated`: the server listens before the waiter starts
 * and its init file is released 1.5-3 s later; otherwise the server starts
 * 1.5-3 s after the waiter.
 */
async function mariaDbTrial(
  waiter: Waiter,
  gated: boolean,
): Promise<LateTrial> {
  const base = {
    server: "MariaDB" as const,
    scenario: gated ? "slow initialisation" : "late start",
    waiter: waiter.name,
  };
  const delayMs = randomDelay(1500, 3000);
  await using db = await startMariaDb({
    users: [{ name: USER, password: PASSWORD }],
    database: DATABASE,
    gated,
    deferStart: true,
  });
  // The server appends to its log: create it first, as its user, to watch it.
  const dir = db.dataDir.replace(/\/data$/, "");
  const logFile = `${dir}/error.log`;
  const owner = await Deno.stat(dir);
  await Deno.writeTextFile(logFile, "");
  await Deno.chown(logFile, owner.uid, owner.gid);
  using watch = watchLog(logFile);
  if (gated) await db.start(); // listening; the init file waits at the gate
  const port = db.port;
  const t0 = Date.now();
  const running = runCapture(waiter.argv(port, STAMP), {
    timeoutMs: delayMs + 30_000,
  });
  let failed: string | undefined;
  try {
    await sleep(delayMs);
    if (gated) await db.release();
    else await db.start();
    await db.ready;
  } catch (e) {
    failed = `the server did not start: ${(e as Error).message.split("\n")[0]}`;
  }
  const out = await running;
  if (failed) return { ...base, error: failed };
  if (db.port !== port) {
    return { ...base, error: "the server had to move to another port" };
  }
  const { ready, error } = await mariaDbReady(watch);
  if (error) return { ...base, error };
  const socket = watch.lines().find((l) => SOCKET.test(l.text));
  const opened = gated ? t0 : socket?.seenAt;
  return evaluate(
    base,
    waiter,
    t0,
    out,
    ready!.seenAt,
    opened === undefined ? undefined : ready!.seenAt - opened,
  );
}

/** Polls the node's log (written with a delay) until `patterns` all appear. */
async function untilLogged(
  log: () => Promise<string>,
  patterns: RegExp[],
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await log();
    if (patterns.every((p) => p.test(text)) || Date.now() > deadline) {
      return text;
    }
    await sleep(200);
  }
}

/** One RabbitMQ trial: the node starts 0-1 s after the waiter. */
async function rabbitMqTrial(waiter: Waiter): Promise<LateTrial> {
  const base = {
    server: "RabbitMQ" as const,
    scenario: "late start",
    waiter: waiter.name,
  };
  await using mq = await startRabbitMq({
    users: [{ name: USER, password: PASSWORD, vhosts: [DATABASE] }],
    vhosts: ["/", DATABASE],
    deferStart: true,
  });
  const t0 = Date.now();
  const running = runCapture(waiter.argv(mq.port, STAMP), {
    timeoutMs: 90_000,
  });
  await sleep(randomDelay(0, 1000));
  mq.start();
  let failed: string | undefined;
  try {
    await mq.ready;
  } catch (e) {
    failed = `the node did not start: ${(e as Error).message.split("\n")[0]}`;
  }
  const out = await running;
  if (failed) return { ...base, error: failed };
  const listener = new RegExp(
    `^(\\S+ \\S+) \\[info\\] \\S+ started TCP listener on 127\\.0\\.0\\.1:${mq.port}$`,
    "m",
  );
  const complete = /^(\S+ \S+) \[info\] \S+ Server startup complete/m;
  const text = await untilLogged(mq.log, [listener, complete], 15_000);
  const lineTime = (re: RegExp) => {
    const m = re.exec(text);
    return m ? rabbitMqLineTime(`${m[1]} `) : undefined;
  };
  const ready = lineTime(listener);
  const done = lineTime(complete);
  return evaluate(
    base,
    waiter,
    t0,
    out,
    ready,
    ready !== undefined && done !== undefined ? done - ready : undefined,
  );
}

/** The scenarios, in the order of the report. */
export const lateScenarios: readonly LateScenario[] = [
  {
    server: "MariaDB",
    name: "late start",
    missing: mariaDbMissing,
    waiters: mariaDbWaiters,
    run: (w) => mariaDbTrial(w, false),
  },
  {
    server: "MariaDB",
    name: "slow initialisation",
    missing: mariaDbMissing,
    waiters: mariaDbWaiters,
    run: (w) => mariaDbTrial(w, true),
  },
  {
    server: "RabbitMQ",
    name: "late start",
    missing: rabbitMqMissing,
    waiters: rabbitMqWaiters,
    run: rabbitMqTrial,
  },
];
