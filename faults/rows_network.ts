/**
 * Rows of the wait step against real servers and misbehaving peers:
 * transient faults (refused, accept-then-close, silent, slow, a name that
 * does not resolve yet, a standby, a restart, Redis LOADING, an interim HTTP
 * 103) are retried until the deadline or skipped; permanent ones (TLS, Redis
 * DENIED) end the wait at once.
 */
import {
  closedPort,
  createCertificateAuthority,
  type FaultKind,
  startFaultServer,
  startPostgres,
} from "../tests/_servers.ts";
import { startRedis } from "../tests/_redis.ts";
import { check, type FaultRow, firstLine, secs } from "./fault_row.ts";
import { PreflightProcess, sleep } from "./preflight_process.ts";
import { observe, targetLine, targetState } from "./observe.ts";
import { newSecret } from "./secrets.ts";
import { hostsEntry, uniqueHostName } from "./hosts_entry.ts";
import { startLoadingRedis } from "./fake_redis.ts";

/** Budget of rows that must run into the deadline. */
const SHORT_BUDGET_MS = 3000;
/** Slack past the budget for startup and the last attempt (2 noisy cores). */
const GRACE_MS = 8000;
/** A permanent error must end a 60 s wait long before its budget. */
const PERMANENT_WITHIN_MS = 15_000;

const TRANSIENT_RULE =
  '"A host name that does not resolve yet, a refused or reset connection, a timeout and ‘starting up’ are transient: retried until the deadline." `wait`: "Default --on-timeout here is fail (exit 124)."';

const PERMANENT_RULE =
  '"A wrong password, an unknown database or user, or a TLS certificate error is permanent: the wait for that target ends at once with the server\'s own message [...] instead of burning the whole budget."';

function budgetChecks(ms: number) {
  return [
    check(
      `ran into the ${secs(SHORT_BUDGET_MS)} budget (exit after >= ${
        secs(SHORT_BUDGET_MS)
      })`,
      ms >= SHORT_BUDGET_MS,
    ),
    check(
      `did not hang past it (exit within ${secs(SHORT_BUDGET_MS + GRACE_MS)})`,
      ms <= SHORT_BUDGET_MS + GRACE_MS,
    ),
  ];
}

/** Each URL's wait ended as `state`. */
function statesAre(stderr: string, urls: string[], state: string) {
  return urls.map((u) => {
    const got = targetState(stderr, u);
    return check(
      `${u.split(":")[0]}:// target: ${state} (saw: ${got})`,
      got === state,
    );
  });
}

function refusedRow(): FaultRow {
  return {
    id: "net-refused",
    group: "Wait: transient faults",
    scenario: "Connection refused (nothing listens), for every kind of target",
    expected:
      "Every target stays not ready (connection refused) and is retried until the 3 s budget runs out; then exit 124.",
    rule: TRANSIENT_RULE,
    async run() {
      const port = closedPort();
      const pw = newSecret();
      const urls = [
        `tcp://127.0.0.1:${port}`,
        `postgres://127.0.0.1:${port}`,
        `postgres://postgres:${pw}@127.0.0.1:${port}/app`,
        `redis://127.0.0.1:${port}`,
        `http://127.0.0.1:${port}/health`,
      ];
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        "3s",
        ...urls,
      ]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[2]),
        checks: [
          check("exit 124", exit.code === 124),
          ...budgetChecks(exit.ms),
          ...statesAre(p.stderr, urls, "timeout"),
          check("reason names the refusal", /refused/.test(p.stderr)),
        ],
      });
    },
  };
}

function refusedThenUpRow(): FaultRow {
  return {
    id: "net-refused-then-up",
    group: "Wait: transient faults",
    scenario:
      "Connection refused, then PostgreSQL starts 2.5 s into the wait (pg_isready-level and login targets)",
    expected:
      "Not ready while refused; ready once the server accepts logins; exit 0, never before the server started.",
    rule: TRANSIENT_RULE +
      ' Targets: `postgres://USER:PASS@...` is ready when "login succeeds and SELECT 1 returns".',
    async run() {
      const pw = newSecret();
      const delayMs = 2500;
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        startDelayMs: delayMs,
      });
      const startsAt = performance.now() + delayMs;
      let readyAt = 0;
      pg.ready.then(() => readyAt = performance.now(), () => {});
      const urls = [pg.url(), pg.url("postgres", pw, "postgres")];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "60s",
        ...urls,
      ]);
      const exit = await p.exited;
      const exitAt = p.startedAt + exit.ms;
      await pg.ready.catch(() => {});
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[1]),
        checks: [
          check("exit 0", exit.code === 0),
          check("saw the refusal first", /refused/.test(p.stderr)),
          check(
            "ready only after the server started",
            exitAt >= startsAt,
          ),
          ...statesAre(p.stderr, urls, "ready"),
        ],
        notes: [
          `exit ${
            Math.round(exitAt - readyAt)
          } ms after pg_ctl reported the server ready (negative: preflight saw it first)`,
        ],
      });
    },
  };
}

