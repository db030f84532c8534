/**
 * The direction of dependencies in src/ (docs/architecture.md): folders
 * import downwards only, so the import graph between folders has no cycle.
 * Built from the source text itself: every `import`, `export ... from`,
 * `import()` and `typeof import()` of a relative path, type-only ones
 * included (a type import is still a dependency a reader must follow).
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/** Every module of src/ that is not a test, relative to src/ ("checks/tcp.ts"). */
export function sourceModules(dir = SRC, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory) {
      out.push(
        ...sourceModules(
          new URL(`${entry.name}/`, dir),
          `${prefix}${entry.name}/`,
        ),
      );
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      out.push(prefix + entry.name);
    }
  }
  return out.sort();
}

/** Removes comments, so an example in a doc comment is not an import. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
}

const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\1/g;

/** The relative modules one source text imports, resolved against its own path. */
export function importsOf(path: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of stripComments(text).matchAll(SPECIFIER)) {
    const url = new URL(m[2], new URL(path, "file:///src/"));
    if (!url.pathname.startsWith("/src/")) continue; // deno.json and the like
    out.add(url.pathname.slice("/src/".length));
  }
  return [...out];
}

/**
 * The node a module belongs to: its folder ("checks"), or for a module at
 * the top of src/ the module itself ("main.ts", "errors.ts"): main.ts is the
 * entry point, the others are base modules every folder may use.
 */
export function nodeOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path : path.slice(0, slash);
}

/** One edge between nodes, with the import that makes it. */
interface Edge {
  readonly to: string;
  readonly because: string;
}

/** The graph between nodes, each edge with one import that makes it. */
export function folderGraph(
  modules: ReadonlyMap<string, string>,
): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const [path, text] of modules) {
    const from = nodeOf(path);
    const edges = graph.get(from) ?? [];
    graph.set(from, edges);
    for (const dep of importsOf(path, text)) {
      const to = nodeOf(dep);
      if (to === from || edges.some((e) => e.to === to)) continue;
      edges.push({ to, because: `${path} imports ${dep}` });
    }
  }
  return graph;
}

/**
 * A cycle of the graph, as the lines of its edges ("config → checks:
 * config/stack_env.ts imports checks/target.ts"), or undefined.
 */
export function findCycle(
  graph: ReadonlyMap<string, readonly Edge[]>,
): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: { node: string; edge?: Edge }[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    for (const edge of graph.get(node) ?? []) {
      path.push({ node, edge });
      if (state.get(edge.to) === "open") {
        const start = path.findIndex((p) => p.node === edge.to);
        return path.slice(start).map((p) =>
          `${p.node} → ${p.edge!.to}: ${p.edge!.because}`
        );
      }
      if (!state.has(edge.to)) {
        const found = visit(edge.to);
        if (found) return found;
      }
      path.pop();
    }
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

function readModules(): Map<string, string> {
  return new Map(
    sourceModules().map((p) => [p, Deno.readTextFileSync(new URL(p, SRC))]),
  );
}

Deno.test("no import cycle between src/ folders: every folder imports only downwards", () => {
  const graph = folderGraph(readModules());
  const cycle = findCycle(graph);
  assert.equal(
    cycle,
    undefined,
    `import cycle between folders:\n  ${cycle?.join("\n  ")}`,
  );
});

Deno.test("the import-graph check finds a cycle and names the imports that make it", () => {
  const modules = new Map([
    [
      "config/stack_env.ts",
      'import { parseTarget } from "../checks/target.ts";',
    ],
    ["checks/target.ts", 'import { redactUrl } from "../config/redact.ts";'],
    ["config/redact.ts", "// import { x } from '../wait/x.ts';"],
    [
      "wait/wait_for.ts",
      'import type { Check } from "../checks/check.ts";\nexport * from "./x.ts";',
    ],
  ]);
  assert.deepEqual(findCycle(folderGraph(modules)), [
    "checks → config: checks/target.ts imports config/redact.ts",
    "config → checks: config/stack_env.ts imports checks/target.ts",
  ]);
  modules.delete("checks/target.ts");
  assert.equal(findCycle(folderGraph(modules)), undefined);
});

Deno.test("command handlers do not import one another (shared code lives in the step's folder)", () => {
  const offenders = [...readModules()].flatMap(([path, text]) =>
    // commands/mod.ts is the table of commands; context.ts their interface.
    path.startsWith("commands/") && path !== "commands/mod.ts"
      ? importsOf(path, text).filter((d) =>
        d.startsWith("commands/") && d !== "commands/context.ts"
      ).map((d) => `${path} imports ${d}`)
      : []
  );
  assert.deepEqual(offenders, []);
});

Deno.test("a module named _internal.ts is imported only from its own folder", () => {
  const offenders = [...readModules()].flatMap(([path, text]) =>
    importsOf(path, text).filter((d) =>
      d.split("/").pop()!.startsWith("_") && nodeOf(d) !== nodeOf(path)
    ).map((d) => `${path} imports ${d}`)
  );
  assert.deepEqual(offenders, []);
});

/** The folders and base modules in the order docs/architecture.md lists them, top first. */
function documentedOrder(): string[] {
  const doc = Deno.readTextFileSync(
    new URL("../docs/architecture.md", import.meta.url),
  );
  const section = doc.split("\n## The folders\n")[1]?.split("\n## ")[0] ?? "";
  return section.split("\n").flatMap((line) => {
    const m = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    return m ? [m[1].replace(/\/$/, "")] : [];
  });
}

Deno.test("every import points down the order of docs/architecture.md's folder table, which lists every folder", () => {
  const order = documentedOrder();
  const graph = folderGraph(readModules());
  const missing = [...graph.keys()].filter((n) => !order.includes(n));
  assert.deepEqual(missing, [], "folders missing from docs/architecture.md");
  const upwards = [...graph].flatMap(([from, edges]) =>
    edges.filter((e) => order.indexOf(e.to) < order.indexOf(from)).map((e) =>
      `${from} → ${e.to}: ${e.because}`
    )
  );
  assert.deepEqual(upwards, [], "imports going up the documented order");
});
