/**
 * Secret handling. Credentials are redacted where they enter (when a URL is
 * parsed), and every secret value seen is also registered here so that the
 * output layer can scrub it from any line as a last line of defence.
 */

const MASK = "***";
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY/i;
const secrets = new Set<string>();

/** True when a variable's value must never be printed (name contains PASSWORD, SECRET, TOKEN or KEY). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Remembers a secret value so {@linkcode scrub} removes it from output. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  secrets.add(value);
  // URL-encoded forms can appear too (a password inside a URL).
  try {
    const enc = encodeURIComponent(value);
    if (enc !== value) secrets.add(enc);
  } catch { /* lone surrogate: nothing else to add */ }
}

/** Registers the values of every secret-named variable and every password in a URL-valued variable. */
export function registerSecretsFromEnv(
  env: Record<string, string | undefined>,
): void {
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
    for (const m of value.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s,]+/gi)) {
      registerSecret(urlPassword(m[0]));
    }
  }
}

/** Replaces every registered secret, and any `user:password@` in URLs, with `***`. */
export function scrub(text: string): string {
  let out = redactUrls(text);
  // Longest first, so a secret containing another is masked whole.
  const list = [...secrets].sort((a, b) => b.length - a.length);
  for (const s of list) {
    if (s.length > 0 && out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}

/** Masks the password of every `scheme://user:password@host` in a text. */
export function redactUrls(text: string): string {
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s@]*)@/gi,
    (_all, scheme: string, user: string) => `${scheme}${user}:${MASK}@`,
  );
}

/** Redacts one URL: the password becomes `***`, and secret query parameters too. */
export function redactUrl(url: string): string {
  let out = redactUrls(url);
  out = out.replace(
    /([?&])(password|passwd|pass|sslpassword|token|secret|key)=([^&#]*)/gi,
    (_a, sep: string, name: string) => `${sep}${name}=${MASK}`,
  );
  return out;
}

/** The password part of a URL, if any, decoded. */
export function urlPassword(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:([^@]*)@/i.exec(url);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** Test helper: forgets every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}
