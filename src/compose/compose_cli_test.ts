import assert from "node:assert/strict";
import { composeArgv } from "./compose_cli.ts";

Deno.test("composeArgv puts every -f and --project-directory before the subcommand", () => {
  assert.deepEqual(
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
  assert.deepEqual(composeArgv({ files: [] }, ["ps"]), ["compose", "ps"]);
});