function faultPeerRow(
  kind: FaultKind,
  id: string,
  scenario: string,
  what: string,
): FaultRow {
  return {
    id,
    group: "Wait: transient faults",
    scenario,
    expected:
      `postgres:// (both levels), redis:// and http:// are never ready (${what}) and are retried until the 3 s budget ends: exit 124, no hang past the deadline. tcp:// is ready (a TCP connection is all it asks).`,
    rule: TRANSIENT_RULE +
      ' Targets: `tcp://` "ready when a TCP connection is established"; `postgres://HOST:PORT` only when "the server answers a startup packet as accepting connections".',
    async run() {
      await using peer = startFaultServer(kind);
      const port = peer.port;
      const pw = newSecret();
      const notReady = [
        `postgres://127.0.0.1:${port}`,
        `postgres://postgres:${pw}@127.0.0.1:${port}/app`,
        `redis://127.0.0.1:${port}`,
        `http://127.0.0.1:${port}/health`,
      ];
      const tcp = `tcp://127.0.0.1:${port}`;
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        "3s",
        ...notReady,
        tcp,
      ]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, notReady[1]),
        checks: [
          check("exit 124", exit.code === 124),
          ...budgetChecks(exit.ms),
          ...statesAre(p.stderr, notReady, "timeout"),
          check("tcp:// target: ready", targetState(p.stderr, tcp) === "ready"),
        ],
        notes: [`the fault server accepted ${peer.accepted} connections`],
      });
    },
  };
}

function dnsRow(): FaultRow {
  return {
    id: "net-dns-late",
    group: "Wait: transient faults",
    scenario:
      "Host name not resolvable at first; a line for it is added to /etc/hosts 1 s after preflight reported it",
    expected:
      "Not ready while the name does not resolve; ready (exit 0) once it resolves, never before.",
    rule: TRANSIENT_RULE,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({ auth: "scram", password: pw });
      const name = uniqueHostName();
      using entry = hostsEntry(name, "127.0.0.1");
      const urls = [
        `tcp://${name}:${pg.port}`,
        `postgres://${name}:${pg.port}`,
        `postgres://postgres:${pw}@${name}:${pg.port}/postgres`,
      ];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "60s",
        ...urls,
      ]);
      await p.waitFor("does not resolve");
      await sleep(1000);
      const stillWaiting = !p.done;
      const addedAt = performance.now();
      entry.add();
      const exit = await p.exited;
      entry.remove();
      const hostsClean = !Deno.readTextFileSync("/etc/hosts").includes(name);
      const lag = Math.round(p.startedAt + exit.ms - addedAt);
      return observe(p, exit, {
        keyLine: firstLine(p.stderr, /does not resolve/),
        checks: [
          check("exit 0", exit.code === 0),
          check(
            "still waiting when the name was added",
            stillWaiting,
          ),
          ...statesAre(p.stderr, urls, "ready"),
          check("/etc/hosts entry removed", hostsClean),
        ],
        notes: [
          `name ${name}; ready ${lag} ms after the /etc/hosts line was added`,
          ...(lag > 2000
            ? [
              "the lag is the resolver, not the wait loop: on this machine a getaddrinfo of a missing name occasionally takes the resolver's 5 s timeout (the sandbox DNS server drops one of concurrent queries; reproduced with node:dns outside preflight), and an attempt in flight then runs into its 5 s attempt timeout before the next one finds the new line",
            ]
            : []),
        ],
      });
    },
  };
}

