/**
 * Env files (`--env-file`) in the `.env` syntax Docker Compose reads:
 *
 * - `KEY=value` and `export KEY=value`, one per line; blank lines and lines
 *   starting with `#` are ignored; blanks around the key and the `=` are too;
 * - unquoted values end at the line end, lose a trailing ` # comment` (the
 *   `#` must follow a blank: `A=b#c` is `b#c`) and surrounding blanks;
 * - single-quoted values are literal except `\'` for a quote; double-quoted
 *   values understand `\n`, `\r`, `\t`, `\\`, `\"` and `\$` (any other
 *   backslash stays); quoted values may span lines and may be followed by a
 *   ` # comment`;
 * - keys are letters, digits, `_` and `.`, not starting with a digit.
 *
 * Unlike Compose, `${VAR}` and `$VAR` are NOT interpolated: values are taken
 * as written, so a `$` in a password needs no escaping. (Command strings
 * expand variables later, from the merged environment.) A bare `KEY` line,
 * which Compose would take from the host environment, is an error here.
 *
 * Errors name the file and line but never show the line: values may be
 * secrets.
 */
import { ConfigError } from "../errors.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Parses the text of one env file; `path` is only used in error messages. */
export function parseEnvFile(
  text: string,
  path: string,
): Record<string, string> {
  // CRLF files are common on Windows hosts; a BOM comes from some editors.
  const s = text.replace(/^\uFEFF/, "").replaceAll("\r\n", "\n");
  const out = new Map<string, string>();
  const bad = (line: number, why: string): never => {
    throw new ConfigError(`Invalid env file '${path}' at line ${line}: ${why}`);
  };
  const blank = (c: string | undefined) => c === " " || c === "\t";
  let i = 0;
  let line = 1;

  /** After a closing quote: only blanks and a comment may follow on the line. */
  const endOfStatement = () => {
    while (blank(s[i])) i++;
    if (s[i] === "#") { while (i < s.length && s[i] !== "\n") i++; }
    if (i < s.length && s[i] !== "\n") {
      bad(
        line,
        "unexpected text after the closing quote; expected a # comment or the end of the line",
      );
    }
  };

  while (i < s.length) {
    while (blank(s[i]) || s[i] === "\r" || s[i] === "\f" || s[i] === "\v") i++;
    if (i >= s.length) break;
    if (s[i] === "\n") {
      line++;
      i++;
      continue;
    }
    if (s[i] === "#") {
      while (i < s.length && s[i] !== "\n") i++;
      continue;
    }
    const start = line;
    if (s.startsWith("export", i) && blank(s[i + 6])) {
      i += 6;
      while (blank(s[i])) i++;
    }
    const eol = s.indexOf("\n", i) < 0 ? s.length : s.indexOf("\n", i);
    const eq = s.indexOf("=", i);
    if (eq < 0 || eq > eol) {
      bad(start, "expected KEY=value, export KEY=value or a # comment");
    }
    const key = s.slice(i, eq).trim();
    if (!KEY.test(key)) {
      bad(
        start,
        "invalid variable name; expected letters, digits, _ and . not starting with a digit",
      );
    }
    i = eq + 1;
    while (blank(s[i])) i++;
    let value = "";
    const q = s[i];
    if (q === "'" || q === '"') {
      i++;
      for (;;) {
        if (i >= s.length) {
          bad(
            start,
            `unterminated ${q === "'" ? "single" : "double"}-quoted value`,
          );
        }
        const c = s[i];
        if (c === q) {
          i++;
          break;
        }
        if (c === "\\" && q === "'" && s[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (c === "\\" && q === '"' && i + 1 < s.length) {
          const e = s[i + 1];
          const map: Record<string, string> = {
            n: "\n",
            r: "\r",
            t: "\t",
            "\\": "\\",
            '"': '"',
            $: "$",
          };
          value += Object.hasOwn(map, e) ? map[e] : c + e;
          if (e === "\n") line++;
          i += 2;
        } else {
          if (c === "\n") line++;
          value += c;
          i++;
        }
      }
      endOfStatement();
    } else {
      const raw = s.slice(i, eol);
      // A comment needs a blank before the #; the blanks after = were skipped.
      const hash = /[ \t]#/.exec(raw);
      const preceded = s[i - 1] === " " || s[i - 1] === "\t";
      value = (preceded && raw.startsWith("#")
        ? ""
        : hash
        ? raw.slice(0, hash.index)
        : raw).trim();
      i = eol;
    }
    out.set(key, value);
  }
  return Object.fromEntries(out);
}

/**
 * Reads and merges env files in order, later files overriding earlier ones.
 * (The process environment overriding them all is the caller's business.)
 * An unreadable file is a ConfigError naming it.
 */
export async function loadEnvFiles(
  paths: readonly string[],
): Promise<Record<string, string>> {
  const merged = new Map<string, string>();
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new ConfigError(`Cannot read env file '${path}': ${reason(e)}`, {
        cause: e,
      });
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ConfigError(
        `Cannot read env file '${path}': not valid UTF-8 text`,
      );
    }
    for (const [k, v] of Object.entries(parseEnvFile(text, path))) {
      merged.set(k, v);
    }
  }
  return Object.fromEntries(merged);
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory";
  const msg = e instanceof Error ? e.message : String(e);
  // "Is a directory (os error 21): readfile '/x'" -> "Is a directory"
  return msg.replace(/\s*\(os error \d+\).*$/s, "") || "unreadable";
}
