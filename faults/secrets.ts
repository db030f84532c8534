/**
 * The secrets a fault run creates (database passwords), so that every
 * command, log excerpt and report line can be masked, and each row can check
 * that preflight itself never printed one.
 */

const secrets = new Set<string>();

/** A fresh random password, registered for masking. */
export function newSecret(prefix = "pw"): string {
  const s = `${prefix}-${crypto.randomUUID().slice(0, 13)}`;
  secrets.add(s);
  return s;
}

/** Replaces every registered secret (also URL-encoded) with `***`. */
export function mask(text: string): string {
  let out = text;
  for (const s of secrets) {
    out = out.replaceAll(s, "***").replaceAll(encodeURIComponent(s), "***");
  }
  return out;
}

/** True when `text` contains a registered secret. */
export function leaksSecret(text: string): boolean {
  return mask(text) !== text;
}
