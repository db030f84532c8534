/**
 * The kinds of target, and what the rest of preflight uses of them: parse a
 * target URL, build its check, name it, ask it for facts.
 *
 * Each line of {@linkcode KINDS} is one kind: the schemes it reads and a
 * literal `import()` of its module (src/checks/KIND.ts, exporting `kind`).
 * The schemes are here so that a URL is routed, and a misspelt scheme gets
 * "did you mean", without loading any kind; a module is loaded the first
 * time one of its targets is parsed. `deno compile` embeds every module
 * imported with a literal specifier, so this list is the only one to keep.
 */
import type { ConfigError } from "../errors.ts";
import { redactUrl } from "../redact.ts";
import { suggest } from "../cli/suggest.ts";
import type { Check, CheckOptions } from "./check.ts";
import type { TargetKind } from "./kind.ts";
import type { ServerFacts } from "./server_facts.ts";
import {
  invalidTarget,
  schemeOf,
  schemePhrase,
  type Target,
} from "./target.ts";

export type { Target, TargetKind };

type KindModule = { readonly kind: TargetKind<Target> };

/** One kind: its schemes and its module. */
export type KindLine = readonly [
  schemes: readonly string[],
  load: () => Promise<KindModule>,
];

/** Every kind of target, one line each. */
export const KINDS: readonly KindLine[] = [
  [["tcp"], () => import("./tcp.ts")],
  [["postgres", "postgresql"], () => import("./postgres.ts")],
  [["redis", "rediss"], () => import("./redis.ts")],
  [["http", "https"], () => import("./http.ts")],
  [["mysql", "mariadb"], () => import("./mysql.ts")],
  [["amqp", "amqps"], () => import("./amqp.ts")],
  [["dns"], () => import("./dns.ts")],
  [["unix"], () => import("./unix.ts")],
];

/** The kind that reads a bare `HOST:PORT` (wait-for-it's form). */
const BARE_SCHEME = "tcp";

/** `HOST:PORT` without a scheme, as wait-for-it takes it (IPv6 in brackets). */
const BARE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d+$/;

/** Every scheme a target may be written with, in the order of {@linkcode KINDS}. */
export function allSchemes(): string[] {
  return KINDS.flatMap(([schemes]) => schemes);
}

/** What a target may be, for messages: "HOST:PORT, tcp://, postgres://, ... URL". */
function acceptedTargets(): string {
  return `HOST:PORT or a ${allSchemes().map((s) => `${s}://`).join(", ")} URL`;
}

/**
 * The line of a scheme as written: SQLAlchemy-style URLs name a driver
 * after a `+` (`postgresql+psycopg2://`), which does not change the kind.
 */
function lineOf(scheme: string): KindLine | undefined {
  const base = scheme.replace(/\+[a-z0-9_]+$/, "");
  return KINDS.find(([schemes]) => schemes.includes(base));
}

/** The kind of a scheme (a target's `scheme`), loading its module. */
async function kindOf(scheme: string): Promise<TargetKind<Target>> {
  const line = lineOf(scheme);
  if (!line) throw new Error(`no kind of target reads '${scheme}://'`);
  return (await line[1]()).kind;
}

/**
 * The ConfigError for a text no kind reads, with "did you mean" for a
 * misspelt scheme; undefined when a kind reads it.
 */
function unknownScheme(text: string, source: string): ConfigError | undefined {
  const scheme = schemeOf(text);
  if (BARE.test(text) || (scheme !== undefined && lineOf(scheme))) {
    return undefined;
  }
  const bad = (why: string) => invalidTarget(source, redactUrl(text), why);
  if (scheme === undefined || !text.slice(scheme.length + 1).startsWith("//")) {
    const port = /^[^:/]+:(\S*)$/.exec(text)?.[1];
    return port !== undefined && /^\d+$/.test(port)
      ? bad("the port must be a number 1-65535")
      : bad(`expected ${acceptedTargets()}`);
  }
  const close = suggest(scheme, allSchemes());
  return bad(
    close
      ? `unknown scheme '${scheme}': did you mean '${close}://'?`
      : `unknown scheme '${scheme}', expected ${acceptedTargets()}`,
  );
}

/**
 * Parses one target URL with its kind's parser (loading that kind);
 * `source` names the option or variable it came from, for the error
 * message. Throws a ConfigError, the password masked.
 */
export async function parseTarget(
  text: string,
  source: string,
): Promise<Target> {
  const unknown = unknownScheme(text, source);
  if (unknown) throw unknown;
  if (BARE.test(text)) {
    // Read as the bare kind's URL; `url` stays as it was written.
    const kind = await kindOf(BARE_SCHEME);
    const target = kind.parse(`${BARE_SCHEME}://${text}`, source);
    return { ...target, url: text, bare: true };
  }
  return (await kindOf(schemeOf(text)!)).parse(text, source);
}

/**
 * Parses a URL that must be of one given kind (DATABASE_URL is PostgreSQL,
 * `--watchdog` is HTTP), synchronously with that kind's module: a scheme
 * of no kind gets the same message as from {@linkcode parseTarget}, one of
 * another kind says which schemes are expected.
 */
export function parseTargetOf<T extends Target>(
  kind: TargetKind<T>,
  text: string,
  source: string,
): T {
  const unknown = unknownScheme(text, source);
  if (unknown) throw unknown;
  const scheme = schemeOf(text);
  const base = scheme?.replace(/\+[a-z0-9_]+$/, "");
  if (base === undefined || !kind.schemes.includes(base)) {
    throw invalidTarget(
      source,
      redactUrl(text),
      `expected ${schemePhrase(kind.schemes)}`,
    );
  }
  return kind.parse(text, source);
}

/** Builds the check for a target, loading its kind on first use. */
export async function createCheck(
  target: Target,
  options: CheckOptions,
): Promise<Check> {
  return (await kindOf(target.scheme)).check(target, options);
}

/** How logs and reports name a target: "PostgreSQL at db:5432". */
export async function describeTarget(target: Target): Promise<string> {
  return (await kindOf(target.scheme)).describe(target);
}

/**
 * What `doctor` can say about a target's server (see
 * {@linkcode TargetKind.facts}); undefined for a kind that reports nothing
 * beyond its check.
 */
export async function targetFacts(
  target: Target,
  signal: AbortSignal,
): Promise<ServerFacts | undefined> {
  const kind = await kindOf(target.scheme);
  return kind.facts ? await kind.facts(target, signal) : undefined;
}

/**
 * For a bare `HOST:PORT` on the default port of a kind that speaks its
 * server's protocol: the URL that checks the server itself
 * (`postgres://db:5432` for `db:5432`). Loads every kind to know their
 * ports, which only a bare target pays for.
 */
export async function serverUrlFor(
  target: Target & { readonly port?: number },
): Promise<string | undefined> {
  if (!target.bare || target.port === undefined) return undefined;
  for (const [, load] of KINDS) {
    const { kind } = await load();
    if (!kind.speaksProtocol) continue;
    for (const scheme of kind.schemes) {
      if (kind.defaultPorts[scheme] === target.port) {
        return `${scheme}://${target.url}`;
      }
    }
  }
  return undefined;
}
