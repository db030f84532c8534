/**
 * Looking up the records a `dns://` target asks about, and comparing them
 * with the value it expects. Records are turned into one text form per type
 * (an address, a name without its final dot, `target:port` for SRV, the
 * joined strings of a TXT record) so that messages, `doctor` and the
 * comparison all speak the same.
 */
import { NotReadyError } from "./check.ts";
import { raceAbort } from "./connect.ts";
import { abortedError } from "./attempt_signal.ts";

/** The record types a target may ask for. */
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "SRV", "TXT"] as const;

/** One of {@linkcode DNS_RECORD_TYPES}. */
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** A DNS server given by address (no name: it would need a resolver itself). */
export interface NameServer {
  /** IPv4 or IPv6 address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

/** What to look up. */
export interface DnsQuery {
  /** The name, without a final dot. */
  readonly name: string;
  /** A record type; none means "any address" (A or AAAA). */
  readonly type?: DnsRecordType;
  /** The server to ask; none means the system's resolver. */
  readonly server?: NameServer;
}

/** Where a query goes, for messages: "127.0.0.1:5353" or "the system resolver". */
export function serverName(server: NameServer | undefined): string {
  if (!server) return "the system resolver";
  return server.host.includes(":")
    ? `[${server.host}]:${server.port}`
    : `${server.host}:${server.port}`;
}

/**
 * The records of a query, in text form, at least one. No record (NXDOMAIN or
 * an empty answer — Deno's resolver does not tell them apart), a server that
 * does not answer and a resolver error are all `NotReadyError`: a name that
 * does not resolve yet is what waiting is for.
 *
 * Without a type and a server the system's resolver answers through
 * getaddrinfo, as the application's own connection would: /etc/hosts
 * included. With a server, A and AAAA are asked from it.
 */
export async function lookupRecords(
  query: DnsQuery,
  signal: AbortSignal,
): Promise<string[]> {
  const what = query.type ?? "A or AAAA";
  const at = serverName(query.server);
  try {
    if (query.type === undefined && query.server === undefined) {
      return await systemAddresses(query.name, signal);
    }
    const types: DnsRecordType[] = query.type ? [query.type] : ["A", "AAAA"];
    const options: Deno.ResolveDnsOptions = {
      signal,
      ...(query.server
        ? {
          nameServer: { ipAddr: query.server.host, port: query.server.port },
        }
        : {}),
    };
    const answers = await Promise.allSettled(
      types.map(async (type) =>
        formatRecords(type, await resolve(query.name, type, options))
      ),
    );
    const records = answers.flatMap((a) =>
      a.status === "fulfilled" ? a.value : []
    );
    if (records.length > 0) return records;
    throw (answers.find((a) =>
      a.status === "rejected"
    ) as PromiseRejectedResult)
      .reason;
  } catch (e) {
    if (signal.aborted) {
      throw abortedError(signal, `answer about ${query.name} from ${at}`);
    }
    if (e instanceof NotReadyError) throw e;
    const name = (e as Error)?.name;
    if (name === "NotFound") {
      throw new NotReadyError(
        `${query.name} has no ${what} record at ${at} (yet)`,
        { cause: e },
      );
    }
    if (name === "TimedOut") {
      throw new NotReadyError(`no answer from ${at} about ${query.name}`, {
        cause: e,
      });
    }
    throw new NotReadyError(
      `looking up ${what} of ${query.name} at ${at} failed: ${
        String((e as Error)?.message ?? e).split("\n")[0]
      }`,
      { cause: e },
    );
  }
}

/** Addresses from getaddrinfo (node:dns `lookup`), which no signal can stop: raced instead. */
async function systemAddresses(
  name: string,
  signal: AbortSignal,
): Promise<string[]> {
  const { lookup } = await import("node:dns/promises");
  try {
    const found = await raceAbort(
      lookup(name, { all: true, verbatim: true }),
      signal,
    );
    const addresses = [
      ...new Set(found.map((a) => canonicalAddress(a.address))),
    ];
    if (addresses.length > 0) return addresses;
  } catch (e) {
    if (signal.aborted) throw e;
    const code = (e as { code?: string }).code;
    throw new NotReadyError(
      `${name} does not resolve at the system resolver${
        code ? ` (${code})` : ""
      }`,
      { cause: e },
    );
  }
  throw new NotReadyError(`${name} has no address at the system resolver`);
}

type RawRecords = string[] | Deno.SrvRecord[] | string[][];

/** Deno.resolveDns with the result type of each record type. */
function resolve(
  name: string,
  type: DnsRecordType,
  options: Deno.ResolveDnsOptions,
): Promise<RawRecords> {
  switch (type) {
    case "SRV":
      return Deno.resolveDns(name, "SRV", options);
    case "TXT":
      return Deno.resolveDns(name, "TXT", options);
    default:
      return Deno.resolveDns(name, type, options);
  }
}

/** The text form of each record of a type. */
export function formatRecords(type: DnsRecordType, raw: RawRecords): string[] {
  switch (type) {
    case "A":
    case "AAAA":
      return (raw as string[]).map(canonicalAddress);
    case "CNAME":
      return (raw as string[]).map(canonicalName);
    case "SRV":
      return (raw as Deno.SrvRecord[]).map((r) =>
        `${canonicalName(r.target)}:${r.port}`
      );
    case "TXT":
      return (raw as string[][]).map((chunks) => chunks.join(""));
  }
}

/**
 * True when a record (text form) is the expected value: addresses compared
 * in canonical form (`fd00:0::5` is `fd00::5`), names without case or final
 * dot, SRV as `target:port` or just `target`, TXT exactly.
 */
export function recordMatches(
  type: DnsRecordType | undefined,
  record: string,
  value: string,
): boolean {
  switch (type) {
    case undefined:
    case "A":
    case "AAAA":
      return canonicalAddress(record) === canonicalAddress(value);
    case "CNAME":
      return canonicalName(record) === canonicalName(value);
    case "SRV": {
      const want = value.includes(":") ? value : `${value}:`;
      const [host, port] = [
        want.slice(0, want.lastIndexOf(":")),
        want.slice(want.lastIndexOf(":") + 1),
      ];
      const at = record.lastIndexOf(":");
      return canonicalName(record.slice(0, at)) === canonicalName(host) &&
        (port === "" || record.slice(at + 1) === port);
    }
    case "TXT":
      return record === value;
  }
}

/** A name in lower case without its final dot. */
function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** An IPv6 address in its shortest form (as the URL parser writes it); anything else as is. */
export function canonicalAddress(address: string): string {
  if (!address.includes(":")) return address;
  try {
    return new URL(`http://[${address}]`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}
