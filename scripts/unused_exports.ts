/**
 * Usage: deno run -A scripts/unused_exports.ts [DIR...]
 *
 * Lists the exports of the modules under src/ that no other module imports:
 * not src/, tests/, scripts/, bench/, faults/, e2e/ nor examples/. Each is
 * either dead (delete it) or used only inside its own module (drop
 * `export`). Exits 1 when there is any. tests/unused_exports_test.ts runs it.
 *
 * It reads import statements, not types: an export counts as used when a
 * module that imports its module (statically, by `import()` or
 * `typeof import()`) names it, or names it as a member of a namespace
 * import. A command handler is used by the command table (main.ts) by name.
 * A type or interface that its own module uses is part of the signature of
 * another export (a function's options or result), so it stays exported.
 */
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** One export nothing else imports. */
export interface UnusedExport {
  /** The module, relative to the repository. */
  readonly file: string;
  readonly name: string;
  readonly line: number;
  /** Whether its own module uses it (then drop `export`; else delete it). */
  readonly usedInside: boolean;
}

/** One export of a module. */
interface Export {
  readonly name: string;
  readonly line: number;
  /** A type or interface (else a value). */
  readonly isType: boolean;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCANNED = [
  "src",
  "tests",
  "scripts",
  "bench",
  "faults",
  "e2e",
  "examples",
];

function walk(dir: string, out: string[] = []): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules") walk(path, out);
    else if (e.isFile && /\.(ts|tsx|mts)$/.test(e.name)) out.push(path);
  }
  return out;
}

/** The names a module exports, with their lines (re-exports included). */
export function exportsOf(text: string): Export[] {
  const out: Export[] = [];
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const decl =
    /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(function\*?|const|let|var|class|interface|type|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of text.matchAll(decl)) {
    out.push({
      name: m[2],
      line: lineAt(m.index!),
      isType: m[1] === "interface" || m[1] === "type",
    });
  }
  const list = /^export\s+(type\s+)?\{([^}]*)\}/gm;
  for (const m of text.matchAll(list)) {
    for (const part of m[2].split(",")) {
      const isType = m[1] !== undefined || /^\s*type\s/.test(part);
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).at(-1)
        ?.trim();
      if (name) out.push({ name, line: lineAt(m.index!), isType });
    }
  }
  return out;
}

/** The modules a module imports (resolved paths), and what it names from each. */
function importsOf(
  file: string,
  text: string,
): Map<string, { names: Set<string>; namespaces: Set<string>; all: boolean }> {
  const out = new Map<
    string,
    { names: Set<string>; namespaces: Set<string>; all: boolean }
  >();
  const entry = (spec: string) => {
    const path = resolve(file, "..", spec);
    let e = out.get(path);
    if (!e) {
      e = { names: new Set(), namespaces: new Set(), all: false };
      out.set(path, e);
    }
    return e;
  };
  const named = (e: { names: Set<string> }, list: string) => {
    for (const part of list.split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]
        .trim();
      if (name) e.names.add(name);
    }
  };
  // import x, { a, b as c } from "./m.ts"; export { a } from "./m.ts"
  const stat =
    /(?:import|export)\s+(?:type\s+)?([\w$]+\s*,\s*)?(?:\{([^}]*)\}|\*\s+as\s+([\w$]+)|\*)?\s*(?:from\s+)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(stat)) {
    const e = entry(m[4]);
    if (m[2] !== undefined) named(e, m[2]);
    if (m[3] !== undefined) e.namespaces.add(m[3]);
    if (m[1] !== undefined) e.names.add("default");
    // `export * from`: everything of the module is re-exported.
    if (/^export\s+\*/.test(m[0]) && m[3] === undefined) e.all = true;
  }
  // import("./m.ts"), typeof import("./m.ts"):
  // whatever the importing module names counts.
  const dyn = /import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;
  for (const m of text.matchAll(dyn)) entry(m[1]).all = true;
  return out;
}

/** Every export under `dirs` (default src/) that nothing else imports. */
export function unusedExports(dirs = ["src"]): UnusedExport[] {
  const files = SCANNED.flatMap((d) => walk(`${ROOT}${d}`));
  const texts = new Map(files.map((f) => [f, Deno.readTextFileSync(f)]));
  const words = (text: string) => new Set(text.match(/[A-Za-z_$][\w$]*/g));
  const wordsOf = new Map([...texts].map(([f, t]) => [f, words(t)]));
  const imports = new Map([...texts].map(([f, t]) => [f, importsOf(f, t)]));
  const out: UnusedExport[] = [];
  const owned = dirs.map((d) => `${ROOT}${d}/`);
  for (const [file, text] of texts) {
    if (!owned.some((d) => file.startsWith(d))) continue;
    if (/_test\.ts$/.test(file) || file.endsWith("/main.ts")) continue;
    for (const { name, line, isType } of exportsOf(text)) {
      // A command handler, named after its module: the command table's.
      if (
        /\/src\/commands\/[a-z_]+\.ts$/.test(file) &&
        file.endsWith(`/${name}.ts`)
      ) continue;
      const used = [...imports].some(([other, map]) => {
        if (other === file) return false;
        const e = map.get(file);
        if (!e) return false;
        if (e.names.has(name)) return true;
        const w = wordsOf.get(other)!;
        if (e.all && w.has(name)) return true;
        return [...e.namespaces].some((ns) =>
          new RegExp(`\\b${ns}\\s*\\.\\s*${name.replace("$", "\\$")}\\b`)
            .test(texts.get(other)!)
        );
      });
      if (used) continue;
      const uses = text.match(
        new RegExp(`(?<![\\w$])${name.replace("$", "\\$")}(?![\\w$])`, "g"),
      )?.length ?? 0;
      // A type its own module uses belongs to the signature of an export
      // (the options of a function, what it returns): documented with it.
      if (isType && uses > 1) continue;
      out.push({
        file: relative(ROOT, file),
        name,
        line,
        usedInside: uses > 1,
      });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (import.meta.main) {
  const found = unusedExports(Deno.args.length > 0 ? Deno.args : undefined);
  for (const u of found) {
    console.log(
      `${u.file}:${u.line}: ${u.name}${
        u.usedInside ? " (used only in its module: drop export)" : " (unused)"
      }`,
    );
  }
  Deno.exit(found.length > 0 ? 1 : 0);
}
