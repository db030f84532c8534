/**
 * Command strings (`MIGRATE_CMD`, `ALEMBIC_CMD`, `APP_CMD`, `UVICORN_CMD`):
 * split into words as a POSIX shell would, with parameter expansion from the
 * environment, and no shell ever run. Anything that needs a real shell
 * (operators, redirections, command substitution) is a ConfigError naming the
 * variable and the position, so a pipeline cannot silently turn into
 * arguments.
 *
 * Supported, as in `sh`:
 * - blanks (space, tab; carriage return too, so CRLF files work) separate
 *   words; `#` at the start of a word begins a comment up to the line end;
 * - `'...'` is literal; `"..."` is literal except `$` expansions and the
 *   backslash escapes `\$`, `` \` ``, `\"`, `\\` and `\`+newline (removed);
 * - outside quotes a backslash takes the next character literally, and
 *   `\`+newline is removed (line continuation);
 * - adjacent parts join into one word (`--name="a b"`), and `""` or `''` is an
 *   empty word;
 * - `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty) and `${VAR-default}`
 *   (unset): an unset variable is empty. The default is parsed like the
 *   surrounding text (quotes, escapes and nested expansions work; operators
 *   are literal inside it, as in `sh`); inside double quotes a `'` in the
 *   default is literal and `"..."` nests, as in bash;
 * - unquoted expansions are field-split on space, tab and newline exactly like
 *   `sh` with the default IFS (`A="x y"; cmd $A` gives two arguments, and an
 *   empty unquoted expansion gives no word); quoted ones never are (`"$A"`
 *   is one word, possibly empty).
 *
 * Deliberately not supported: pathname expansion (`*`, `?`, `[` stay
 * literal), tilde expansion (`~` stays literal), `$'...'` quoting, special
 * parameters (`$1`, `$@`, `$?`, ...), other `${...}` forms and variable
 * assignments before the command (`FOO=1 cmd`: use `env FOO=1 cmd`). A line
 * break between words separates commands in `sh`, so it is an error here;
 * blank lines before or after the command are fine.
 *
 * A value whose first non-blank character is `[` is a JSON array of strings,
 * used literally: no expansion, no splitting.
 */
import { ConfigError } from "../errors.ts";
import { isSecretName, redactUrls } from "../redact.ts";

const ESCAPE =
  "name a script or use sh -c explicitly, e.g. sh -c 'a && b', or give a JSON array of strings";

/** One piece of a command string after lexing, before words are assembled. */
type Item =
  /** Quoted, escaped or plain literal text: never split, makes a word exist even when empty. */
  | { kind: "lit"; text: string; pos: number }
  /** The result of an unquoted expansion: split on blanks like sh's IFS. */
  | { kind: "split"; text: string; pos: number }
  /** Unquoted blanks between words. */
  | { kind: "break" };

