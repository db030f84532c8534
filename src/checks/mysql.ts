/**
 * `mysql://` and `mariadb://` targets (also SQLAlchemy's `mysql+pymysql://`
 * and the like), default port 3306.
 *
 * Without a user (`mysql://HOST[:PORT]`) the check reads the server's first
 * packet, which comes before any credentials are asked for: a handshake
 * means up, and an error packet is judged as `pg_isready` judges PostgreSQL's
 * (mysql_packet.ts): "too many connections" and "host not allowed" mean up,
 * "shutdown in progress" means not ready. A server still initialising
 * (socket created, init scripts running) accepts TCP but sends nothing: not
 * ready until the attempt's deadline. Leaving after the greeting is what a
 * TCP health check does; a server may count that towards
 * `max_connect_errors` for hosts in its host cache (Monit users reported
 * blocked hosts), a count any successful login from the host resets.
 * Loopback and Unix-socket clients are never counted.
 *
 * With a user (`mysql://USER[:PASSWORD]@HOST[:PORT][/DATABASE]`) it logs in
 * and runs `SELECT 1` (mysql_login.ts, with `mysql2`); access denied and an
 * unknown database are permanent.
 */
import type { Check } from "./check.ts";
import { type EndpointUrl, parseEndpointUrl } from "./endpoint_url.ts";
import type { TargetKind } from "./kind.ts";
import { readGreeting } from "./mysql_greeting.ts";
import {
  CAPABILITY_SSL,
  greetingVerdict,
  serverProduct,
} from "./mysql_packet.ts";
import type { ServerFacts } from "./server_facts.ts";
import { hostPort, invalidTarget } from "./target.ts";

/** The port a URL without one implies. */
const DEFAULT_PORT = 3306;

/** The accepted form, for messages. */
const FORM =
  "a mysql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE] or mariadb:// URL";

/** A parsed `mysql://` or `mariadb://` URL. */
export interface MysqlTarget extends EndpointUrl {
  readonly scheme: "mysql" | "mariadb";
}

/** What the check needs of a target. */
export type MysqlEndpoint = Pick<
  EndpointUrl,
  "id" | "host" | "port" | "username" | "password" | "path"
>;

/**
 * Parses and validates a `mysql://` or `mariadb://` URL; `source` names the
 * option or variable it came from. Throws a `ConfigError` naming both, with
 * the password masked. Query options that only concern a driver (`charset`)
 * are ignored; TLS options are refused rather than ignored, since this check
 * does not use TLS and would send the password in clear.
 */
function parseMysqlUrl(text: string, source: string): MysqlTarget {
  const target = parseEndpointUrl(text, source, {
    defaultPorts: { mysql: DEFAULT_PORT, mariadb: DEFAULT_PORT },
    form: FORM,
    // SQLAlchemy names the driver: mysql+pymysql://, mariadb+mariadbconnector://.
    normalizeScheme: (s) => s.replace(/^(mysql|mariadb)\+[a-z0-9_]+$/, "$1"),
  }) as MysqlTarget;
  const bad = (why: string) => invalidTarget(source, target.id, why);
  if (target.path.includes("/")) {
    throw bad(
      `the database name '${target.path}' contains '/': expected ${FORM}`,
    );
  }
  for (const name of target.params.keys()) {
    if (/^(ssl|tls)/i.test(name)) {
      throw bad(
        `'${name}' is not supported: mysql:// targets connect without TLS`,
      );
    }
  }
  return target;
}

/** How logs and reports name a target: "MySQL at db:3306" (credentials never shown). */
function describeMysqlTarget(
  target: Pick<EndpointUrl, "host" | "port" | "username" | "path">,
): string {
  const as = target.username === undefined
    ? ""
    : ` as ${target.username || "(empty user)"}${
      target.path ? ` on ${target.path}` : ""
    }`;
  return `MySQL at ${hostPort(target)}${as}`;
}

/**
 * Builds a MySQL/MariaDB check: the greeting without a user, login and
 * `SELECT 1` with one (`mysql2`, imported on the first such attempt).
 */
function mysqlCheck(target: MysqlEndpoint): Check {
  return {
    id: target.id,
    async check(signal) {
      if (target.username === undefined) {
        const verdict = greetingVerdict(
          await readGreeting(target, signal),
          hostPort(target),
        );
        if (verdict !== "ready") throw verdict;
        return;
      }
      const { mysqlLogin } = await import("./mysql_login.ts");
      await mysqlLogin(target, signal);
    },
  };
}

/**
 * What `doctor` reports about a MySQL/MariaDB server, from its greeting (no
 * credentials used): product and version, or the error it greets with.
 * Rejects as the user-less check does when it is not ready.
 */
async function mysqlFacts(
  target: MysqlEndpoint,
  signal: AbortSignal,
): Promise<ServerFacts> {
  const greeting = await readGreeting(target, signal);
  const verdict = greetingVerdict(greeting, hostPort(target));
  if (verdict !== "ready") throw verdict;
  if (greeting.kind === "error") {
    return {
      summary:
        `up, but refuses this host: ${greeting.message} (${greeting.code})`,
      value: null,
      data: { error_code: greeting.code, error: greeting.message },
    };
  }
  const { product, version } = serverProduct(greeting.serverVersion);
  return {
    summary: `${product} ${version}`,
    value: version,
    data: {
      product,
      server_version: greeting.serverVersion,
      protocol: greeting.protocol,
      tls: (greeting.capabilities & CAPABILITY_SSL) !== 0,
      ...(greeting.authPlugin ? { auth_plugin: greeting.authPlugin } : {}),
    },
  };
}

/** The MySQL/MariaDB kind. */
export const kind: TargetKind<MysqlTarget> = {
  schemes: ["mysql", "mariadb"],
  defaultPorts: { mysql: DEFAULT_PORT, mariadb: DEFAULT_PORT },
  speaksProtocol: true,
  reference: [
    [
      "`mysql://HOST[:PORT]`, `mariadb://` (no user)",
      'the server\'s initial handshake arrives: "too many connections" and "host not allowed" instead mean up, "shutdown in progress" and silence while it initialises are not ready',
    ],
    [
      "`mysql://USER[:PASS]@HOST[:PORT][/DB]`, `mariadb://`, `mysql+DRIVER://`",
      "login succeeds and `SELECT 1` returns; access denied and an unknown database are permanent; TLS options are refused (the check does not use TLS)",
    ],
  ],
  parse: parseMysqlUrl,
  check: mysqlCheck,
  describe: describeMysqlTarget,
  facts: mysqlFacts,
};