function standbyRow(): FaultRow {
  return {
    id: "net-standby-promote",
    group: "Wait: transient faults",
    scenario:
      "PostgreSQL standby answering 57P03 (not accepting connections), promoted 2.5 s into the wait",
    expected:
      "Both the pg_isready-level and the login target stay not ready while 57P03 is answered, and become ready after the promotion: exit 0, never before it.",
    rule:
      '"`postgres://HOST:PORT`: the server answers a startup packet as accepting connections, like pg_isready: ‘the database system is starting up’ and similar are not ready"; login target: "login succeeds and SELECT 1 returns".',
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        standby: true,
      });
      const urls = [pg.url(), pg.url("postgres", pw, "postgres")];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "60s",
        ...urls,
      ]);
      await p.waitFor(/not ready: /);
      await sleep(2500);
      const stillWaiting = !p.done;
      const promotedAt = performance.now();
      await pg.promote();
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: firstLine(p.stderr, /not ready: /),
        checks: [
          check("exit 0", exit.code === 0),
          check("still waiting 2.5 s into the standby", stillWaiting),
          check(
            "ready only after the promotion began",
            p.startedAt + exit.ms >= promotedAt,
          ),
          ...statesAre(p.stderr, urls, "ready"),
        ],
      });
    },
  };
}

function restartRow(): FaultRow {
  return {
    id: "net-db-restarted",
    group: "Wait: transient faults",
    scenario:
      "Database crashed (pg_ctl -m immediate) just before the wait and restarted (with crash recovery) 1.5 s into it; login target",
    expected:
      "Not ready while down (refused) and while recovering; ready once it is back: exit 0.",
    rule: TRANSIENT_RULE,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        database: "app",
      });
      await new Deno.Command("runuser", {
        args: [
          "-u",
          "postgres",
          "--",
          "/usr/lib/postgresql/15/bin/pg_ctl",
          "-D",
          pg.dataDir,
          "-m",
          "immediate",
          "-w",
          "stop",
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      const urls = [pg.url("postgres", pw, "app"), pg.url()];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "60s",
        ...urls,
      ]);
      await p.waitFor(/refused/);
      await sleep(1500);
      const stillWaiting = !p.done;
      const restartAt = performance.now();
      await pg.start();
      const exit = await p.exited;
      const serverLog = await pg.log();
      return observe(p, exit, {
        keyLine: firstLine(p.stderr, /refused/),
        checks: [
          check("exit 0", exit.code === 0),
          check("still waiting while the server was down", stillWaiting),
          check(
            "ready only after the restart began",
            p.startedAt + exit.ms >= restartAt,
          ),
          ...statesAre(p.stderr, urls, "ready"),
        ],
        notes: [
          /automatic recovery|not properly shut down/.test(serverLog)
            ? "the server ran crash recovery on restart"
            : "the server log shows no crash recovery",
          /starting up|recovery/i.test(p.stderr)
            ? `preflight saw: ${firstLine(p.stderr, /starting up|recovery/i)}`
            : "preflight did not catch the server in its starting-up state (recovery was quick)",
        ],
      });
    },
  };
}

function redisLoadingRow(): FaultRow {
  return {
    id: "net-redis-loading",
    group: "Wait: transient faults",
    scenario:
      "Redis answering -LOADING for 2 s (FAKE: an in-process RESP server; a real Redis cannot be held in LOADING reliably), then PONG",
    expected:
      "Not ready while LOADING is answered; ready afterwards: exit 0, after the LOADING period.",
    rule:
      '"`redis://`: AUTH (when given) and PING succeed; a LOADING reply is *not ready*"',
    async run() {
      const loadingMs = 2000;
      await using fake = startLoadingRedis(loadingMs);
      const url = `redis://127.0.0.1:${fake.port}`;
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "30s",
        url,
      ]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: firstLine(p.stderr, /LOADING/),
        checks: [
          check("exit 0", exit.code === 0),
          check("LOADING was answered at least once", fake.loadingReplies > 0),
          check("logged LOADING as the reason", /LOADING/.test(p.stderr)),
          check(
            "ready only after the LOADING period",
            exit.ms >= loadingMs,
          ),
          check(
            "redis:// target: ready",
            targetState(p.stderr, url) === "ready",
          ),
        ],
        notes: [
          `${fake.loadingReplies} LOADING replies, then ${fake.normalReplies} normal ones`,
        ],
      });
    },
  };
}

interface TlsCase {
  id: string;
  scenario: string;
  expected: string;
  rule: string;
  tls: boolean;
  /** sslmode and sslrootcert: "right", "wrong" or none. */
  params: { sslmode: string; ca?: "right" | "wrong" };
  ready: boolean;
  message?: RegExp;
}

