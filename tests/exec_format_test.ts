/**
 * Exec format errors, as a shell reports them: a binary for another CPU
 * architecture (a copy of /bin/true with its ELF e_machine patched) is "not
 * executable", 126, saying so; only a file with neither an ELF header nor
 * `#!` runs with /bin/sh, as execvp does. The same for the exec hand-over,
 * --supervise and the migration command.
 */
import assert from "node:assert/strict";
import { runPreflight } from "./_cli.ts";

/** EM_AARCH64 on x86_64, EM_X86_64 elsewhere: a machine this one cannot run. */
const FOREIGN_MACHINE = Deno.build.arch === "x86_64" ? 183 : 62;

async function withFiles<T>(
  fn: (files: { foreign: string; bare: string; dir: string }) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-format-" });
  try {
    const elf = await Deno.readFile("/bin/true");
    // e_machine: 2 bytes little-endian at offset 18 of the ELF header.
    new DataView(elf.buffer).setUint16(18, FOREIGN_MACHINE, true);
    const foreign = `${dir}/true-foreign`;
    await Deno.writeFile(foreign, elf, { mode: 0o755 });
    // A shell script without its #! line: execvp runs it with /bin/sh.
    const bare = `${dir}/bare-script`;
    await Deno.writeTextFile(
      bare,
      `echo "ran by sh: $0 $1" > ${dir}/bare-ran\n`,
      { mode: 0o755 },
    );
    await Deno.chmod(bare, 0o755);
    return await fn({ foreign, bare, dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MODES = {
  exec: ["run", "--no-wait", "--no-migrate", "--"],
  supervise: ["run", "--no-wait", "--no-migrate", "--supervise", "--"],
} as const;

for (const [mode, args] of Object.entries(MODES)) {
  Deno.test(`${mode}: a binary for another CPU architecture exits 126 with 'exec format error', never through /bin/sh`, async () => {
    await withFiles(async ({ foreign }) => {
      const r = await runPreflight([...args, foreign, "x"]);
      assert.equal(r.code, 126, r.stderr);
      assert.match(
        r.stderr,
        /Cannot run '.*true-foreign': exec format error \(built for another CPU architecture\?\)/,
      );
      assert.doesNotMatch(r.stderr, /Syntax error|not found|\/bin\/sh/);
    });
  });

  Deno.test(`${mode}: a script with neither an ELF header nor #! runs with /bin/sh, as execvp does`, async () => {
    await withFiles(async ({ bare, dir }) => {
      const r = await runPreflight([...args, bare, "arg1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        (await Deno.readTextFile(`${dir}/bare-ran`)).trim(),
        `ran by sh: ${bare} arg1`,
      );
    });
  });
}

Deno.test("migration: a binary for another CPU architecture exits 126 with 'exec format error' before the app runs", async () => {
  await withFiles(async ({ foreign, dir }) => {
    const r = await runPreflight(
      ["run", "--no-wait", "--", "sh", "-c", `touch ${dir}/app-ran`],
      { MIGRATE_CMD: foreign },
    );
    assert.equal(r.code, 126, r.stderr);
    assert.match(
      r.stderr,
      /exec format error \(built for another CPU architecture\?\)/,
    );
    assert.doesNotMatch(r.stderr, /Syntax error/);
    await assert.rejects(Deno.stat(`${dir}/app-ran`));
  });
});

Deno.test("migration: a script with neither an ELF header nor #! runs with /bin/sh", async () => {
  await withFiles(async ({ bare, dir }) => {
    const r = await runPreflight(["migrate"], { MIGRATE_CMD: `${bare} m1` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await Deno.readTextFile(`${dir}/bare-ran`)).trim(),
      `ran by sh: ${bare} m1`,
    );
  });
});

Deno.test("a #! script whose interpreter is missing is not executable (126), naming the interpreter", async () => {
  await withFiles(async ({ dir }) => {
    const script = `${dir}/bad-interp`;
    await Deno.writeTextFile(script, "#!/nonexistent/interp\necho hi\n");
    await Deno.chmod(script, 0o755);
    for (const args of Object.values(MODES)) {
      const r = await runPreflight([...args, script]);
      assert.equal(r.code, 126, r.stderr);
      assert.match(
        r.stderr,
        /#! interpreter '\/nonexistent\/interp' was not found/,
      );
    }
  });
});
