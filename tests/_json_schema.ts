/**
 * A small JSON Schema (2020-12) validator for the subset the project's
 * schemas use: type (with "integer" and "null"), const, enum, required,
 * properties, additionalProperties (false or a schema), items, minimum,
 * pattern and local `$ref`s (`#/$defs/...`). It returns every violation
 * with its JSON path, so a test failure says what is wrong. No npm
 * validator is needed for that much.
 */

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(actual: string, wanted: string): boolean {
  return actual === wanted || (wanted === "number" && actual === "integer");
}

const KNOWN = new Set([
  "$schema",
  "$id",
  "$defs",
  "$ref",
  "title",
  "description",
  "type",
  "const",
  "enum",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "minimum",
  "pattern",
]);

/** Validates `value` against `schema`; returns the violations (empty when valid). */
export function validateJson(value: unknown, schema: Schema): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): Schema => {
    if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
    // deno-lint-ignore no-explicit-any
    let node: any = schema;
    for (const part of ref.slice(2).split("/")) node = node?.[part];
    if (!node) throw new Error(`unresolved $ref ${ref}`);
    return node;
  };
  const walk = (v: unknown, s: Schema, path: string) => {
    for (const k of Object.keys(s)) {
      if (!KNOWN.has(k)) throw new Error(`unsupported keyword ${k} at ${path}`);
    }
    if (s.$ref) walk(v, resolve(s.$ref), path);
    const t = typeOf(v);
    if (s.type !== undefined) {
      const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.some((w) => typeMatches(t, w))) {
        errors.push(`${path}: expected ${types.join("|")}, got ${t}`);
        return;
      }
    }
    if ("const" in s && JSON.stringify(v) !== JSON.stringify(s.const)) {
      errors.push(`${path}: expected ${JSON.stringify(s.const)}`);
    }
    if (
      s.enum &&
      !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))
    ) {
      errors.push(
        `${path}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`,
      );
    }
    if (typeof v === "number" && s.minimum !== undefined && v < s.minimum) {
      errors.push(`${path}: ${v} < ${s.minimum}`);
    }
    if (
      typeof v === "string" && s.pattern && !new RegExp(s.pattern, "u").test(v)
    ) {
      errors.push(`${path}: '${v}' does not match ${s.pattern}`);
    }
    if (t === "object") {
      const o = v as Record<string, unknown>;
      for (const r of s.required ?? []) {
        if (!(r in o)) errors.push(`${path}: missing ${r}`);
      }
      for (const [k, child] of Object.entries(o)) {
        const sub = s.properties?.[k];
        if (sub) walk(child, sub, `${path}.${k}`);
        else if (s.additionalProperties === false) {
          errors.push(`${path}: unexpected property ${k}`);
        } else if (typeof s.additionalProperties === "object") {
          walk(child, s.additionalProperties, `${path}.${k}`);
        }
      }
    }
    if (t === "array" && s.items) {
      (v as unknown[]).forEach((item, i) =>
        walk(item, s.items, `${path}[${i}]`)
      );
    }
  };
  walk(value, schema, "$");
  return errors;
}