function tlsRow(c: TlsCase): FaultRow {
  return {
    id: c.id,
    group: "Wait: TLS",
    scenario: c.scenario,
    expected: c.expected,
    rule: c.rule,
    async run() {
      const pw = newSecret();
      await using pg = await startPostgres({
        auth: "scram",
        password: pw,
        tls: c.tls,
      });
      await using wrongCa = await createCertificateAuthority();
      const params: Record<string, string> = { sslmode: c.params.sslmode };
      if (c.params.ca === "right") params.sslrootcert = pg.caFile!;
      if (c.params.ca === "wrong") params.sslrootcert = wrongCa.certFile;
      const url = pg.url("postgres", pw, "postgres", params);
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        c.ready ? "30s" : "60s",
        url,
      ]);
      const exit = await p.exited;
      const state = targetState(p.stderr, url);
      const checks = c.ready
        ? [
          check("exit 0", exit.code === 0),
          check(`target ready (saw: ${state})`, state === "ready"),
        ]
        : [
          check("exit 1 (a permanent failure)", exit.code === 1),
          check(
            `target failed permanently (saw: ${state})`,
            state === "failed",
          ),
          check(
            `ended long before the 60 s budget (within ${
              secs(PERMANENT_WITHIN_MS)
            })`,
            exit.ms < PERMANENT_WITHIN_MS,
          ),
          check(`message matches ${c.message}`, c.message!.test(p.stderr)),
        ];
      return observe(p, exit, { keyLine: targetLine(p.stderr, url), checks });
    },
  };
}

function redissWrongCaRow(): FaultRow {
  return {
    id: "tls-rediss-wrong-ca",
    group: "Wait: TLS",
    scenario:
      "rediss:// against a TLS Redis, with a CA that did not sign its certificate",
    expected:
      "Permanent certificate error at once: exit 1 long before the 60 s budget, with a message about the certificate.",
    rule: PERMANENT_RULE,
    async run() {
      await using redis = await startRedis({ tls: true });
      await using wrongCa = await createCertificateAuthority();
      const url = `rediss://127.0.0.1:${redis.port}?cacert=${
        encodeURIComponent(wrongCa.certFile)
      }`;
      const right = redis.url();
      await using ok = new PreflightProcess([
        "wait",
        "--timeout",
        "30s",
        right,
      ]);
      const okExit = await ok.exited;
      await using p = new PreflightProcess(["wait", "--timeout", "60s", url]);
      const exit = await p.exited;
      const state = targetState(p.stderr, url);
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, url),
        checks: [
          check(
            "control: the same server with the right CA is ready (exit 0)",
            okExit.code === 0,
          ),
          check("exit 1 (a permanent failure)", exit.code === 1),
          check(
            `target failed permanently (saw: ${state})`,
            state === "failed",
          ),
          check(
            `ended long before the 60 s budget (within ${
              secs(PERMANENT_WITHIN_MS)
            })`,
            exit.ms < PERMANENT_WITHIN_MS,
          ),
          check("message about the certificate", /certificate/i.test(p.stderr)),
        ],
        extraLog:
          `control (right CA): exit ${okExit.code}\n${ok.stderr.trim()}`,
      });
    },
  };
}

function httpEarlyHintsRow(): FaultRow {
  return {
    id: "http-103-early-hints",
    group: "Wait: transient faults",
    scenario:
      "HTTP server answering 103 Early Hints, then 200 OK (scripted peer on loopback, separate TCP writes)",
    expected: "The interim 103 is skipped; the final 200 decides: exit 0.",
    rule:
      '"http://...: a GET answers with a 2xx status [...]; interim 1xx responses are skipped"',
    async run() {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const serving = (async () => {
        for await (const conn of listener) {
          (async () => {
            try {
              await conn.read(new Uint8Array(4096));
              const enc = new TextEncoder();
              await conn.write(enc.encode(
                "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n",
              ));
              await conn.write(
                enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
              );
            } catch {
              /* the client went away */
            } finally {
              conn.close();
            }
          })();
        }
      })().catch(() => {});
      try {
        const url = `http://127.0.0.1:${listener.addr.port}/health`;
        await using p = new PreflightProcess([
          "wait",
          "--timeout",
          "10s",
          url,
        ]);
        const exit = await p.exited;
        return observe(p, exit, {
          keyLine: targetLine(p.stderr, url),
          checks: [
            check("exit 0", exit.code === 0),
            check("ready", targetState(p.stderr, url) === "ready"),
            check("never reported as HTTP 103", !/HTTP 103/.test(p.stderr)),
          ],
        });
      } finally {
        listener.close();
        await serving;
      }
    },
  };
}

