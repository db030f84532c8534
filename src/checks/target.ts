/**
 * What every parsed target has, whatever its kind, and the URL helpers
 * kinds share. Credentials are redacted where a URL is parsed: `id` is the
 * only form of a target that may be logged. Which kinds exist, and what
 * their URLs mean, is theirs (src/checks/mod.ts lists them).
 */
import { ConfigError } from "../errors.ts";

/**
 * A parsed target: these fields, and whatever its kind's parser adds (host
 * and port, a socket path, a DNS name...).
 */
export interface Target {
  /** The URL as given, credentials included: never log it. */
  readonly url: string;
  /** The URL with the password masked. */
  readonly id: string;
  /** The scheme, lower case, as its kind names it (`postgresql+psycopg2` is `postgres`). */
  readonly scheme: string;
  /** Written as a bare `HOST:PORT` (wait-for-it's form), without a scheme. */
  readonly bare?: boolean;
}

/** The configuration error for one target: "Invalid SOURCE 'ID': WHY". */
export function invalidTarget(
  source: string,
  id: string,
  why: string,
): ConfigError {
  return new ConfigError(`Invalid ${source} '${id}': ${why}`);
}

/** The scheme a URL is written with, lower case, or undefined when it has none. */
export function schemeOf(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1].toLowerCase();
}

/**
 * "a postgres:// or postgresql:// URL": the schemes as a phrase, with the
 * article English wants ("an http://").
 */
export function schemePhrase(schemes: readonly string[]): string {
  const first = schemes[0] ?? "";
  const article = /^(?:[aeiou]|http)/.test(first) ? "an" : "a";
  const list = schemes.map((s) => `${s}://`);
  const words = list.length > 1
    ? `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`
    : list[0];
  return `${article} ${words} URL`;
}

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

/** The ConfigError for {@linkcode unencodedInCredentials}, or undefined. */
export function unencodedError(
  text: string,
  bad: (why: string) => ConfigError,
): ConfigError | undefined {
  const c = unencodedInCredentials(text);
  if (c === undefined) return undefined;
  return bad(
    `the user name or password contains '${c}', which must be percent-encoded: ` +
      `'${c}' as ${
        encodeURIComponent(c)
      } (also '@' as %40, ':' in a user name as %3A)`,
  );
}

/**
 * The port as written in a URL's authority, or undefined when none is: the
 * user information ends at the last `@` (a password may contain `:`).
 */
export function portText(text: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1];
  if (authority === undefined) return undefined;
  const hostPart = authority.slice(authority.lastIndexOf("@") + 1);
  return /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
}

/** True for a port number 1-65535 written in decimal. */
export function isPortText(text: string): boolean {
  return /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** Percent-decodes, leaving a malformed escape as it is. */
export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(ep: { host: string; port: number }): string {
  return ep.host.includes(":")
    ? `[${ep.host}]:${ep.port}`
    : `${ep.host}:${ep.port}`;
}
