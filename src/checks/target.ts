/**
 * Parsing of target URLs. Credentials are redacted here, where they enter:
 * `id` is the only form of a target that may be logged.
 */
import { ConfigError } from "../errors.ts";
import { redactUrl, registerSecret } from "../redact.ts";
import { SESSION_ATTRS, SSL_MODES } from "./postgres_options.ts";
import { suggest } from "../cli/suggest.ts";
import {
  type Endpoint,
  isSocketDir,
  parseHostList,
  socketPath,
} from "./postgres_hosts.ts";

export type { Endpoint };

/** The kinds of target, by URL scheme. */
export type Scheme = "tcp" | "postgres" | "redis" | "rediss" | "http" | "https";

/** A parsed target URL. */
export interface Target {
  /** The URL as given, credentials included: never log it. */
  readonly url: string;
  /** The URL with the password masked. */
  readonly id: string;
  readonly scheme: Scheme;
  /**
   * Host name or IP address, IPv6 without brackets (for PostgreSQL also a
   * Unix-socket directory): the first of {@linkcode Target.hosts}.
   */
  readonly host: string;
  readonly port: number;
  /**
   * Every server of the target, in order: one, except for a PostgreSQL
   * host list (`postgres://h1:5432,h2:5433/db`).
   */
  readonly hosts: readonly Endpoint[];
  readonly username?: string;
  readonly password?: string;
  /** Path without the leading slash (database name, Redis db number). */
  readonly path: string;
  readonly params: URLSearchParams;
  /** Written as a bare `HOST:PORT` (wait-for-it's form), checked as tcp://. */
  readonly bare?: boolean;
}

/** `HOST:PORT` without a scheme, as wait-for-it takes it (IPv6 in brackets). */
const BARE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d+$/;

/** Schemes a target may be written with (for "did you mean"). */
const SCHEMES = [
  "tcp",
  "postgres",
  "postgresql",
  "redis",
  "rediss",
  "http",
  "https",
];

const DEFAULT_PORTS: Record<Scheme, number | undefined> = {
  tcp: undefined,
  postgres: 5432,
  redis: 6379,
  rediss: 6379,
  http: 80,
  https: 443,
};

const ACCEPTED =
  "HOST:PORT, tcp://HOST:PORT, postgres://, postgresql://, redis://, rediss://, http:// or https:// URL";

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Parses one target URL; `source` names the option or variable it came from,
 * for the error message.
 */
