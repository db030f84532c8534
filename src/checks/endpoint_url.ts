/**
 * Parsing of `scheme://[USER[:PASSWORD]@]HOST[:PORT][/PATH][?QUERY]` target
 * URLs, for kinds that name one network server (TCP, Redis, HTTP, MySQL,
 * AMQP). Each kind calls it with its own schemes and default ports, then
 * validates its own path and options. Credentials are redacted here, where
 * they enter: `id` is the only form that may be logged, and the password is
 * registered for scrubbing.
 */
import { redactUrl, registerSecret } from "../redact.ts";
import {
  decodeComponent,
  invalidTarget,
  isPortText,
  portText,
  schemeOf,
  type Target,
  unencodedError,
} from "./target.ts";

/** A parsed server URL. */
export interface EndpointUrl extends Target {
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
  /**
   * Accepted schemes (lower case) and the port each one implies; `undefined`
   * for a scheme whose URLs must give the port (`tcp://`).
   */
  readonly defaultPorts: Readonly<Record<string, number | undefined>>;
  /** The accepted form, for messages: "a mysql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE] URL". */
  readonly form: string;
  /** Maps a scheme as written to one of `defaultPorts` (e.g. SQLAlchemy's `mysql+pymysql`). */
  readonly normalizeScheme?: (scheme: string) => string;
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
  const written = schemeOf(text);
  const scheme = written === undefined
    ? undefined
    : (rules.normalizeScheme?.(written) ?? written);
  if (scheme === undefined || !(scheme in rules.defaultPorts)) {
    throw bad(`expected ${rules.form}`);
  }
  const unencoded = unencodedError(text, bad);
  if (unencoded) throw unencoded;
  const given = portText(text);
  if (given !== undefined && given !== "" && !isPortText(given)) {
    throw bad("the port must be a number 1-65535");
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`expected ${rules.form}`);
  }
  if (!text.slice(written!.length + 1).startsWith("//")) {
    throw bad(`expected ${rules.form}`);
  }
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "") throw bad(`missing host, expected ${rules.form}`);
  host = decodeComponent(host);
  // WHATWG URL drops a port equal to a special scheme's default: read it
  // as written.
  const port = given !== undefined && given !== ""
    ? Number(given)
    : rules.defaultPorts[scheme];
  if (port === undefined) throw bad(`missing port, expected ${rules.form}`);
  const password = url.password === ""
    ? undefined
    : decodeComponent(url.password);
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
      : decodeComponent(url.username),
    password,
    path: bare.includes("%") ? decodeComponent(bare) : bare,
    params: url.searchParams,
  };
}
