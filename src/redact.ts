/**
 * Secret handling. Credentials are redacted where they enter (when a URL is
 * parsed), and every secret value seen is also registered here so that the
 * output layer can scrub it from any line as a last line of defence.
 */

const MASK = "***";
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY/i;
const secrets = new Set<string>();
/** Shortest secret masked wherever it appears in free text. */
export const MIN_FREE_TEXT_SECRET = 4;

/** True when a variable's value must never be printed (name contains PASSWORD, SECRET, TOKEN or KEY). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Remembers a secret value so {@linkcode scrub} removes it from output, in
 * every form it can take there: as is, percent-encoded in a URL (both
 * `encodeURIComponent`'s and the URL parser's encoding) and escaped inside a
 * JSON log line.
 */
export function registerSecret(value: string | undefined | null): void {
  // A one- to three-character secret would mask that text in every word of
  // every line; such values stay masked where they are structurally a
  // secret (a URL's password, a secret query parameter), not as free text.
  if (!value || value.length < MIN_FREE_TEXT_SECRET) return;
  const forms = new Set([value]);
  try {
    forms.add(encodeURIComponent(value));
  } catch { /* lone surrogate: no encoded form */ }
  if (value.isWellFormed()) {
    try {
      // What `new URL(...).href` shows for this password.
      const u = new URL("x://h");
      u.password = value;
      if (u.password) forms.add(u.password);
    } catch { /* not representable in a URL */ }
  }
  // JSON log lines are scrubbed after JSON.stringify: `"` and `\` are escaped there.
  for (const f of [...forms]) forms.add(JSON.stringify(f).slice(1, -1));
  for (const f of forms) if (f) secrets.add(f);
  pattern = undefined;
}

/**
 * Registers the values of every secret-named variable and every password in
 * a URL-valued variable. The scan is deferred to the first {@linkcode scrub}:
 * a healthy `probe` prints nothing and so pays nothing for it.
 */
export function registerSecretsFromEnv(
  env: Record<string, string | undefined>,
): void {
  pendingEnvs.push(env);
  pattern = undefined;
}

const pendingEnvs: Record<string, string | undefined>[] = [];

function scanEnv(env: Record<string, string | undefined>): void {
  // A secret equal to a plain variable's value (POSTGRES_PASSWORD=postgres
  // with DB_HOST=postgres) is public anyway; masking it would garble every
  // host name and marker, so it is not registered.
  const plain = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isSecretName(name)) plain.add(value);
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isSecretName(name) && !plain.has(value)) registerSecret(value);
    if (!value.includes("://")) continue;
    // Lists are comma separated, but a raw password may contain a comma:
    // try both readings.
    for (
      const re of [
        new RegExp(SCHEME + String.raw`[^\s,]+`, "gi"),
        new RegExp(SCHEME + String.raw`\S+`, "gi"),
      ]
    ) {
      for (const m of value.matchAll(re)) {
        // postgres://postgres:postgres@...: the password is the user name,
        // printed anyway; the URL rule still masks it in its place.
        const user = /^[^:]*:\/\/([^:@/?#]*):/.exec(m[0])?.[1];
        for (const p of passwordReadings(m[0])) {
          if (p !== user) registerSecret(p);
        }
      }
    }
  }
}

/** Replaces every registered secret, and any URL password or secret query parameter, with `***`. */
export function scrub(text: string): string {
  // Registered secrets first: a raw password containing "@" or "/" would
  // otherwise be cut in two by the URL rule and no longer match whole.
  const re = secretsPattern();
  return redactUrls(re ? text.replace(re, MASK) : text);
}

let pattern: RegExp | undefined;

/**
 * One alternation of every secret, longest first so a secret containing
 * another is masked whole. A single pass never looks into a mask it wrote, so
 * a secret with a `*` cannot eat into a neighbouring `***`.
 */
function secretsPattern(): RegExp | undefined {
  while (pendingEnvs.length > 0) scanEnv(pendingEnvs.shift()!);
  if (pattern || secrets.size === 0) return pattern;
  const list = [...secrets].sort((a, b) => b.length - a.length);
  pattern = new RegExp(
    list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"),
    "g",
  );
  return pattern;
}

