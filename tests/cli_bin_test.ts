/**
 * What the CLI tests run (tests/_cli.ts): `deno run` of src/main.ts, or the
 * executable named by PREFLIGHT_BIN (`PREFLIGHT_BIN=dist/preflight deno task
 * test`), which must then be an executable file. And `preflight version`,
 * whichever of the two runs, prints deno.json's version.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { MAIN, preflightArgv, preflightBin, runPreflight } from "./_cli.ts";

Deno.test("PREFLIGHT_BIN, when set, names an executable file (unset: the CLI tests run src/main.ts)", () => {
  const value = Deno.env.get("PREFLIGHT_BIN");
  const argv = preflightArgv(); // throws the clear error when it is not
  if (value === undefined) {
    assert.equal(argv.length > 1 && argv.at(-1), MAIN);
  } else {
    assert.equal(argv.length, 1);
    assert.ok(argv[0].endsWith(value.replace(/^\.\//, "")), argv[0]);
    assert.ok(Deno.statSync(argv[0]).isFile);
  }
});

Deno.test("PREFLIGHT_BIN is refused, naming the variable and the value, unless it is an executable file", async () => {
  if (Deno.build.os === "windows") return; // no execute bit there
  const dir = await Deno.makeTempDir({ prefix: "preflight-bin-" });
  try {
    await Deno.writeTextFile(`${dir}/plain`, "#!/bin/sh\n", { mode: 0o644 });
    await Deno.writeTextFile(`${dir}/exe`, "#!/bin/sh\n", { mode: 0o755 });
    const refused: [string, RegExp][] = [
      ["", /empty/],
      [" ", /empty/],
      [`${dir}/absent`, /no such file/],
      [dir, /not a file/],
      [`${dir}/plain`, /not executable/],
      ["absent", /no such file/],
    ];
    for (const [value, why] of refused) {
      assert.throws(() => preflightBin(value, dir), (e: Error) => {
        assert.ok(
          e.message.startsWith(`Invalid PREFLIGHT_BIN '${value}': `),
          e.message,
        );
        assert.match(e.message, why);
        assert.match(e.message, /expected the path of an executable/);
        return true;
      });
    }
    assert.equal(preflightBin(undefined, dir), undefined);
    assert.equal(preflightBin(`${dir}/exe`, "/nonexistent"), `${dir}/exe`);
    // Relative to where `deno task` was started (INIT_CWD), passed as base.
    assert.equal(preflightBin("exe", dir), `${dir}/exe`);
    assert.equal(preflightBin("./exe", `${dir}/`), `${dir}/./exe`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("preflight version and --version print deno.json's version", async () => {
  for (const args of [["version"], ["--version"], ["-V"]]) {
    const r = await runPreflight(args);
    assert.equal(r.code, 0, `${args}: ${r.stderr}`);
    const m = /^preflight (\S+) \(deno \S+, \S+-\S+\)\n$/.exec(r.stdout);
    assert.ok(m, `${args}: unexpected output '${r.stdout}'`);
    assert.equal(m[1], denoJson.version, args.join(" "));
  }
});

Deno.test("main.ts's static module graph has neither deno.json nor the version command (only `preflight version` loads them)", async () => {
  // `deno info` lists the whole graph, dynamic imports included (what
  // deno compile embeds). What runs before the command is known is the
  // part reached by static imports of code: `import()` loads the rest on
  // demand when deno run is given --unstable-lazy-dynamic-imports, as the
  // Dockerfile's source form runs it.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", MAIN],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
    }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const main = info.modules.find((m) => m.specifier.endsWith("/src/main.ts"));
  assert.ok(main, "main.ts");
  const eager = new Set<string>();
  const visit = (specifier: string) => {
    if (eager.has(specifier)) return;
    eager.add(specifier);
    for (const d of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!d.isDynamic && d.code) visit(d.code.specifier);
    }
  };
  visit(main.specifier);
  assert.ok(eager.size >= 3, [...eager].join("\n"));
  for (const s of eager) {
    assert.ok(
      !s.endsWith("/deno.json") && !s.endsWith("/src/commands/version.ts"),
      `loaded at every start (probe included): ${s}`,
    );
  }
  // And the whole graph has them: deno compile embeds the version command.
  const all = info.modules.map((m) => m.specifier);
  assert.ok(all.some((s) => s.endsWith("/src/commands/version.ts")));
});