export function parseTarget(text: string, source: string): Target {
  if (BARE.test(text)) {
    return { ...parseTarget(`tcp://${text}`, source), bare: true };
  }
  const id = redactUrl(text);
  const bad = (why: string) =>
    new ConfigError(`Invalid ${source} '${id}': ${why}`);
  const unencoded = unencodedInCredentials(text);
  if (unencoded) {
    throw bad(
      `the user name or password contains '${unencoded}', which must be percent-encoded: ` +
        `'${unencoded}' as ${
          encodeURIComponent(unencoded)
        } (also '@' as %40, ':' in a user name as %3A)`,
    );
  }
  // PostgreSQL URLs may list several hosts, or a socket directory: libpq's
  // syntax, which WHATWG URL parsing rejects. The hosts are read apart; the
  // rest is parsed with a stand-in host.
  const pg = POSTGRES_URL.exec(text);
  let url: URL;
  try {
    url = new URL(pg ? `${pg[1]}://${pg[2]}${STAND_IN}${pg[4]}` : text);
  } catch {
    const port = portText(text);
    if (
      port !== undefined &&
      !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)
    ) {
      throw bad("the port must be a number 1-65535");
    }
    throw bad(`expected a ${ACCEPTED}`);
  }
  let scheme = url.protocol.slice(0, -1).toLowerCase();
  // SQLAlchemy-style DATABASE_URLs name a driver: postgresql+psycopg2://.
  if (
    scheme.startsWith("postgres") &&
    /^postgres(ql)?(\+[a-z0-9_]+)?$/.test(scheme)
  ) scheme = "postgres";
  if (!(scheme in DEFAULT_PORTS)) {
    const close = suggest(scheme, SCHEMES);
    throw bad(
      close
        ? `unknown scheme '${scheme}': did you mean '${close}://'?`
        : `unknown scheme '${scheme}', expected a ${ACCEPTED}`,
    );
  }
  let hosts: Endpoint[];
  if (pg) {
    hosts = parseHostList(pg[3], url.searchParams, bad);
  } else {
    let host = url.hostname;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    if (host === "") throw bad("missing host");
    // WHATWG URL drops a port equal to the special scheme's default; keep it.
    let port: number | undefined;
    if (url.port !== "") port = Number(url.port);
    else {
      const given = portText(text);
      if (given !== undefined && given !== "") {
        if (!/^\d+$/.test(given)) {
          throw bad("the port must be a number 1-65535");
        }
        port = Number(given);
      }
    }
    port ??= DEFAULT_PORTS[scheme as Scheme];
    if (port === undefined) throw bad("missing port, expected tcp://HOST:PORT");
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw bad("the port must be a number 1-65535");
    }
    hosts = [{ host, port }];
  }
  const password = url.password === "" ? undefined : decode(url.password);
  registerSecret(password);
  const pathname = url.pathname;
  const bare = pathname.startsWith("/") ? pathname.slice(1) : pathname;
  const path = bare.includes("%") ? decode(bare) : bare;
  if (scheme === "tcp" && path !== "") throw bad("a tcp:// target has no path");
  if (
    (scheme === "redis" || scheme === "rediss") && path !== "" &&
    !/^\d+$/.test(path)
  ) {
    throw bad("the Redis database must be a number, as in redis://HOST:6379/0");
  }
  if (scheme === "postgres") validatePostgresParams(url.searchParams, bad);
  return {
    url: text,
    id,
    scheme: scheme as Scheme,
    host: hosts[0].host,
    port: hosts[0].port,
    hosts,
    username: url.username === "" ? undefined : decode(url.username),
    password,
    path,
    // Read on demand: only PostgreSQL targets have parameters, and building
    // URLSearchParams is a cost every probe would pay.
    get params() {
      return url.searchParams;
    },
  };
}

/** A host WHATWG URL parsing accepts, standing in for a PostgreSQL host list. */
const STAND_IN = "pg-hosts.invalid";

/** `postgres[ql][+driver]://[USERINFO@]HOSTS[/...]`: scheme, user information with its `@`, hosts, rest. */
const POSTGRES_URL =
  /^(postgres(?:ql)?(?:\+[a-z0-9_]+)?):\/\/((?:[^/?#]*@)?)([^/?#@]*)(.*)$/is;

/**
 * A character of `/`, `?` or `#` that stands unencoded in a URL's user name
 * or password (which then looks like a host, port or path), or undefined:
 * an `@` follows it, and before it comes `USER:PASS`, not `HOST:PORT`.
 */
export function unencodedInCredentials(text: string): string | undefined {
  const rest = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/is.exec(text)?.[1];
  if (rest === undefined) return undefined;
  const at = rest.lastIndexOf("@");
  const cut = rest.search(/[/?#]/);
  if (at < 0 || cut < 0 || cut > at) return undefined;
  // A fragment means nothing in a target: an @ after a # is a password's.
  if (rest[cut] === "#") return "#";
  const before = rest.slice(0, cut);
  const colon = before.indexOf(":");
  // "host/path@x" or "host:8080/path@x": an @ in a path, not credentials.
  if (colon < 0 || /^\d*$/.test(before.slice(colon + 1))) return undefined;
  return rest[cut];
}

/**
 * The port as written in a URL's authority, or undefined when none is: the
 * user information ends at the last `@` (a password may contain `:`).
 */
function portText(text: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1];
  if (authority === undefined) return undefined;
  const hostPart = authority.slice(authority.lastIndexOf("@") + 1);
  return /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
}

/**
 * `host:port`, with brackets around an IPv6 address, or the socket file of
 * a PostgreSQL socket directory (`DIR/.s.PGSQL.PORT`); every host of a
 * host list, comma-separated.
 */
export function hostPort(
  t: { host: string; port: number; hosts?: readonly Endpoint[] },
): string {
  if (t.hosts && t.hosts.length > 1) return t.hosts.map(hostPort).join(",");
  if (isSocketDir(t.host)) return socketPath(t);
  return t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function validatePostgresParams(
  params: URLSearchParams,
  bad: (why: string) => ConfigError,
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
