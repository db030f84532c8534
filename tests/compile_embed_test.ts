/**
 * What `deno compile` puts into the binary. It embeds every npm package of
 * the lock file it is given, so the compile task uses deno.compile.lock
 * (only what src/main.ts's graph needs), not the project's deno.lock, which
 * also pins test-only packages (PGlite alone is 25 MB).
 *
 * The real runtime (`denort`) cannot be downloaded here; `DENORT_BIN`
 * pointing at the full `deno` binary stands in for it. The result is not a
 * working preflight (it is the deno CLI with the files attached), but the
 * "Embedded Files" listing deno compile prints is the same either way, and
 * that listing is what these tests read.
 */
import assert from "node:assert/strict";
import { compileTaskFlags } from "../scripts/compile_all.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Lock {
  specifiers?: Record<string, string>;
  npm?: Record<string, unknown>;
}

function readLock(path: string): Lock {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** Package names of a lock's npm section: `@types/node@26.6.11` → `@types/node`. */
function packages(lock: Lock): Set<string> {
  return new Set(
    Object.keys(lock.npm ?? {}).map((k) => k.replace(/^(@?[^@]+)@.*$/, "$1")),
  );
}

async function deno(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  return text;
}

Deno.test("deno.compile.lock is current: it pins exactly the npm packages of src/main.ts's graph (deno task compile:lock rewrites it)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fresh = `${dir}/deno.compile.lock`;
    await deno(["install", `--lock=${fresh}`, "--entrypoint", "src/main.ts"]);
    const committed = readLock(`${ROOT}deno.compile.lock`);
    const regenerated = readLock(fresh);
    assert.deepEqual(committed.specifiers, regenerated.specifiers);
    assert.deepEqual(
      Object.keys(committed.npm ?? {}).sort(),
      Object.keys(regenerated.npm ?? {}).sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the compile task uses deno.compile.lock, frozen", () => {
  const flags = compileTaskFlags();
  assert.ok(flags.includes("--lock=deno.compile.lock"), flags.join(" "));
  assert.ok(flags.includes("--frozen"), flags.join(" "));
});

Deno.test("deno compile embeds the runtime npm packages and none of the test-only ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const listing = await deno(
      ["compile", ...compileTaskFlags(), "--output", `${dir}/p`, "src/main.ts"],
      { DENORT_BIN: Deno.execPath() },
    );
    assert.match(listing, /Embedded Files/);
    const runtime = packages(readLock(`${ROOT}deno.compile.lock`));
    const all = packages(readLock(`${ROOT}deno.lock`));
    // A package shows in the tree as "name/*" or "name/VERSION/*" (a scope
    // as its own branch, e.g. "@electric-sql" then "pglite/*").
    const shown = (name: string) =>
      new RegExp(
        `[─ ](${RegExp.escape(name)}|${
          RegExp.escape(name.split("/").at(-1)!)
        })/`,
      ).test(listing);
    assert.ok(runtime.has("postgres") && runtime.has("mysql2"));
    for (const name of runtime) assert.ok(shown(name), `${name} not embedded`);
    const testOnly = [...all].filter((n) => !runtime.has(n));
    assert.ok(testOnly.includes("@electric-sql/pglite"), testOnly.join(", "));
    for (const name of testOnly) {
      assert.ok(!shown(name), `test-only package ${name} is embedded`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