// Bounded and anchored at a non-scheme character: an unbounded
// `[a-z][a-z0-9+.-]*` backtracks quadratically over long words (a 4 KiB
// variable cost 90 ms on every start).
const SCHEME = String.raw`(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/`;
/**
 * `scheme://user:password@`, password group included. The password runs to
 * the LAST `@` of the word, not of the authority: a raw `@`, `/`, `?` or `#`
 * in a password is common in hand-written URLs, and masking too much (a URL
 * with an `@` in its query) is better than showing the rest of a password.
 * Not a password: a port after the colon (`http://host:8080/a@b`), and never
 * a `"` (a JSON log line is not masked across fields) or a following
 * `,scheme://` (lists of URLs).
 */
const USERINFO = String
  .raw`([^\s/?#@:"]*):(?!\d+(?:[/?#"\s]|$))((?:(?!,${SCHEME})[^\s"])*)@`;
const USERINFO_IN_TEXT = new RegExp(`(${SCHEME})${USERINFO}`, "gi");
const USERINFO_AT_START = new RegExp(`^${SCHEME}${USERINFO}`, "i");
/** The password as URL parsers read it: up to the last `@` before the path. */
const AUTHORITY_PASSWORD = new RegExp(
  String.raw`^${SCHEME}[^\s/?#@:]*:([^\s/?#]*)@`,
  "i",
);
const URL_IN_TEXT = new RegExp(SCHEME + String.raw`[^\s"']*`, "gi");
const SECRET_PARAM =
  /([?&;])([^=&#\s"']*(?:pass|secret|token|key|auth|sig|credential)[^=&#\s"']*)=((?:(?!:(?:\s|$))[^&#\s"'])*)/gi;

/** Masks the password of every `scheme://user:password@host` in a text, and its secret query parameters. */
export function redactUrls(text: string): string {
  // Both rules need a "://" and an "@" or a query separator: most texts have
  // neither, and skip the regular expressions (compiled on first use, which
  // a probe would pay on every run).
  if (
    !text.includes("://") ||
    !(text.includes("@") || text.includes("?") || text.includes("&") ||
      text.includes(";"))
  ) return text;
  return text
    .replace(
      USERINFO_IN_TEXT,
      (_all, scheme: string, user: string) => `${scheme}${user}:${MASK}@`,
    )
    .replace(URL_IN_TEXT, (url) =>
      url.replace(
        SECRET_PARAM,
        (_a, sep: string, name: string) => `${sep}${name}=${MASK}`,
      ));
}

/**
 * Redacts one URL: the password becomes `***`, and secret query parameters
 * too. A value meant as a URL but missing its `//` (`postgres:/u:pw@db`,
 * `u:pw@db:5432`) is not a URL to the text rule; there everything between
 * the user name and the last `@` is masked, since that is where a password
 * would be.
 */
export function redactUrl(url: string): string {
  if (url.includes("://") || !url.includes("@")) return redactUrls(url);
  const at = url.lastIndexOf("@");
  const head = url.slice(0, at);
  const m = /^((?:[a-z][a-z0-9+.-]{0,31}:\/+)?[^\s:@/]*):/i.exec(head);
  return redactUrls(`${m ? `${m[1]}:` : ""}${MASK}${url.slice(at)}`);
}

/**
 * The password part of a URL, if any, decoded: as URL parsers read it, or,
 * for a URL they cannot read, as {@linkcode redactUrls} masks it.
 */
export function urlPassword(url: string): string | undefined {
  const raw = AUTHORITY_PASSWORD.exec(url)?.[1] ??
    USERINFO_AT_START.exec(url)?.[2];
  return raw === undefined ? undefined : decode(raw);
}

/** Every reading of a URL's password, raw and decoded, for registration. */
function passwordReadings(url: string): string[] {
  const raws = [
    AUTHORITY_PASSWORD.exec(url)?.[1],
    USERINFO_AT_START.exec(url)?.[2],
  ].filter((r): r is string => r !== undefined);
  return [...raws, ...raws.map(decode)];
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Test helper: forgets every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
  pendingEnvs.length = 0;
  pattern = undefined;
}
