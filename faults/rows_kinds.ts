/**
 * Rows of the wait step for the kinds of issue 15, each against its real
 * server (MariaDB, RabbitMQ, dnsmasq, Unix sockets): not started yet,
 * accepting but silent, wrong credentials, ready.
 */
import { startFaultServer } from "../tests/_servers.ts";
import { mariaDbMissing, startMariaDb } from "../tests/_mariadb.ts";
import { rabbitMqMissing, startRabbitMq } from "../tests/_rabbitmq.ts";
import { dnsmasqMissing, startDnsmasq } from "../tests/_dnsmasq.ts";
import { check, type FaultRow, secs } from "./fault_row.ts";
import { PreflightProcess } from "./preflight_process.ts";
import { observe, targetLine, targetState } from "./observe.ts";
import { newSecret } from "./secrets.ts";

const GROUP = "Wait: MySQL, AMQP, DNS and Unix sockets";
/** Budget of rows that must run into the deadline. */
const SHORT_BUDGET_MS = 3000;
/** Slack past the budget for startup and the last attempt (2 noisy cores). */
const GRACE_MS = 8000;
/** A permanent error must end a 60 s wait long before its budget. */
const PERMANENT_WITHIN_MS = 15_000;

const TRANSIENT_RULE =
  'Targets: "a refused or reset connection, a timeout and ‘starting up’ are transient: retried until the deadline."';
const PERMANENT_RULE =
  '"A wrong password, an unknown database or user [...] is permanent: the wait for that target ends at once with the server\'s own message."';

/** Throws when the server a row needs cannot run here. */
function need(missing: string | undefined): void {
  if (missing) throw new Error(`cannot run here: ${missing}`);
}

/** The row's wait ran into its short budget, and did not hang past it. */
function budgetChecks(ms: number) {
  return [
    check(
      `ran into the ${secs(SHORT_BUDGET_MS)} budget`,
      ms >= SHORT_BUDGET_MS,
    ),
    check(
      `did not hang past it (exit within ${secs(SHORT_BUDGET_MS + GRACE_MS)})`,
      ms <= SHORT_BUDGET_MS + GRACE_MS,
    ),
  ];
}

function statesAre(stderr: string, urls: string[], state: string) {
  return urls.map((u) => {
    const got = targetState(stderr, u);
    return check(
      `${u.split("@").at(-1)}: ${state} (saw: ${got})`,
      got === state,
    );
  });
}

/** Not started, then starts during the wait: not ready, then ready, never before. */
function mysqlLateRow(): FaultRow {
  return {
    id: "kind-mysql-late",
    group: GROUP,
    scenario:
      "MariaDB not started yet (refused), then started during the wait; both levels (handshake, login)",
    expected:
      "Not ready while refused; ready once the server greets and the login succeeds; exit 0, never before it started.",
    rule: TRANSIENT_RULE +
      ' `mysql://` without a user: "the server\'s initial handshake arrives"; with one: "login and SELECT 1".',
    async run() {
      need(mariaDbMissing());
      const pw = newSecret();
      await using db = await startMariaDb({
        users: [{ name: "app", password: pw }],
        database: "app",
        deferStart: true,
      });
      const urls = [
        db.url(),
        db.url({ user: "app", password: pw, database: "app" }),
      ];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "60s",
        ...urls,
      ]);
      await p.waitFor(/not ready: connection refused/);
      const startedAt = performance.now();
      await db.start();
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[1]),
        checks: [
          check("exit 0", exit.code === 0),
          check("saw the refusal first", /refused/.test(p.stderr)),
          check(
            "ready only after the server was started",
            p.startedAt + exit.ms >= startedAt,
          ),
          ...statesAre(p.stderr, urls, "ready"),
        ],
      });
    },
  };
}

/** Initialising: the port accepts, no handshake yet. */
function mysqlSilentRow(): FaultRow {
  return {
    id: "kind-mysql-initialising",
    group: GROUP,
    scenario:
      "MariaDB initialising: its port accepts connections but no handshake comes (init scripts still running)",
    expected:
      "mysql:// (both levels) not ready until the 3 s budget ends, exit 124; tcp:// says ready (what nc -z would report).",
    rule: TRANSIENT_RULE,
    async run() {
      need(mariaDbMissing());
      const pw = newSecret();
      await using db = await startMariaDb({
        users: [{ name: "app", password: pw }],
        gated: true,
      });
      const urls = [db.url(), db.url({ user: "app", password: pw })];
      const tcp = `tcp://127.0.0.1:${db.port}`;
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        "3s",
        ...urls,
        tcp,
      ]);
      const exit = await p.exited;
      await db.release();
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[0]),
        checks: [
          check("exit 124", exit.code === 124),
          ...budgetChecks(exit.ms),
          ...statesAre(p.stderr, urls, "timeout"),
          check("tcp:// target: ready", targetState(p.stderr, tcp) === "ready"),
        ],
      });
    },
  };
}