interface Word {
  text: string;
  pos: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_REST = /[A-Za-z0-9_]/;
const SPECIAL_PARAM = /[0-9@*#?$!-]/;
const IFS = " \t\n";
const OPERATORS2 = [
  "&&",
  "||",
  ";;",
  ">>",
  "<<",
  ">&",
  "<&",
  "<>",
  ">|",
  "&>",
  "|&",
];
const OPERATOR_CHARS = ";&|<>()";

/**
 * Splits a command string into its argument vector as `sh` would (see the
 * module documentation for exactly what is supported), expanding variables
 * from `env`. `source` names the variable or option for error messages; its
 * value is not shown when the name is secret-ish. Throws ConfigError for
 * shell operators, bad quoting or expansions, and when no word results.
 * Callers that treat an empty value as "skip this step" check for that first.
 */
export function parseCommandString(
  text: string,
  env: Record<string, string | undefined>,
  source: string,
): string[] {
  const parser = new CommandParser(text, env, source);
  const words = /^\s*\[/.test(text) ? parser.parseJson() : parser.parseShell();
  if (words.length === 0) {
    parser.fail(0, "no command given; expected a program and its arguments");
  }
  if (words[0].text === "") {
    parser.fail(
      words[0].pos,
      "the program name is empty; expected a program and its arguments",
    );
  }
  for (const w of words) {
    if (w.text.includes("\0")) {
      parser.fail(w.pos, "a NUL character cannot be passed to a program");
    }
  }
  return words.map((w) => w.text);
}

class CommandParser {
  i = 0;

  constructor(
    readonly s: string,
    readonly env: Record<string, string | undefined>,
    readonly source: string,
  ) {}

  /** Throws the ConfigError for a problem at 0-based index `pos`. */
  fail(pos: number, reason: string): never {
    const shown = isSecretName(this.source) ? "" : ` '${redactUrls(this.s)}'`;
    throw new ConfigError(
      `Invalid ${this.source}${shown} at position ${pos + 1}: ${reason}`,
    );
  }

  /** An excerpt of the value for a reason, or a generic phrase for secret sources. */
  excerpt(from: number, to: number, otherwise: string): string {
    return isSecretName(this.source)
      ? otherwise
      : `'${redactUrls(this.s.slice(from, to))}'`;
  }

  /** Index `j` moved past any backslash-newline pairs, which sh removes before tokenising. */
  skip(j: number): number {
    while (this.s[j] === "\\" && this.s[j + 1] === "\n") j += 2;
    return j;
  }

  /** A name (`[A-Za-z_][A-Za-z0-9_]*`, line continuations allowed) starting at `j`; its text and end. */
  name(j: number): [string, number] {
    let name = "";
    j = this.skip(j);
    if (j >= this.s.length || !NAME_START.test(this.s[j])) return ["", j];
    while (j < this.s.length && NAME_REST.test(this.s[j])) {
      name += this.s[j];
      j = this.skip(j + 1);
    }
    return [name, j];
  }

  lookup(name: string): string | undefined {
    // Own properties only: `$constructor` must not find Object.prototype's.
    if (!Object.hasOwn(this.env, name)) return undefined;
    const v = this.env[name];
    return typeof v === "string" ? v : undefined;
  }

  // ---- shell syntax -------------------------------------------------------

  parseShell(): Word[] {
    const s = this.s;
    const items: Item[] = [];
    let inWord = false; // lexically inside a word token
    let wordStart = -1;
    let sawWord = false;
    let newlineAt = -1; // first line break after a word
    while (this.i < s.length) {
      const c = s[this.i];
      // Line continuation disappears before tokenising, as in sh.
      if (c === "\\" && s[this.i + 1] === "\n") {
        this.i += 2;
        continue;
      }
      if (c === " " || c === "\t" || c === "\r" || c === "\n") {
        if (c === "\n" && sawWord && newlineAt < 0) newlineAt = this.i;
        items.push({ kind: "break" });
        inWord = false;
        this.i++;
        continue;
      }
      if (!inWord) {
        if (c === "#") {
          while (this.i < s.length && s[this.i] !== "\n") this.i++;
          continue;
        }
        if (newlineAt >= 0) {
          this.fail(
            newlineAt,
            `a line break separates commands; put the command on one line or end lines with \\, or ${ESCAPE}`,
          );
        }
        if (!sawWord) this.checkAssignment(this.i);
        inWord = true;
        sawWord = true;
        wordStart = this.i;
      }
      const pos = this.i;
      switch (c) {
        case "\\": {
          if (this.i + 1 >= s.length) {
            this.fail(
              pos,
              "a backslash at the end escapes nothing; remove it or write \\\\",
            );
          }
          items.push({ kind: "lit", text: s[this.i + 1], pos });
          this.i += 2;
          break;
        }
        case "'":
          items.push(this.singleQuoted());
          break;
        case '"':
          items.push(...this.doubleQuoted());
          break;
        case "$":
          if (s[this.skip(this.i + 1)] === "'") {
            this.fail(
              pos,
              "$'...' quoting is not supported; use single or double quotes",
            );
          }
          items.push(...this.dollar(false));
          break;
        case "`":
          this.fail(
            pos,
            `command substitution with backquotes is not supported; ${ESCAPE}`,
          );
          break;
        default:
          if (OPERATOR_CHARS.includes(c)) this.operator(pos, wordStart);
          items.push({ kind: "lit", text: c, pos });
          this.i++;
      }
    }
    return assemble(items);
  }

  /** `FOO=1 cmd` is an assignment in sh; here it would run a program named "FOO=1". */
  checkAssignment(at: number): void {
    const m = /^[A-Za-z_][A-Za-z0-9_]*=/.exec(this.s.slice(at));
    if (m) {
      this.fail(
        at,
        `variable assignment ${
          this.excerpt(at, at + m[0].length, "before the command")
        } is not supported; set it in the environment or use env NAME=value program`,
      );
    }
  }

  /** Reports the shell operator at `pos` (maximal munch, with `2>`-style IO numbers). */
  operator(pos: number, wordStart: number): never {
    const s = this.s;
    let op = s[pos];
    const two = op + (s[this.skip(pos + 1)] ?? "");
    if (OPERATORS2.includes(two)) op = two;
    let at = pos;
    if ((op[0] === ">" || op[0] === "<") && wordStart >= 0 && wordStart < pos) {
      const digits = s.slice(wordStart, pos).replaceAll("\\\n", "");
      if (/^\d+$/.test(digits)) {
        op = digits + op;
        at = wordStart;
      }
    }
    const what = /[<>]/.test(op)
      ? "redirection"
      : op === "(" || op === ")"
      ? "subshell parenthesis"
      : "shell operator";
    this.fail(at, `${what} '${op}' is not supported; ${ESCAPE}`);
  }

  singleQuoted(): Item {
    const start = this.i;
    const end = this.s.indexOf("'", start + 1);
    if (end < 0) {
      this.fail(start, "unterminated single quote; close it with '");
    }
    this.i = end + 1;
    return { kind: "lit", text: this.s.slice(start + 1, end), pos: start };
  }

  doubleQuoted(): Item[] {
    const s = this.s;
    const start = this.i;
    // The leading empty literal makes `""` an (empty) word.
    const items: Item[] = [{ kind: "lit", text: "", pos: start }];
    let buf = "";
    let bufPos = start;
    const flush = () => {
      if (buf !== "") items.push({ kind: "lit", text: buf, pos: bufPos });
      buf = "";
    };
    this.i++;
    for (;;) {
      if (this.i >= s.length) {
        this.fail(start, 'unterminated double quote; close it with "');
      }
      const c = s[this.i];
      if (buf === "") bufPos = this.i;
      if (c === '"') {
        this.i++;
        break;
      }
      if (c === "\\") {
        const nx = s[this.i + 1];
        if (nx === undefined) {
          this.fail(start, 'unterminated double quote; close it with "');
        }
        if (nx === "\n") this.i += 2;
        else if ('$`"\\'.includes(nx)) {
          buf += nx;
          this.i += 2;
        } else {
          buf += "\\";
          this.i++;
        }
      } else if (c === "`") {
        this.fail(
          this.i,
          `command substitution with backquotes is not supported; ${ESCAPE}`,
        );
      } else if (c === "$") {
        flush();
        items.push(...this.dollar(true));
      } else {
        buf += c;
        this.i++;
      }
    }
    flush();
    return items;
  }

  /** A `$` at `this.i`: an expansion, or a literal `$` when nothing follows that sh would expand. */
  dollar(quoted: boolean): Item[] {
    const s = this.s;
    const pos = this.i;
    const after = this.skip(pos + 1);
    const nx = s[after];
    if (nx === "{") return this.braced(quoted, after);
    if (nx === "(") {
      if (s[this.skip(after + 1)] === "(") {
        this.fail(
          pos,
          "arithmetic expansion '$((' is not supported; compute the value before",
        );
      }
      this.fail(pos, `command substitution '$(' is not supported; ${ESCAPE}`);
    }
    if (nx !== undefined && NAME_START.test(nx)) {
      const [name, j] = this.name(after);
      this.i = j;
      return [this.expanded(this.lookup(name) ?? "", quoted, pos)];
    }
    if (nx !== undefined && SPECIAL_PARAM.test(nx)) {
      this.fail(
        pos,
        `special parameter '$${nx}' is not supported; expected $NAME, \${NAME}, \${NAME:-default} or \${NAME-default}`,
      );
    }
    this.i++;
    return [{ kind: "lit", text: "$", pos }];
  }

  expanded(value: string, quoted: boolean, pos: number): Item {
    return quoted
      ? { kind: "lit", text: value, pos }
      : { kind: "split", text: value, pos };
  }

  /** `${...}` with the `$` at `this.i` and the `{` at `brace`. */
  braced(quoted: boolean, brace: number): Item[] {
    const s = this.s;
    const pos = this.i;
    const accepted =
      "expected $NAME, ${NAME}, ${NAME:-default} or ${NAME-default}";
    const unterminated = () =>
      this.fail(pos, "unterminated '${'; expected a closing }");
    const unsupported = (): never => {
      const close = s.indexOf("}", pos);
      const what = this.excerpt(
        pos,
        close < 0 ? s.length : close + 1,
        "this form",
      );
      this.fail(pos, `unsupported expansion ${what}; ${accepted}`);
    };
    const [name, j0] = this.name(brace + 1);
    let j = j0;
    if (j >= s.length) unterminated();
    if (name === "") {
      if (s[j] === "}") this.fail(pos, `empty expansion '\${}'; ${accepted}`);
      unsupported();
    }
    let op: ":-" | "-";
    if (s[j] === "}") {
      this.i = j + 1;
      return [this.expanded(this.lookup(name) ?? "", quoted, pos)];
    } else if (s[j] === ":" && s[this.skip(j + 1)] === "-") {
      op = ":-";
      j = this.skip(j + 1) + 1;
    } else if (s[j] === "-") {
      op = "-";
      j += 1;
    } else {
      return unsupported();
    }
    this.i = j;
    // Parse the default even when unused, so its syntax errors always show.
    const fallback = this.defaultWord(quoted, pos);
    const value = this.lookup(name);
    const useDefault = op === ":-"
      ? value === undefined || value === ""
      : value === undefined;
    return useDefault ? fallback : [this.expanded(value!, quoted, pos)];
  }

  /** The `default` of `${NAME:-default}`, up to and including the closing `}`. */
  defaultWord(quoted: boolean, open: number): Item[] {
    const s = this.s;
    const items: Item[] = [];
    for (;;) {
      if (this.i >= s.length) {
        this.fail(open, "unterminated '${'; expected a closing }");
      }
      const c = s[this.i];
      const pos = this.i;
      if (c === "}") {
        this.i++;
        return items;
      }
      if (c === "\\") {
        const nx = s[this.i + 1];
        if (nx === undefined) {
          this.fail(open, "unterminated '${'; expected a closing }");
        }
        if (nx === "\n") this.i += 2;
        else if (!quoted || '$`"\\}'.includes(nx)) {
          items.push({ kind: "lit", text: nx, pos });
          this.i += 2;
        } else {
          items.push({ kind: "lit", text: "\\", pos });
          this.i++;
        }
      } else if (c === "'" && !quoted) {
        items.push(this.singleQuoted());
      } else if (c === '"') {
        items.push(...this.doubleQuoted());
      } else if (c === "$") {
        items.push(...this.dollar(quoted));
      } else if (c === "`") {
        this.fail(
          pos,
          `command substitution with backquotes is not supported; ${ESCAPE}`,
        );
      } else {
        // Literal text of an unquoted default is split like an expansion result.
        items.push(
          quoted
            ? { kind: "lit", text: c, pos }
            : { kind: "split", text: c, pos },
        );
        this.i++;
      }
    }
  }

  // ---- JSON array ---------------------------------------------------------

  /** A JSON array of strings, with positions in errors (JSON.parse gives none portably). */
  parseJson(): Word[] {
    const s = this.s;
    const accepted =
      'expected a JSON array of strings such as ["alembic", "upgrade", "head"]';
    const ws = () => {
      while (this.i < s.length && " \t\n\r".includes(s[this.i])) this.i++;
    };
    const words: Word[] = [];
    ws();
    this.i++; // the "[" that selected JSON
    ws();
    if (s[this.i] === "]") {
      this.i++;
    } else {
      for (;;) {
        ws();
        if (this.i >= s.length) {
          this.fail(this.i, `unterminated JSON array; ${accepted}`);
        }
        if (s[this.i] !== '"') {
          this.fail(
            this.i,
            `element ${words.length + 1} is not a string; ${accepted}`,
          );
        }
        const pos = this.i;
        words.push({ text: this.jsonString(accepted), pos });
        ws();
        const c = s[this.i];
        if (c === ",") {
          this.i++;
          continue;
        }
        if (c === "]") {
          this.i++;
          break;
        }
        this.fail(
          this.i,
          this.i >= s.length
            ? `unterminated JSON array; ${accepted}`
            : `expected ',' or ']' in the JSON array; ${accepted}`,
        );
      }
    }
    ws();
    if (this.i < s.length) {
      this.fail(this.i, `unexpected text after the JSON array; ${accepted}`);
    }
    return words;
  }

  /** One JSON string at `this.i` (the opening quote); leaves `this.i` after it. */
  jsonString(accepted: string): string {
    const s = this.s;
    const start = this.i;
    let out = "";
    this.i++;
    for (;;) {
      if (this.i >= s.length) {
        this.fail(start, `unterminated JSON string; ${accepted}`);
      }
      const c = s[this.i];
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c < " ") {
        this.fail(
          this.i,
          `control character in a JSON string, write it as an escape; ${accepted}`,
        );
      }
      if (c !== "\\") {
        out += c;
        this.i++;
        continue;
      }
      const e = s[this.i + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        b: "\b",
        f: "\f",
        n: "\n",
        r: "\r",
        t: "\t",
      };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        this.i += 2;
      } else if (
        e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))
      ) {
        out += String.fromCharCode(
          parseInt(s.slice(this.i + 2, this.i + 6), 16),
        );
        this.i += 6;
      } else {
        this.fail(this.i, `invalid escape in a JSON string; ${accepted}`);
      }
    }
  }
}

