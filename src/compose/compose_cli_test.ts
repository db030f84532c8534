import { composeArgv } from "./compose_cli.ts";

function assertEquals<T>(actual: T, expected: T): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`expected ${e}, got ${a}`);
}

Deno.test("composeArgv puts every -f and --project-directory before the subcommand", () => {
  assertEquals(
    composeArgv(
      { files: ["a.yml", "C:\\stack\\b.yml"], projectDirectory: "/srv/stack" },
      ["restart", "backend"],
    ),
    [
      "compose",
      "-f",
      "a.yml",
      "-f",
      "C:\\stack\\b.yml",
      "--project-directory",
      "/srv/stack",
      "restart",
      "backend",
    ],
  );
  assertEquals(composeArgv({ files: [] }, ["ps"]), ["compose", "ps"]);
});