function mysqlWrongPasswordRow(): FaultRow {
  return {
    id: "kind-mysql-wrong-password",
    group: GROUP,
    scenario: "MariaDB up, wrong password; a ready user-less target beside it",
    expected:
      "The login target fails at once with the server's message (Access denied, 1045), exit 1; the user-less target is ready.",
    rule: PERMANENT_RULE,
    async run() {
      need(mariaDbMissing());
      const pw = newSecret();
      const wrong = newSecret("wrong");
      await using db = await startMariaDb({
        users: [{ name: "app", password: pw }],
        database: "app",
      });
      const bad = db.url({ user: "app", password: wrong, database: "app" });
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        "60s",
        db.url(),
        bad,
      ]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, bad),
        checks: [
          check("exit 1", exit.code === 1),
          check(
            `ended within ${secs(PERMANENT_WITHIN_MS)}`,
            exit.ms < PERMANENT_WITHIN_MS,
          ),
          check("the server's words", /Access denied.*\(1045\)/.test(p.stderr)),
          check(
            "user-less target: ready",
            targetState(p.stderr, db.url()) === "ready",
          ),
        ],
      });
    },
  };
}

/** Booting, then ready, then a wrong password: one node for the three. */
function amqpRow(): FaultRow {
  return {
    id: "kind-amqp-boot",
    group: GROUP,
    scenario:
      "RabbitMQ booting (refused until its AMQP listener starts, several seconds), then ready; then a wrong password",
    expected:
      "amqp:// (both levels) not ready while booting, ready once Connection.Start answers and the connection opens: exit 0; then the wrong password fails at once with 403 ACCESS_REFUSED: exit 1.",
    rule: TRANSIENT_RULE + " " + PERMANENT_RULE,
    exclusive: true,
    async run() {
      need(rabbitMqMissing());
      const pw = newSecret();
      const wrong = newSecret("wrong");
      await using mq = await startRabbitMq({
        users: [{ name: "app", password: pw, vhosts: ["/"] }],
        deferStart: true,
      });
      const urls = [mq.url(), mq.url({ user: "app", password: pw })];
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "120s",
        ...urls,
      ], { limitMs: 180_000 });
      await p.waitFor(/not ready: connection refused/);
      mq.start();
      const exit = await p.exited;
      const bad = mq.url({ user: "app", password: wrong });
      await using q = new PreflightProcess(["wait", "--timeout", "60s", bad]);
      const refused = await q.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[1]),
        checks: [
          check("booting: exit 0", exit.code === 0),
          check("saw the refusal first", /refused/.test(p.stderr)),
          ...statesAre(p.stderr, urls, "ready"),
          check("wrong password: exit 1", refused.code === 1),
          check(
            `wrong password: ended within ${secs(PERMANENT_WITHIN_MS)}`,
            refused.ms < PERMANENT_WITHIN_MS,
          ),
          check(
            "wrong password: the broker's words",
            /ACCESS_REFUSED.*\(403\)/.test(q.stderr),
          ),
          check(
            "no password in the second run",
            !q.rawOutput().includes(wrong),
          ),
        ],
        extraLog: `wrong password run:\n${q.stderr.trim()}`,
      });
    },
  };
}

function amqpSilentRow(): FaultRow {
  return {
    id: "kind-amqp-silent",
    group: GROUP,
    scenario: "A listener on the AMQP port that accepts and says nothing",
    expected:
      "amqp:// (both levels) never ready (no Connection.Start) until the 3 s budget ends: exit 124.",
    rule: TRANSIENT_RULE,
    async run() {
      await using peer = startFaultServer("silent");
      const pw = newSecret();
      const urls = [
        `amqp://127.0.0.1:${peer.port}`,
        `amqp://app:${pw}@127.0.0.1:${peer.port}/`,
      ];
      await using p = new PreflightProcess([
        "wait",
        "--timeout",
        "3s",
        ...urls,
      ]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, urls[0]),
        checks: [
          check("exit 124", exit.code === 124),
          ...budgetChecks(exit.ms),
          ...statesAre(p.stderr, urls, "timeout"),
        ],
      });
    },
  };
}

