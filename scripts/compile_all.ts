/**
 * Usage: deno task compile:all
 *
 * Compiles preflight for every supported platform into dist/, with the same
 * flags as `deno task compile` (read from deno.json, so they live in one
 * place).
 */
import denoJson from "../deno.json" with { type: "json" };

/** The `deno compile --target`s of a release. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** Where `compile:all` writes the binary for `target`. */
export function outputFor(target: string): string {
  return `dist/preflight-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** The compile task's flags: everything between `compile` and the entry module, without `--output FILE`. */
export function compileTaskFlags(): string[] {
  const words = denoJson.tasks.compile.split(/\s+/);
  const flags = words.slice(words.indexOf("compile") + 1, -1);
  const at = flags.indexOf("--output");
  if (at >= 0) flags.splice(at, 2);
  return flags;
}

/**
 * What `deno run` of src/main.ts adds where start-up matters (the
 * Dockerfile's source form, the benchmarks): modules imported with a
 * literal `import()` (every command, every kind of target) are then loaded
 * when first imported, not all before main.ts starts; without it `probe`
 * pays for the whole graph, npm clients included (BENCHMARKS.md). The same
 * switch as `DENO_UNSTABLE_LAZY_DYNAMIC_IMPORTS=1` (Deno 2.3+). Not in
 * deno.json's `unstable` list: `deno compile` would then embed none of
 * those modules.
 */
export const LAZY_IMPORTS_FLAG = "--unstable-lazy-dynamic-imports";

/** The permission flags of the compile task (`deno run` takes the same). */
export function compileFlags(): string[] {
  return compileTaskFlags().filter((w) => /^-(A$|-allow-|-deny-)/.test(w));
}

if (import.meta.main) {
  for (const target of TARGETS) {
    const output = outputFor(target);
    const args = [
      "compile",
      ...compileTaskFlags(),
      "--target",
      target,
      "--output",
      output,
      "src/main.ts",
    ];
    console.error(`deno ${args.join(" ")}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) Deno.exit(code);
  }
}
