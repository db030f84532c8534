/**
 * The benchmark report: everything is printed to stdout as it is produced
 * and collected as Markdown for BENCHMARKS.md.
 */

/** Collects Markdown and echoes it to stdout. */
export class Report {
  #parts: string[] = [];

  /** Adds a heading (level 2 unless given). */
  heading(text: string, level = 2): void {
    this.#add(`${"#".repeat(level)} ${text}`);
  }

  /** Adds a paragraph. */
  para(text: string): void {
    this.#add(text);
  }

  /** Adds a Markdown table with padded columns (readable as plain text too). */
  table(
    headers: readonly string[],
    rows: readonly (readonly string[])[],
  ): void {
    const widths = headers.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
    );
    const line = (cells: readonly string[]) =>
      `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i])).join(" | ")} |`;
    this.#add(
      [
        line(headers),
        `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
        ...rows.map(line),
      ].join("\n"),
    );
  }

  /** Adds a fenced code block. */
  code(lines: readonly string[]): void {
    this.#add(["```", ...lines, "```"].join("\n"));
  }

  /** Prints progress to stdout only (not part of the file). */
  progress(text: string): void {
    console.log(text);
  }

  /** The whole report as Markdown. */
  markdown(): string {
    return this.#parts.join("\n\n") + "\n";
  }

  #add(block: string): void {
    this.#parts.push(block);
    console.log(`\n${block}`);
  }
}
