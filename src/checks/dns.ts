/**
 * `dns://NAME[?type=A|AAAA|CNAME|SRV|TXT][&value=…][&server=HOST[:PORT]]`:
 * ready when the name resolves — to the given value, when one is given
 * (any one of the records may match). Without `type`, any address (A or
 * AAAA) will do, and without `server` the system's resolver answers, as it
 * would for the application (getaddrinfo; with a `type`, the servers of
 * /etc/resolv.conf). A name that does not resolve yet, resolves to another
 * value, or a server that does not answer are all transient: that is what
 * waiting for DNS is for (a service registering, a record being changed).
 * There is no host:port: the name is the URL's host, the server an option.
 */
import { type Check, NotReadyError } from "./check.ts";
import type { TargetKind } from "./kind.ts";
import { invalidTarget } from "./target.ts";
import { redactUrl } from "../redact.ts";
import { attemptSignal } from "./attempt_signal.ts";
import {
  canonicalAddress,
  DNS_RECORD_TYPES,
  type DnsQuery,
  type DnsRecordType,
  lookupRecords,
  type NameServer,
  recordMatches,
  serverName,
} from "./dns_records.ts";
import type { ServerFacts } from "./server_facts.ts";

/** The port of `server=HOST` without one. */
const DNS_DEFAULT_PORT = 53;

const FORM =
  "a dns://NAME[?type=A|AAAA|CNAME|SRV|TXT][&value=VALUE][&server=IP[:PORT]] URL";
const OPTIONS = ["type", "value", "server"];

