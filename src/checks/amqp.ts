/**
 * `amqp://` and `amqps://` targets (RabbitMQ and other AMQP 0-9-1 brokers),
 * default ports 5672 and 5671.
 *
 * Without a user (`amqp://HOST[:PORT]`) the check sends the protocol header
 * and is ready when the broker answers with `Connection.Start`: a broker
 * still booting refuses connections, and a proxy with nothing behind it
 * accepts and closes, neither of which passes. With a user
 * (`amqp://USER:PASSWORD@HOST[:PORT][/VHOST]`) the connection is opened on
 * the virtual host (default `/`; `%2F` in the path is `/` too) and closed
 * cleanly; wrong credentials (403 ACCESS_REFUSED) and an unknown or
 * forbidden virtual host (530 NOT_ALLOWED) are permanent.
 *
 * `amqps://` verifies the broker's certificate against the system's roots
 * plus the PEM file of `?cacertfile=PATH` (RabbitMQ's URI parameter; `cacert`
 * as for `rediss://` is accepted too). Verification cannot be turned off.
 */
import { type Check, PermanentError } from "./check.ts";
import type { TargetKind } from "./kind.ts";
import { type EndpointUrl, parseEndpointUrl } from "./endpoint_url.ts";
import { type AmqpEndpoint, amqpHandshake } from "./amqp_handshake.ts";
import type { FieldValue } from "./amqp_frame.ts";
import type { ServerFacts } from "./server_facts.ts";
import { hostPort, invalidTarget } from "./target.ts";

/** The port a URL without one implies, per scheme. */
const DEFAULT_PORTS = { amqp: 5672, amqps: 5671 };

const FORM = "an amqp://[USER:PASSWORD@]HOST[:PORT][/VHOST] or amqps:// URL";

/** Options of RabbitMQ's URI specification that tune a long-lived connection: accepted, and meaningless for a check that opens one for an instant. */
const IGNORED = [
  "heartbeat",
  "connection_timeout",
  "channel_max",
  "frame_max",
  "locale",
  "server_name_indication",
  "depth",
  "fail_if_no_peer_cert",
];
const CA_OPTIONS = ["cacertfile", "cacert"];
const ACCEPTED = [...CA_OPTIONS, "verify", "auth_mechanism", ...IGNORED];

/** A parsed `amqp://` or `amqps://` URL. */
export interface AmqpTarget extends EndpointUrl {
  readonly scheme: "amqp" | "amqps";
}

/** What the check needs of a target; `path` is the virtual host as written in the URL, decoded. */
type AmqpTargetFields =
  & Pick<
    EndpointUrl,
    "id" | "host" | "port" | "username" | "password" | "path" | "params"
  >
  & { readonly scheme: string };

/**
 * Parses and validates an `amqp://` or `amqps://` URL; `source` names the
 * option or variable it came from. Throws a `ConfigError` naming both, the
 * password masked, for a malformed URL, a virtual host with an unencoded
 * `/`, an unknown option, `verify=verify_none`, a login mechanism other than
 * PLAIN, or a CA file that cannot be read.
 */
function parseAmqpUrl(text: string, source: string): AmqpTarget {
  const target = parseEndpointUrl(text, source, {
    defaultPorts: DEFAULT_PORTS,
    form: FORM,
  }) as AmqpTarget;
  const bad = (why: string) => invalidTarget(source, target.id, why);
  // The URI spec: the virtual host is one path segment, "/" encoded as %2F.
  if (new URL(text).pathname.slice(1).includes("/")) {
    throw bad(
      "the virtual host is one path segment: write '/' inside it as %2F (amqp://HOST/%2F is the vhost '/')",
    );
  }
  if (new TextEncoder().encode(vhostOf(target)).length > 255) {
    throw bad("the virtual host name is longer than 255 bytes");
  }
  for (const [name, value] of target.params) {
    if (!ACCEPTED.includes(name)) {
      throw bad(
        `unknown option '${name}', expected one of ${ACCEPTED.join(", ")}`,
      );
    }
    if (name === "verify" && value !== "verify_peer") {
      throw bad(
        `verify '${value}' is not supported: certificates are always verified (give the CA with cacertfile=PATH)`,
      );
    }
    if (name === "auth_mechanism" && value.toUpperCase() !== "PLAIN") {
      throw bad(`auth_mechanism '${value}' is not supported, expected PLAIN`);
    }
    if (CA_OPTIONS.includes(name)) {
      if (target.scheme !== "amqps") {
        throw bad(`${name} needs an amqps:// URL`);
      }
      try {
        Deno.statSync(value);
      } catch {
        throw bad(`cannot read ${name} '${value}'`);
      }
    }
  }
  if (target.username !== undefined && target.username === "") {
    throw bad("the user name is empty");
  }
  return target;
}