function redisDeniedRow(): FaultRow {
  const script = [
    "ip link set lo up",
    "ip addr add 10.200.0.1/32 dev lo",
    "redis-server --port 6379 --save '' --appendonly no --protected-mode yes --loglevel warning >/dev/null 2>&1 &",
    "until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do sleep 0.05; done",
    '"$@"',
  ].join("\n");
  return {
    id: "redis-denied-protected-mode",
    group: "Wait: permanent failures",
    scenario:
      "Real Redis in protected mode (no password, client not on loopback: 10.200.0.1 in a network namespace of its own) answers DENIED",
    expected:
      "Permanent at once, like NOAUTH: exit non-zero long before the 60 s budget, with the server's DENIED message.",
    rule: '"A Redis DENIED (protected mode) is permanent, like NOAUTH."',
    async run() {
      const url = "redis://10.200.0.1:6379";
      await using p = new PreflightProcess(["wait", "--timeout", "60s", url], {
        wrapper: {
          // A PID namespace too, so Redis dies with it.
          argv: [
            "unshare",
            "--net",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "/bin/sh",
            "-c",
            script,
            "sh",
          ],
          shown:
            "(unshare --net: redis-server --protected-mode yes on 10.200.0.1)",
        },
        limitMs: 90_000,
      });
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, url),
        checks: [
          check("exit non-zero", exit.code !== 0),
          check(
            `at once (within ${
              PERMANENT_WITHIN_MS / 1000
            } s of the 60 s budget)`,
            exit.ms < PERMANENT_WITHIN_MS,
          ),
          check(
            "failed, not timed out",
            targetState(p.stderr, url) === "failed",
          ),
          check(
            "with the server's DENIED message",
            /DENIED Redis is running in protected mode/.test(p.stderr),
          ),
        ],
      });
    },
  };
}

/** Every wait-step row. */
export function networkRows(): FaultRow[] {
  const tlsRule =
    '"TLS (sslmode=require, verify-full, rediss://, https://) works against real servers."';
  return [
    refusedRow(),
    refusedThenUpRow(),
    faultPeerRow(
      "accept-close",
      "net-accept-close",
      "Accept-then-close peer (a Docker proxy with nothing behind it)",
      "closed before any answer",
    ),
    faultPeerRow(
      "silent",
      "net-silent",
      "Silent peer: accepts, reads, never answers",
      "no answer",
    ),
    faultPeerRow(
      "slow",
      "net-slow",
      "Slow peer: trickles a PostgreSQL error one byte a second, never completes it",
      "an answer that never completes",
    ),
    dnsRow(),
    standbyRow(),
    restartRow(),
    redisLoadingRow(),
    httpEarlyHintsRow(),
    tlsRow({
      id: "tls-require",
      scenario: "sslmode=require against a PostgreSQL serving TLS",
      expected: "Ready over TLS: exit 0.",
      rule: tlsRule,
      tls: true,
      params: { sslmode: "require" },
      ready: true,
    }),
    tlsRow({
      id: "tls-verify-full",
      scenario:
        "sslmode=verify-full with the CA that signed the server certificate (host 127.0.0.1 in its SAN)",
      expected: "Ready: exit 0.",
      rule: tlsRule,
      tls: true,
      params: { sslmode: "verify-full", ca: "right" },
      ready: true,
    }),
    tlsRow({
      id: "tls-verify-full-wrong-ca",
      scenario:
        "sslmode=verify-full with a CA that did not sign the server certificate",
      expected:
        "Permanent error at once: exit 1 long before the 60 s budget, with a message about the certificate.",
      rule: PERMANENT_RULE,
      tls: true,
      params: { sslmode: "verify-full", ca: "wrong" },
      ready: false,
      message: /certificate/i,
    }),
    tlsRow({
      id: "tls-require-no-tls",
      scenario: "sslmode=require against a PostgreSQL without TLS",
      expected:
        "Permanent error at once (the server will never offer TLS): exit 1 long before the 60 s budget, saying the server does not support TLS/SSL.",
      rule: PERMANENT_RULE +
        " (sslmode=require demands TLS the server cannot give)",
      tls: false,
      params: { sslmode: "require" },
      ready: false,
      message: /SSL|TLS/,
    }),
    redissWrongCaRow(),
    redisDeniedRow(),
  ];
}