/** A parsed `dns://` URL. */
export interface DnsTarget extends DnsQuery {
  /** The URL as given. */
  readonly url: string;
  /** The URL as logged (it holds no secret; masked by the same rule as others all the same). */
  readonly id: string;
  readonly scheme: "dns";
  /** The value a record must have, as written. */
  readonly value?: string;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a host name (labels of letters, digits, `-` and `_`, at most 253 characters). */
function isName(name: string): boolean {
  const bare = name.replace(/\.$/, "");
  return bare.length > 0 && bare.length <= 253 &&
    bare.split(".").every((l) => LABEL.test(l));
}

function isIpv6(text: string): boolean {
  if (!text.includes(":")) return false;
  try {
    new URL(`http://[${text}]`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses and validates a `dns://` URL; `source` names the option or variable
 * it came from. Throws a `ConfigError` naming both for a malformed name, an
 * unknown, repeated or empty option, an unknown type, a value that cannot be
 * a record of the type, or a server that is not an IP address with an
 * optional port.
 */
function parseDnsUrl(text: string, source: string): DnsTarget {
  const id = redactUrl(text);
  const bad = (why: string) => invalidTarget(source, id, why);
  if (!/^dns:\/\//i.test(text)) throw bad(`expected ${FORM}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`expected ${FORM}`);
  }
  if (url.username || url.password) {
    throw bad("a dns:// target has no user or password");
  }
  if (url.port !== "") {
    throw bad(
      `a dns:// target has no port: give the DNS server as server=IP:${url.port}`,
    );
  }
  if (url.pathname !== "" && url.pathname !== "/") {
    throw bad(`a dns:// target has no path, expected ${FORM}`);
  }
  let name: string;
  try {
    name = decodeURIComponent(url.hostname);
  } catch {
    name = url.hostname;
  }
  if (name === "") throw bad(`missing name, expected ${FORM}`);
  if (!isName(name)) {
    throw bad(
      `'${name}' is not a DNS name (labels of letters, digits, '-' and '_', separated by dots)`,
    );
  }
  for (const key of new Set(url.searchParams.keys())) {
    if (!OPTIONS.includes(key)) {
      throw bad(`unknown option '${key}', expected type, value or server`);
    }
    if (url.searchParams.getAll(key).length > 1) {
      throw bad(`'${key}' is given more than once`);
    }
    if (url.searchParams.get(key) === "") throw bad(`'${key}' is empty`);
  }
  const typeText = url.searchParams.get("type");
  let type: DnsRecordType | undefined;
  if (typeText !== null) {
    type = typeText.toUpperCase() as DnsRecordType;
    if (!DNS_RECORD_TYPES.includes(type)) {
      throw bad(
        `unknown record type '${typeText}', expected ${
          DNS_RECORD_TYPES.join(", ")
        }`,
      );
    }
  }
  const value = url.searchParams.get("value") ?? undefined;
  if (value !== undefined) {
    const why = invalidValue(type, value);
    if (why) throw bad(why);
  }
  const serverText = url.searchParams.get("server");
  const server = serverText === null ? undefined : parseServer(serverText);
  if (server === null) {
    throw bad(
      `invalid server '${serverText}', expected an IP address with an optional port, as 10.0.0.2, 10.0.0.2:5353 or [fd00::2]:53`,
    );
  }
  return {
    url: text,
    id,
    scheme: "dns",
    name: name.replace(/\.$/, ""),
    type,
    value,
    server,
  };
}

/** Why `value` cannot be a record of `type` (undefined when it can). */
function invalidValue(
  type: DnsRecordType | undefined,
  value: string,
): string | undefined {
  switch (type) {
    case undefined:
      return IPV4.test(value) || isIpv6(value)
        ? undefined
        : `value '${value}' is not an IP address (give type= to compare another kind of record)`;
    case "A":
      return IPV4.test(value)
        ? undefined
        : `value '${value}' is not an IPv4 address`;
    case "AAAA":
      return isIpv6(value)
        ? undefined
        : `value '${value}' is not an IPv6 address`;
    case "CNAME":
      return isName(value) ? undefined : `value '${value}' is not a DNS name`;
    case "SRV": {
      const m = /^(.*?)(?::(\d+))?$/.exec(value)!;
      const port = m[2] === undefined ? 1 : Number(m[2]);
      return isName(m[1]) && port >= 0 && port <= 65535
        ? undefined
        : `value '${value}' is not an SRV target, expected TARGET or TARGET:PORT`;
    }
    case "TXT":
      return undefined;
  }
}

/** `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; null when it is none of them. */
function parseServer(text: string): NameServer | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ??
    (isIpv6(text)
      ? [text, text, undefined]
      : /^([^:]+)(?::(\d+))?$/.exec(text));
  if (!m) return null;
  const host = m[1];
  const port = m[2] === undefined ? DNS_DEFAULT_PORT : Number(m[2]);
  if (!(IPV4.test(host) || isIpv6(host))) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: canonicalAddress(host), port };
}

/** How logs and reports name a target: "DNS name db.test (A at 10.0.0.2:53)". */
function describeDnsTarget(target: DnsTarget): string {
  return `DNS name ${target.name} (${target.type ?? "address"} at ${
    serverName(target.server)
  })`;
}

/** Builds a DNS check: ready when the name resolves (to the value, when given). */
function dnsCheck(target: DnsTarget): Check {
  return {
    id: target.id,
    async check(outer) {
      const records = await lookupRecords(target, attemptSignal(outer));
      if (target.value === undefined) return;
      if (records.some((r) => recordMatches(target.type, r, target.value!))) {
        return;
      }
      throw new NotReadyError(
        `${target.name} resolves to ${describe(target.type, records)} at ${
          serverName(target.server)
        }, not to '${target.value}'`,
      );
    },
  };
}

function describe(type: DnsRecordType | undefined, records: string[]): string {
  const shown = records.length > 5
    ? [...records.slice(0, 5), `and ${records.length - 5} more`]
    : records;
  return `${type ?? "address"} ${shown.map((r) => `'${r}'`).join(", ")}`;
}

/** What `doctor` reports about a `dns://` target: the records the name has now. */
async function dnsFacts(
  target: DnsTarget,
  signal: AbortSignal,
): Promise<ServerFacts> {
  const records = await lookupRecords(target, attemptSignal(signal));
  return {
    summary: describe(target.type, records),
    value: records.join(", "),
    data: {
      type: target.type ?? "A/AAAA",
      records,
      server: serverName(target.server),
    },
  };
}

/** The DNS kind: no port of its own (the server's is an option). */
export const kind: TargetKind<DnsTarget> = {
  schemes: ["dns"],
  defaultPorts: {},
  reference: [[
    "`dns://NAME[?type=A\\|AAAA\\|CNAME\\|SRV\\|TXT][&value=V][&server=IP[:PORT]]`",
    "the name resolves, to `value` when given (any one record); without `type` any address, without `server` the system's resolver; a missing name or another value is waited out, never permanent",
  ]],
  parse: parseDnsUrl,
  check: dnsCheck,
  describe: describeDnsTarget,
  facts: dnsFacts,
};
