/** README.md stays a newcomer's page: short, the quick start on its first screen. */
import assert from "node:assert/strict";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README.md is at most 16 KB and shows the quick start, with the image's ENTRYPOINT, on its first screen", () => {
  const bytes = new TextEncoder().encode(readme).length;
  assert.ok(bytes <= 16 * 1024, `README.md is ${bytes} bytes`);
  const firstScreen = readme.split("\n").slice(0, 45).join("\n");
  assert.match(firstScreen, /^## Quick start$/m);
  assert.ok(
    firstScreen.includes('ENTRYPOINT ["preflight", "run", "--"]'),
    firstScreen,
  );
  // What it is, in three lines, right under the title.
  const intro = readme.split("\n## ")[0].split("\n").slice(1).filter((l) =>
    l.trim() !== ""
  );
  assert.ok(intro.length <= 3, `the intro is ${intro.length} lines`);
  // Quick start for the image, Compose and Kubernetes; recipes for each tool.
  for (
    const heading of [
      "### In the image",
      "### With Docker Compose",
      "### On Kubernetes",
      "## Coming from another tool",
    ]
  ) assert.ok(readme.includes(`\n${heading}\n`), heading);
  for (
    const tool of [
      "entrypoint.sh",
      "wait-for-it",
      "wait4x",
      "dockerize",
      "docker-compose-wait",
      "tini",
    ]
  ) assert.ok(readme.includes(`**${tool}**`), tool);
});

Deno.test("the README pins the Deno version that CI installs and shows the test command", () => {
  const install = Deno.readTextFileSync(
    new URL("../scripts/install-deps.sh", import.meta.url),
  );
  const pinned = /DENO_VERSION=(\S+)/.exec(install)?.[1];
  assert.ok(pinned);
  assert.ok(readme.includes(`npm install -g deno@${pinned}`));
  assert.ok(readme.includes("deno task test"));
});

Deno.test("the README's target table has a row for every kind of target, and links the architecture page", async () => {
  const { KINDS } = await import("../src/checks/mod.ts");
  const section = readme.split("\n## Targets\n")[1]?.split("\n## ")[0] ?? "";
  const firstColumn = section.split("\n").filter((l) => l.startsWith("| `"))
    .map((l) => l.split("|")[1]).join(" ");
  for (const [schemes] of KINDS) {
    for (const s of schemes) {
      assert.ok(firstColumn.includes(`\`${s}://`), `README lacks ${s}://`);
    }
  }
  assert.ok(readme.includes("(docs/architecture.md)"));
});