/** The virtual host a target opens: its path, "/" when the path is empty. */
function vhostOf(target: Pick<EndpointUrl, "path">): string {
  return target.path === "" ? "/" : target.path;
}

/** The extra CA certificates named by `cacertfile=` (read at each attempt: it may be rotated). */
async function readCa(
  target: AmqpTargetFields,
): Promise<string[] | undefined> {
  const file = target.params.get("cacertfile") ?? target.params.get("cacert");
  if (!file) return undefined;
  try {
    return [await Deno.readTextFile(file)];
  } catch (e) {
    throw new PermanentError(
      `Cannot read the CA file '${file}' of ${target.id}: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
}

/** The connection parameters of a target, for amqp_handshake.ts. */
async function endpointOf(
  target: AmqpTargetFields,
  login: boolean,
): Promise<AmqpEndpoint> {
  const tls = target.scheme === "amqps";
  return {
    host: target.host,
    port: target.port,
    tls,
    caCerts: tls ? await readCa(target) : undefined,
    login: login && target.username !== undefined
      ? {
        user: target.username,
        password: target.password ?? "",
        vhost: vhostOf(target),
      }
      : undefined,
  };
}

/** How logs and reports name a target: "AMQP broker at mq:5672 (vhost '/')". */
function describeAmqpTarget(target: AmqpTargetFields): string {
  const tls = target.scheme === "amqps" ? " over TLS" : "";
  const vhost = target.username === undefined
    ? ""
    : ` (vhost '${vhostOf(target)}')`;
  return `AMQP broker at ${hostPort(target)}${tls}${vhost}`;
}

/**
 * Builds an AMQP check: `Connection.Start` without a user; with one, the
 * whole opening handshake on the virtual host, then a clean close.
 */
function amqpCheck(target: AmqpTargetFields): Check {
  return {
    id: target.id,
    async check(signal) {
      await amqpHandshake(await endpointOf(target, true), signal);
    },
  };
}

/**
 * What `doctor` reports about a broker, from its `Connection.Start` (no
 * credentials used): product, version, platform, cluster name and login
 * mechanisms. Rejects as the user-less check does.
 */
async function amqpFacts(
  target: AmqpTargetFields,
  signal: AbortSignal,
): Promise<ServerFacts> {
  const start = await amqpHandshake(await endpointOf(target, false), signal);
  const props = start.serverProperties;
  const text = (v: FieldValue | undefined) =>
    typeof v === "string" ? v : undefined;
  const product = text(props.product) ?? "AMQP broker";
  const version = text(props.version) ?? null;
  const data: Record<string, string | number | boolean | string[]> = {
    product,
    // Connection.Start says 0-9 for 0-9-1 (the revision is not sent).
    protocol: start.versionMajor === 0 && start.versionMinor === 9
      ? "0-9-1"
      : `${start.versionMajor}-${start.versionMinor}`,
    mechanisms: start.mechanisms,
  };
  if (version) data.version = version;
  for (const key of ["platform", "cluster_name"]) {
    const v = text(props[key]);
    if (v) data[key] = v;
  }
  return {
    summary: version ? `${product} ${version}` : product,
    value: version,
    data,
  };
}

/** The AMQP 0-9-1 kind. */
export const kind: TargetKind<AmqpTarget> = {
  schemes: ["amqp", "amqps"],
  defaultPorts: DEFAULT_PORTS,
  speaksProtocol: true,
  reference: [
    [
      "`amqp://HOST[:PORT]`, `amqps://` (no user)",
      "the AMQP 0-9-1 protocol header is answered by `Connection.Start`",
    ],
    [
      "`amqp://USER:PASS@HOST[:PORT][/VHOST]`, `amqps://`",
      "the connection opens on the virtual host (default `/`, `%2F` in the path) and closes cleanly; 403 `ACCESS_REFUSED` and 530 `NOT_ALLOWED` are permanent; `amqps://...?cacertfile=PATH` adds a CA",
    ],
  ],
  parse: parseAmqpUrl,
  check: amqpCheck,
  describe: describeAmqpTarget,
  facts: amqpFacts,
};
