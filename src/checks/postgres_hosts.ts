/**
 * The servers of a PostgreSQL URL, as libpq reads them: a list
 * `h1[:p1],h2[:p2]` (IPv6 in brackets), a Unix-socket directory as host
 * (percent-encoded, `postgres://%2Fvar%2Frun%2Fpostgresql/db`), and the
 * `host` and `port` query parameters, which override the authority's
 * (`postgres:///db?host=/var/run/postgresql`).
 */

/** One server: a host name or address and port, or a Unix-socket directory and port. */
export interface Endpoint {
  /** Host name, IP address (IPv6 without brackets), or an absolute directory path. */
  readonly host: string;
  readonly port: number;
}

/** The default PostgreSQL port. */
const DEFAULT_PG_PORT = 5432;

/** Whether a host is a Unix-socket directory (libpq: an absolute path). */
export function isSocketDir(host: string): boolean {
  return host.startsWith("/");
}

/** The socket file libpq connects to for a directory host: `DIR/.s.PGSQL.PORT`. */
export function socketPath(ep: Endpoint): string {
  return `${ep.host.replace(/\/+$/, "")}/.s.PGSQL.${ep.port}`;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parsePort(text: string, bad: (why: string) => Error): number {
  const t = text.trim();
  if (t === "") return DEFAULT_PG_PORT;
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 65535) {
    throw bad("the port must be a number 1-65535");
  }
  return Number(t);
}

/** One `host[:port]` of the authority; port text "" when none is given. */
function splitHostPort(
  item: string,
  bad: (why: string) => Error,
): [string, string] {
  if (item.startsWith("[")) {
    const close = item.indexOf("]");
    if (close < 0) throw bad(`unbalanced '[' in host '${item}'`);
    const rest = item.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) {
      throw bad(
        `unexpected '${rest}' after the address '${item.slice(0, close + 1)}'`,
      );
    }
    return [item.slice(1, close), rest.slice(1)];
  }
  const colon = item.lastIndexOf(":");
  return colon < 0 ? [item, ""] : [item.slice(0, colon), item.slice(colon + 1)];
}

/**
 * Parses the host list of a PostgreSQL URL: `authority` is the part after
 * the user information (`h1:5432,h2`), `params` the query. Errors come from
 * `bad(why)`, which names the target.
 */
export function parseHostList(
  authority: string,
  params: URLSearchParams,
  bad: (why: string) => Error,
): Endpoint[] {
  let hosts: string[] = [];
  let ports: string[] = [];
  if (authority !== "") {
    for (const item of authority.split(",")) {
      const [host, port] = splitHostPort(item, bad);
      hosts.push(decode(host));
      ports.push(port);
    }
  }
  const hostParam = params.get("host");
  if (hostParam !== null && hostParam !== "") {
    hosts = hostParam.split(",");
    if (params.get("port") === null) {
      // Ports of the authority still apply when their count matches.
      ports = ports.length === hosts.length ? ports : [ports[0] ?? ""];
    }
  }
  const portParam = params.get("port");
  if (portParam !== null && portParam !== "") ports = portParam.split(",");
  if (hosts.length === 0 || hosts.every((h) => h === "")) {
    throw bad(
      "missing host: give a host, or a Unix-socket directory as ?host=/var/run/postgresql",
    );
  }
  if (ports.length > 1 && ports.length !== hosts.length) {
    throw bad(
      `${ports.length} ports for ${hosts.length} hosts: give one port for all, or one per host`,
    );
  }
  return hosts.map((raw, i) => {
    const host = raw.trim();
    if (host === "") throw bad("an empty host in the host list");
    if (host.includes("/") && !isSocketDir(host)) {
      throw bad(
        `invalid host '${host}': a Unix-socket directory must be an absolute path`,
      );
    }
    return {
      host: host.replace(/^\[(.*)\]$/, "$1"),
      port: parsePort(ports.length === 1 ? ports[0] : ports[i] ?? "", bad),
    };
  });
}