function dnsRow(): FaultRow {
  return {
    id: "kind-dns-record-appears",
    group: GROUP,
    scenario:
      "dns:// of a name dnsmasq does not know yet; the record is added during the wait",
    expected:
      "Not ready (no record) until the record exists, then ready: exit 0. A name that does not resolve yet is transient.",
    rule:
      'Targets: `dns://NAME` ready when "the name resolves (to the given value, when one is given)".',
    async run() {
      need(dnsmasqMissing());
      await using dns = await startDnsmasq({
        hosts: { "db.test": ["10.0.0.4"] },
      });
      const url = `dns://new.test?value=10.0.0.7&server=${dns.server}`;
      await using p = new PreflightProcess([
        "wait",
        "--log-level",
        "debug",
        "--timeout",
        "30s",
        url,
      ]);
      await p.waitFor(/not ready: new\.test has no A or AAAA record/);
      await dns.setHosts({ "db.test": ["10.0.0.4"], "new.test": ["10.0.0.7"] });
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, url),
        checks: [
          check("exit 0", exit.code === 0),
          ...statesAre(p.stderr, [url], "ready"),
        ],
      });
    },
  };
}

function dnsSilentRow(): FaultRow {
  return {
    id: "kind-dns-stopped",
    group: GROUP,
    scenario: "dns:// against a DNS server that is stopped (no answer)",
    expected: "Not ready (no answer) until the 3 s budget ends: exit 124.",
    rule: TRANSIENT_RULE,
    async run() {
      need(dnsmasqMissing());
      await using dns = await startDnsmasq({
        hosts: { "db.test": ["10.0.0.4"] },
      });
      const url = `dns://db.test?server=${dns.server}`;
      await dns.stop();
      await using p = new PreflightProcess(["wait", "--timeout", "3s", url]);
      const exit = await p.exited;
      return observe(p, exit, {
        keyLine: targetLine(p.stderr, url),
        checks: [
          check("exit 124", exit.code === 124),
          ...budgetChecks(exit.ms),
          ...statesAre(p.stderr, [url], "timeout"),
        ],
      });
    },
  };
}

function unixRow(): FaultRow {
  return {
    id: "kind-unix-socket",
    group: GROUP,
    scenario:
      "unix:// of a socket not created yet, which a server then creates; and a path that is a regular file",
    expected:
      "No socket yet is not ready, then ready once a server listens: exit 0. A regular file is permanent: exit 1 at once.",
    rule:
      'Targets: `unix:///path/to.sock` ready when "a connection to the Unix socket is accepted"; issue 15: a path that is not a socket is permanent.',
    async run() {
      const dir = await Deno.makeTempDir({ prefix: "preflight-faults-" });
      try {
        const path = `${dir}/app.sock`;
        await using p = new PreflightProcess([
          "wait",
          "--log-level",
          "debug",
          "--timeout",
          "30s",
          `unix://${path}`,
        ]);
        await p.waitFor(/not ready: no socket at/);
        using _listener = Deno.listen({ transport: "unix", path });
        const exit = await p.exited;
        const file = `${dir}/not-a-socket`;
        await Deno.writeTextFile(file, "");
        await using q = new PreflightProcess([
          "wait",
          "--timeout",
          "60s",
          `unix://${file}`,
        ]);
        const failed = await q.exited;
        return observe(p, exit, {
          keyLine: targetLine(p.stderr, `unix://${path}`),
          checks: [
            check("socket appears: exit 0", exit.code === 0),
            ...statesAre(p.stderr, [`unix://${path}`], "ready"),
            check("regular file: exit 1", failed.code === 1),
            check(
              `regular file: ended within ${secs(PERMANENT_WITHIN_MS)}`,
              failed.ms < PERMANENT_WITHIN_MS,
            ),
            check(
              "regular file: says so",
              /is a regular file, not a socket/.test(q.stderr),
            ),
          ],
          extraLog: `regular file run:\n${q.stderr.trim()}`,
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/** The rows of this file. */
export function kindRows(): FaultRow[] {
  return [
    mysqlLateRow(),
    mysqlSilentRow(),
    mysqlWrongPasswordRow(),
    amqpRow(),
    amqpSilentRow(),
    dnsRow(),
    dnsSilentRow(),
    unixRow(),
  ];
}
