/**
 * Parsing of `scheme://[USER[:PASSWORD]@]HOST[:PORT][/PATH][?QUERY]` target
 * URLs for kinds that name a network server (MySQL, AMQP). Each kind calls it
 * with its own schemes and default ports, then validates its own path and
 * options. Credentials are redacted here, where they enter: `id` is the only
 * form that may be logged, and the password is registered for scrubbing.
 */
import { ConfigError } from "../errors.ts";
import { redactUrl, registerSecret } from "../redact.ts";

/** A parsed server URL. Field for field the shape of checks/target.ts' `Target`. */
export interface EndpointUrl {
  /** The URL as given, credentials included: never log it. */
  readonly url: string;
  /** The URL with the password masked. */
  readonly id: string;
  /** The scheme, lower case, after `normalizeScheme`. */
  readonly scheme: string;
  /** Host name or IP address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  /** Path without the leading slash, percent-decoded. */
  readonly path: string;
  readonly params: URLSearchParams;
}

/** What one kind accepts. */
export interface EndpointUrlRules {
  /** Accepted schemes (lower case) and the port each one implies. */
  readonly defaultPorts: Readonly<Record<string, number>>;
  /** The accepted form, for messages: "a mysql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE] URL". */
  readonly form: string;
  /** Maps a scheme as written to one of `defaultPorts` (e.g. SQLAlchemy's `mysql+pymysql`). */
  readonly normalizeScheme?: (scheme: string) => string;
}

/** The configuration error for one target: "Invalid SOURCE 'ID': WHY". */
export function invalidTarget(
  source: string,
  id: string,
  why: string,
): ConfigError {
  return new ConfigError(`Invalid ${source} '${id}': ${why}`);
}

/**
 * Parses one server URL; `source` names the option or variable it came from,
 * for the error message (a `ConfigError`, password masked).
 */
export function parseEndpointUrl(
  text: string,
  source: string,
  rules: EndpointUrlRules,
): EndpointUrl {
  const id = redactUrl(text);
  const bad = (why: string) => invalidTarget(source, id, why);
  const written = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1].toLowerCase();
  const scheme = written === undefined
    ? undefined
    : (rules.normalizeScheme?.(written) ?? written);
  if (scheme === undefined || !(scheme in rules.defaultPorts)) {
    throw bad(`expected ${rules.form}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(
      badPort(text)
        ? "the port must be a number 1-65535"
        : `expected ${rules.form}`,
    );
  }
  if (!text.slice(written!.length + 1).startsWith("//")) {
    throw bad(`expected ${rules.form}`);
  }
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "") throw bad(`missing host, expected ${rules.form}`);
  host = decode(host);
  const port = url.port === "" ? rules.defaultPorts[scheme] : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad("the port must be a number 1-65535");
  }
  const password = url.password === "" ? undefined : decode(url.password);
  registerSecret(password);
  const bare = url.pathname.startsWith("/")
    ? url.pathname.slice(1)
    : url.pathname;
  return {
    url: text,
    id,
    scheme,
    host,
    port,
    // ":PASSWORD@" logs in with an empty user name, as MySQL clients do.
    username: url.username === ""
      ? (password === undefined ? undefined : "")
      : decode(url.username),
    password,
    path: decode(bare),
    params: url.searchParams,
  };
}

/** True when the authority's port is written but is not 1-65535 (the URL parser only says "invalid"). */
function badPort(text: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1];
  if (authority === undefined) return false;
  const hostPart = authority.slice(authority.lastIndexOf("@") + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
  return port !== undefined && port !== "" &&
    !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
