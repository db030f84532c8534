/**
 * A small, strict YAML reader for the manifests shown in the docs (Kubernetes
 * Deployments and Jobs): documents separated by `---`, block mappings, block
 * sequences (of scalars or of mappings, `- key: value`), flow sequences and
 * flow mappings (`["preflight", "probe"]`, `{ command: [...] }`, also spread
 * over lines with a trailing comma, as `deno fmt` writes them), and plain,
 * single- or double-quoted scalars. Anything else (anchors, tags, block
 * scalars, duplicate keys) throws, so a construct it could misread never
 * passes silently. No YAML library is available to the tests.
 */

/** A parsed YAML value: mappings, sequences and scalars only. */
export type Yaml =
  | string
  | number
  | boolean
  | null
  | Yaml[]
  | { [key: string]: Yaml };

interface Line {
  n: number;
  indent: number;
  text: string;
}

const KEY = /^([A-Za-z0-9_.\/\-]+):(?:\s+(.*))?$/;

/** `text` without a trailing ` # comment` (outside quotes). */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

/** Bracket depth change of a flow line, outside quotes. */
function depthOf(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
  }
  return depth;
}

function plainScalar(s: string, n: number): Yaml {
  if (/^[&*!|>%@`]/.test(s) || /:\s/.test(s) || s.endsWith(":")) {
    throw new Error(`line ${n}: unsupported YAML '${s}'`);
  }
  if (s === "" || s === "~" || s === "null") return null;
  if (s === "true" || s === "false") return s === "true";
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^-?\d+\.\d+$/.test(s)) return Number(s);
  return s;
}

function quoted(s: string, n: number): string {
  if (s.startsWith('"')) return JSON.parse(s);
  if (!s.endsWith("'") || s.length < 2) {
    throw new Error(`line ${n}: unterminated string ${s}`);
  }
  return s.slice(1, -1).replaceAll("''", "'");
}

/** Parses a flow value (`[...]`, `{...}`, a quoted or plain scalar) in full. */
function flowValue(text: string, n: number): Yaml {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (why: string): never => {
    throw new Error(`line ${n}: ${why} in flow value '${text}'`);
  };
  function scalar(stops: string): Yaml {
    ws();
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        j += text[j] === "\\" && c === '"' ? 2 : 1;
      }
      if (j >= text.length) fail("unterminated string");
      const s = text.slice(i, j + 1);
      i = j + 1;
      return quoted(s, n);
    }
    let j = i;
    while (j < text.length && !stops.includes(text[j])) j++;
    const s = text.slice(i, j).trim();
    i = j;
    return plainScalar(s, n);
  }
  function value(stops: string): Yaml {
    ws();
    if (text[i] === "[") {
      i++;
      const out: Yaml[] = [];
      ws();
      while (text[i] !== "]") {
        out.push(value(",]"));
        ws();
        if (text[i] === ",") {
          i++;
          ws();
        } else if (text[i] !== "]") fail("expected , or ]");
      }
      i++;
      return out;
    }
    if (text[i] === "{") {
      i++;
      const out: { [key: string]: Yaml } = {};
      ws();
      while (text[i] !== "}") {
        const key = scalar(":,}");
        if (typeof key !== "string" || text[i] !== ":") fail("expected key:");
        i++;
        if (Object.hasOwn(out, key as string)) fail(`duplicate key '${key}'`);
        out[key as string] = value(",}");
        ws();
        if (text[i] === ",") {
          i++;
          ws();
        } else if (text[i] !== "}") fail("expected , or }");
      }
      i++;
      return out;
    }
    return scalar(stops);
  }
  const v = value("");
  ws();
  if (i < text.length) fail("unexpected content");
  return v;
}

function scalarOrFlow(raw: string, n: number): Yaml {
  const s = raw.trim();
  if (s.startsWith("[") || s.startsWith("{")) return flowValue(s, n);
  if (s.startsWith('"') || s.startsWith("'")) return quoted(s, n);
  return plainScalar(s, n);
}

function parseDocument(lines: Line[]): Yaml {
  let pos = 0;
  const isItem = (l: Line) => l.text === "-" || l.text.startsWith("- ");

  function block(indent: number): Yaml {
    return isItem(lines[pos]) ? sequence(indent) : mapping(indent);
  }
  function sequence(indent: number): Yaml[] {
    const out: Yaml[] = [];
    while (
      pos < lines.length && lines[pos].indent === indent && isItem(lines[pos])
    ) {
      const l = lines[pos];
      const rest = l.text.slice(1).trimStart();
      if (rest === "") {
        pos++;
        out.push(
          pos < lines.length && lines[pos].indent > indent
            ? block(lines[pos].indent)
            : null,
        );
      } else if (KEY.test(rest) && !/^["'\[{]/.test(rest)) {
        // `- key: value`: a mapping whose keys line up after the dash.
        const inner = l.indent + (l.text.length - rest.length);
        lines[pos] = { n: l.n, indent: inner, text: rest };
        out.push(mapping(inner));
      } else {
        pos++;
        out.push(scalarOrFlow(rest, l.n));
      }
    }
    return out;
  }
  function mapping(indent: number): { [key: string]: Yaml } {
    const out: { [key: string]: Yaml } = {};
    while (pos < lines.length && lines[pos].indent >= indent) {
      const l = lines[pos];
      if (l.indent > indent) throw new Error(`line ${l.n}: unexpected indent`);
      if (isItem(l)) break;
      const m = KEY.exec(l.text);
      if (!m) throw new Error(`line ${l.n}: unsupported YAML '${l.text}'`);
      if (Object.hasOwn(out, m[1])) {
        throw new Error(`line ${l.n}: duplicate key '${m[1]}'`);
      }
      pos++;
      if (m[2] !== undefined && m[2] !== "") {
        out[m[1]] = scalarOrFlow(m[2], l.n);
      } else if (pos < lines.length && lines[pos].indent > indent) {
        out[m[1]] = block(lines[pos].indent);
      } else if (
        pos < lines.length && lines[pos].indent === indent && isItem(lines[pos])
      ) {
        out[m[1]] = sequence(indent);
      } else {
        out[m[1]] = null;
      }
    }
    return out;
  }

  if (lines.length === 0) return null;
  const doc = block(lines[0].indent);
  if (pos < lines.length) {
    throw new Error(`line ${lines[pos].n}: unexpected content`);
  }
  return doc;
}

/** Parses every document of `text` (separated by `---` lines). */
export function parseYamlDocuments(text: string): Yaml[] {
  const docs: Line[][] = [[]];
  let open: Line | undefined; // a flow value spread over lines
  let depth = 0;
  text.split("\n").forEach((raw, i) => {
    if (!open && /^---\s*$/.test(raw)) {
      docs.push([]);
      return;
    }
    if (!open && /^\s*(#|$)/.test(raw)) return;
    if (/^\s*\t/.test(raw)) throw new Error(`line ${i + 1}: tab indentation`);
    const indent = raw.length - raw.trimStart().length;
    const text = stripComment(raw.trim());
    if (open) {
      open.text += " " + text;
      depth += depthOf(text);
    } else {
      const line = { n: i + 1, indent, text };
      docs.at(-1)!.push(line);
      depth = depthOf(text);
      if (depth > 0) open = line;
    }
    if (open && depth <= 0) open = undefined;
  });
  if (open) throw new Error(`line ${open.n}: unclosed flow value`);
  return docs.filter((d) => d.length > 0).map(parseDocument);
}
