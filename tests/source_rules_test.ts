/**
 * Rules of the source tree. Only src/main.ts touches the real process: the
 * handlers and everything they call get standard output and error, the
 * environment, the logger and the clock from their context
 * (src/commands/context.ts). No double casts. The libraries the tests parse
 * with stay out of what ships.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/** Every module under src/ but the tests, relative to src/. */
function modules(dir = SRC, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      out.push(...modules(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`));
    } else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push(`${prefix}${e.name}`);
    }
  }
  return out.sort();
}

/** The code of a module without its comments. */
function code(path: string): string {
  return Deno.readTextFileSync(new URL(path, SRC))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

Deno.test("only main.ts reads the process's arguments and environment, writes to its standard output and error, or exits", () => {
  const PROCESS = /\bDeno\.(stdout|stderr|stdin|env|args|exit|consoleSize)\b/g;
  // The exec and spawn code must pass on the environment and arguments byte
  // for byte (SPEC "run" step 3): it reads /proc/self/environ and
  // /proc/self/cmdline, and on systems without them Deno's own view.
  const EXCEPTIONS: Record<string, string[]> = {
    "main.ts": ["stdout", "stderr", "env", "args", "exit", "consoleSize"],
    "process/raw_process.ts": ["env", "args"],
  };
  const found: string[] = [];
  for (const path of modules()) {
    for (const m of code(path).matchAll(PROCESS)) {
      if (!(EXCEPTIONS[path] ?? []).includes(m[1])) {
        found.push(`${path}: Deno.${m[1]}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("no double cast (as unknown as) anywhere under src/: Options is derived from the option table", () => {
  const found = modules().filter((p) => /\bas unknown as\b/.test(code(p)));
  assert.deepEqual(found, []);
});

Deno.test("the tests' parsing libraries (yaml, ajv, dockerfile-ast) are pinned in deno.json and never imported under src/", () => {
  const TEST_ONLY = ["yaml", "ajv", "dockerfile-ast"];
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  );
  for (const name of TEST_ONLY) {
    assert.match(
      config.imports[name],
      new RegExp(`^npm:${name}@\\d+\\.\\d+\\.\\d+$`),
    );
  }
  const found = modules().filter((p) =>
    TEST_ONLY.some((name) =>
      new RegExp(`from\\s+["'](npm:)?${name}(@[^"'/]*)?(/[^"']*)?["']`).test(
        code(p),
      )
    )
  );
  assert.deepEqual(found, []);
});
