/**
 * Dead code stays out: every export of a module under src/ is imported by
 * some other module (src/, tests/, scripts/, bench/, faults/, e2e/,
 * examples/). scripts/unused_exports.ts says which are not.
 */
import assert from "node:assert/strict";
import { exportsOf, unusedExports } from "../scripts/unused_exports.ts";

Deno.test("every export under src/ is imported by another module", () => {
  const found = unusedExports(["src"]);
  assert.deepEqual(
    found.map((u) =>
      `${u.file}:${u.line}: ${u.name}${
        u.usedInside ? " (drop export)" : " (delete)"
      }`
    ),
    [],
  );
});

Deno.test("the unused-export search sees declarations, export lists and type exports", () => {
  const names = exportsOf(
    [
      "export function a() {}",
      "export async function b() {}",
      "export const c = 1;",
      "export interface D {}",
      "export type E = string;",
      "export class F {}",
      "const g = 1, h = 2;",
      "export { g, h as i };",
      "export type { J } from './j.ts';",
    ].join("\n"),
  );
  assert.deepEqual(
    names.map((e) => [e.name, e.isType]),
    [
      ["a", false],
      ["b", false],
      ["c", false],
      ["D", true],
      ["E", true],
      ["F", false],
      ["g", false],
      ["i", false],
      ["J", true],
    ],
  );
});