/** Builds words from lexed items, field-splitting unquoted expansion results. */
function assemble(items: Item[]): Word[] {
  const words: Word[] = [];
  let cur: Word | null = null;
  for (const item of items) {
    if (item.kind === "break") {
      if (cur) words.push(cur);
      cur = null;
    } else if (item.kind === "lit") {
      cur ??= { text: "", pos: item.pos };
      cur.text += item.text;
    } else {
      for (const ch of item.text) {
        if (IFS.includes(ch)) {
          if (cur) words.push(cur);
          cur = null;
        } else {
          cur ??= { text: "", pos: item.pos };
          cur.text += ch;
        }
      }
    }
  }
  if (cur) words.push(cur);
  return words;
}

/**
 * Quotes words so that {@linkcode parseCommandString} (and `sh`) gives them
 * back unchanged; for logging a command and for tests.
 */
export function shellQuote(words: readonly string[]): string {
  return words.map((w) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)
      ? w
      : `'${w.replaceAll("'", `'\\''`)}'`
  ).join(" ");
}

const PYTHON = /^(?:python[0-9.]*|pythonw|py)$/i;
const SHELL = /^(?:sh|bash|dash|ash|zsh|ksh|mksh)$/i;
const INTERPRETER = /^(?:node|ruby|perl)$/i;

/** What a command line runs, for its display name. */
type Runs =
  | { kind: "program"; name: string }
  | { kind: "script"; name: string }
  | { kind: "inline" };

const baseName = (path: string) =>
  path.split(/[\\/]/).pop()!.replace(/\.exe$/i, "");

/**
 * Drops the wrappers that only change how the real program starts: `env`
 * (its options and `NAME=value` assignments), `exec`, `nohup`, `nice`,
 * `tini` and `dumb-init` (up to their `--`).
 */
function unwrap(argv: readonly string[]): readonly string[] {
  let words = argv;
  while (words.length > 0) {
    const base = baseName(words[0]);
    let k = 1;
    if (base === "env") {
      while (k < words.length) {
        const w = words[k];
        if (w === "--") {
          k++;
          break;
        }
        if (/^(-u|-C|--unset|--chdir)$/.test(w)) k += 2;
        else if (w.startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) k++;
        else break;
      }
    } else if (base === "exec") {
      while (k < words.length && words[k].startsWith("-")) {
        k += words[k] === "-a" ? 2 : 1;
      }
    } else if (base === "nice") {
      while (k < words.length && words[k].startsWith("-")) {
        k += words[k] === "-n" ? 2 : 1;
      }
    } else if (base === "tini" || base === "dumb-init") {
      while (k < words.length && words[k].startsWith("-")) {
        if (words[k++] === "--") break;
      }
    } else if (base !== "nohup") {
      return words;
    }
    words = words.slice(k);
  }
  return words;
}

/**
 * The first argument of an interpreter that is not an option: its script.
 * `inline` marks the options that run code given on the command line (`-c`,
 * `-e`), `module` Python's `-m`, `takesValue` the options whose value is the
 * next word when not attached.
 */
function interpreted(
  argv: readonly string[],
  inline: string,
  module: string,
  takesValue: string,
): Runs | undefined {
  for (let k = 1; k < argv.length; k++) {
    const a = argv[k];
    if (a === "--") continue;
    if (!a.startsWith("-") || a === "-") {
      return a === "-" ? undefined : { kind: "script", name: baseName(a) };
    }
    if (a.startsWith("--")) continue;
    // Short options can be grouped: `-um alembic`, `-ec 'cmd'`.
    for (let c = 1; c < a.length; c++) {
      const opt = a[c];
      if (module.includes(opt)) {
        const mod = c + 1 < a.length ? a.slice(c + 1) : argv[k + 1];
        const top = mod?.split(".")[0];
        return top ? { kind: "program", name: top } : undefined;
      }
      if (inline.includes(opt)) return { kind: "inline" };
      if (takesValue.includes(opt)) {
        if (c + 1 === a.length) k++;
        break;
      }
    }
  }
  return undefined;
}

function whatRuns(argv: readonly string[]): Runs {
  const words = unwrap(argv);
  if (words.length === 0) return { kind: "inline" };
  const base = baseName(words[0]);
  const by = PYTHON.test(base)
    ? interpreted(words, "c", "m", "WX")
    : SHELL.test(base)
    ? interpreted(words, "c", "", "o")
    : INTERPRETER.test(base)
    ? interpreted(words, "ep", "", "r")
    : undefined;
  if (by) return by;
  // A file run by its own path (./migrate) or with an extension
  // (migrate.sh) is a script: its name keeps its own spelling.
  const script = /^\.\.?[\\/]/.test(words[0]) || /.\.[A-Za-z0-9]+$/.test(base);
  return { kind: script ? "script" : "program", name: base };
}

/**
 * The name a command has in log markers ("Alembic attempt 1/6", "Starting
 * Uvicorn application"): the program's base name without directories or
 * `.exe`, capitalised; for a Python interpreter running `-m MODULE`, the
 * module's top-level package (`python3 -m alembic` gives "Alembic");
 * wrappers such as `env` and `exec` are skipped (`/usr/bin/env alembic` is
 * "Alembic"); a script keeps its own spelling (`./migrate.sh`,
 * `python manage.py`); code given inline (`sh -c '...'`) has no name of its
 * own: undefined, and the caller says "migration" or "app".
 */
export function commandDisplayName(
  argv: readonly string[],
): string | undefined {
  const runs = whatRuns(argv);
  if (runs.kind === "inline" || runs.name === "") return undefined;
  if (runs.kind === "script") return runs.name;
  return runs.name[0].toUpperCase() + runs.name.slice(1);
}
