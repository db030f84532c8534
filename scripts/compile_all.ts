/**
 * Usage: deno task compile:all
 *
 * Compiles preflight for every supported platform into dist/, with the same
 * permission flags as `deno task compile` (read from deno.json, so they live
 * in one place).
 */
import denoJson from "../deno.json" with { type: "json" };

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** The permission flags of the compile task. */
export function compileFlags(): string[] {
  const words = denoJson.tasks.compile.split(/\s+/);
  return words.filter((w) => w.startsWith("-") && w !== "--output");
}

if (import.meta.main) {
  for (const target of TARGETS) {
    const output = `dist/preflight-${target}${
      target.includes("windows") ? ".exe" : ""
    }`;
    const args = [
      "compile",
      ...compileFlags(),
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
