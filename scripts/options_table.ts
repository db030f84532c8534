/**
 * Usage: deno run scripts/options_table.ts [--write]
 *
 * Renders the README's configuration table from the option table in
 * src/cli/options.ts; with --write, replaces the block between the
 * `<!-- options:start -->` and `<!-- options:end -->` markers in README.md.
 * tests/readme_test.ts fails when the two drift apart.
 */
import {
  type CommandName,
  defaultFor,
  envName,
  OPTIONS,
} from "../src/cli/options.ts";

const ORDER: CommandName[] = [
  "run",
  "wait",
  "migrate",
  "probe",
  "doctor",
  "restart",
];

function defaults(o: (typeof OPTIONS)[number]): string {
  const per = ORDER.filter((c) => o.commands.includes(c)).map((c) =>
    [c, defaultFor(o, c)] as const
  )
    .filter(([, d]) => d !== undefined);
  if (per.length === 0) return "";
  const distinct = new Set(per.map(([, d]) => d));
  // Quoted when spaces matter (deno fmt trims code spans).
  const show = (d: string) =>
    "`" +
    (d.trim() !== d || d === ""
      ? JSON.stringify(d)
      : d.replaceAll("|", "\\|")) +
    "`";
  if (distinct.size === 1) return show(per[0][1]!);
  return per.map(([c, d]) => `${c}: ${show(d!)}`).join(", ");
}

/** The markdown table, one row per option. */
export function optionsTable(): string {
  const rows = [
    "| option | variable | default | commands | meaning |",
    "|---|---|---|---|---|",
  ];
  for (const o of OPTIONS) {
    if (o.name === "help") continue;
    const arg = o.arg ?? o.choices?.join("\\|");
    const flag = `${o.short ? `-${o.short}, ` : ""}--${o.name}${
      arg ? ` ${arg}` : ""
    }`;
    const cmds = ORDER.filter((c) => o.commands.includes(c));
    rows.push(
      `| \`${flag}\` | ${envName(o) ? "`" + envName(o) + "`" : ""} | ${
        defaults(o)
      } | ${cmds.length === ORDER.length ? "all" : cmds.join(", ")} | ${
        o.help.replaceAll("|", "\\|")
      }${o.repeatable && !/repeatable/.test(o.help) ? " (repeatable)" : ""} |`,
    );
  }
  return rows.join("\n");
}

/** A markdown table's cells, independent of column padding (deno fmt aligns tables). */
export function tableCells(block: string): string[][] {
  return block.split("\n").filter((l) => l.trim().startsWith("|")).map((l) =>
    l.trim().replace(/^\||\|$/g, "").split(/(?<!\\)\|/).map((c) => {
      const t = c.trim();
      return /^:?-+:?$/.test(t) ? "---" : t;
    })
  );
}

/** The table currently between the README's markers. */
export function readmeTable(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md has no options markers");
  return readme.slice(a + START.length, b);
}

const START = "<!-- options:start -->";
const END = "<!-- options:end -->";

/** README text with the block between the markers replaced by the table. */
export function withTable(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md has no options markers");
  return readme.slice(0, a + START.length) + "\n\n" + optionsTable() + "\n\n" +
    readme.slice(b);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const readme = Deno.readTextFileSync(path);
  if (Deno.args.includes("--write")) {
    Deno.writeTextFileSync(path, withTable(readme));
  } else console.log(optionsTable());
}
