/**
 * PostgreSQL target URLs as libpq reads them: `postgres://` and
 * `postgresql://` (also SQLAlchemy's `postgresql+psycopg2://` and the like),
 * a host list or a Unix-socket directory as host (postgres_hosts.ts), and
 * the options preflight honours (`sslmode`, `sslrootcert`, `sslcert`,
 * `sslkey`, `target_session_attrs`), validated here, before anything runs.
 */
import { redactUrl, registerSecret } from "../redact.ts";
import {
  decodeComponent,
  hostPort,
  invalidTarget,
  type Target,
  unencodedError,
} from "./target.ts";
import {
  type Endpoint,
  isSocketDir,
  parseHostList,
  socketPath,
} from "./postgres_hosts.ts";
import { SESSION_ATTRS, SSL_MODES } from "./postgres_options.ts";

export type { Endpoint };

/** A parsed PostgreSQL URL. */
export interface PostgresTarget extends Target {
  readonly scheme: "postgres";
  /** The first server's host: a name, an IP address (IPv6 without brackets) or a socket directory. */
  readonly host: string;
  readonly port: number;
  /** Every server, in order: one, except for a host list (`h1:5432,h2:5433`). */
  readonly hosts: readonly Endpoint[];
  readonly username?: string;
  readonly password?: string;
  /** The database, percent-decoded ("" when none is given). */
  readonly path: string;
  readonly params: URLSearchParams;
}

/** A host WHATWG URL parsing accepts, standing in for a PostgreSQL host list. */
const STAND_IN = "pg-hosts.invalid";

/** `postgres[ql][+driver]://[USERINFO@]HOSTS[/...]`: scheme, user information with its `@`, hosts, rest. */
const POSTGRES_URL =
  /^(postgres(?:ql)?(?:\+[a-z0-9_]+)?):\/\/((?:[^/?#]*@)?)([^/?#@]*)(.*)$/is;

const FORM =
  "a postgres://[USER[:PASSWORD]@]HOST[:PORT][,HOST2[:PORT2]...][/DATABASE][?sslmode=...] URL";

/**
 * Parses and validates a PostgreSQL URL; `source` names the option or
 * variable it came from. Throws a ConfigError naming both, the password
 * masked.
 */
export function parsePostgresUrl(
  text: string,
  source: string,
): PostgresTarget {
  const id = redactUrl(text);
  const bad = (why: string) => invalidTarget(source, id, why);
  const unencoded = unencodedError(text, bad);
  if (unencoded) throw unencoded;
  // Several hosts, or a socket directory, are libpq's syntax, which WHATWG
  // URL parsing rejects: the hosts are read apart, the rest is parsed with
  // a stand-in host.
  const pg = POSTGRES_URL.exec(text);
  if (!pg) throw bad(`expected ${FORM}`);
  let url: URL;
  try {
    url = new URL(`${pg[1]}://${pg[2]}${STAND_IN}${pg[4]}`);
  } catch {
    throw bad(`expected ${FORM}`);
  }
  const hosts = parseHostList(pg[3], url.searchParams, bad);
  validateParams(url.searchParams, bad);
  const password = url.password === ""
    ? undefined
    : decodeComponent(url.password);
  registerSecret(password);
  const pathname = url.pathname.startsWith("/")
    ? url.pathname.slice(1)
    : url.pathname;
  return {
    url: text,
    id,
    scheme: "postgres",
    host: hosts[0].host,
    port: hosts[0].port,
    hosts,
    username: url.username === "" ? undefined : decodeComponent(url.username),
    password,
    path: pathname.includes("%") ? decodeComponent(pathname) : pathname,
    params: url.searchParams,
  };
}

/**
 * Where a PostgreSQL target is, for messages: `host:port`, the socket file
 * of a socket directory (`DIR/.s.PGSQL.PORT`), every server of a host
 * list comma-separated.
 */
export function pgAddress(
  t: { readonly hosts?: readonly Endpoint[] } & Endpoint,
): string {
  if (t.hosts && t.hosts.length > 1) return t.hosts.map(pgAddress).join(",");
  return isSocketDir(t.host) ? socketPath(t) : hostPort(t);
}

function validateParams(
  params: URLSearchParams,
  bad: (why: string) => Error,
): void {
  const mode = params.get("sslmode");
  if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw bad(`invalid sslmode '${mode}', expected ${SSL_MODES.join(", ")}`);
  }
  const attrs = params.get("target_session_attrs");
  if (attrs !== null && !(SESSION_ATTRS as readonly string[]).includes(attrs)) {
    throw bad(
      `invalid target_session_attrs '${attrs}', expected ${
        SESSION_ATTRS.join(", ")
      }`,
    );
  }
  const root = params.get("sslrootcert");
  // libpq's special value: the system's root certificates.
  if (root !== null && root !== "system") {
    try {
      Deno.statSync(root);
    } catch {
      throw bad(`cannot read sslrootcert '${root}'`);
    }
  }
}
