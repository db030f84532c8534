import assert from "node:assert/strict";
import { execFailure, fileKind, interpreterOf } from "./exec_error.ts";
import { L } from "./_libc.ts";
import { SpawnError } from "../errors.ts";

const enc = new TextEncoder();

Deno.test("fileKind tells an ELF binary and a #! script from anything else", () => {
  assert.equal(fileKind(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])), "elf");
  assert.equal(fileKind(enc.encode("#!/bin/sh\n")), "script");
  assert.equal(fileKind(enc.encode("echo hi\n")), "other");
  assert.equal(fileKind(new Uint8Array([0x7f, 0x45])), "other");
  assert.equal(fileKind(new Uint8Array()), "other");
});

Deno.test("interpreterOf reads the program of a #! line", () => {
  assert.equal(
    interpreterOf(enc.encode("#!/usr/bin/env python3\n")),
    "/usr/bin/env",
  );
  assert.equal(interpreterOf(enc.encode("#! /bin/sh -e\nx")), "/bin/sh");
  assert.equal(interpreterOf(enc.encode("#!")), undefined);
  assert.equal(interpreterOf(enc.encode("echo")), undefined);
});

Deno.test("execFailure: ENOEXEC of an ELF file is 126 'exec format error', of a plain file a case for /bin/sh", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/elf`,
      new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2]),
    );
    await Deno.writeTextFile(`${dir}/plain`, "echo hi\n");
    await Deno.writeTextFile(`${dir}/script`, "#!/no/such/interp\n");
    const elf = execFailure("app", `${dir}/elf`, L.ENOEXEC);
    assert.ok(elf instanceof SpawnError && elf.code === 126);
    assert.match(
      elf.message,
      /^Cannot run 'app': exec format error \(built for another CPU architecture\?\)$/,
    );
    assert.equal(execFailure("app", `${dir}/plain`, L.ENOEXEC), "shell");
    const missing = execFailure("app", `${dir}/script`, L.ENOENT);
    assert.ok(missing instanceof SpawnError && missing.code === 126);
    assert.match(
      missing.message,
      /interpreter '\/no\/such\/interp' was not found/,
    );
    const gone = execFailure("app", `${dir}/nothing`, L.ENOENT);
    assert.ok(gone instanceof SpawnError && gone.code === 127);
    const denied = execFailure("app", `${dir}/plain`, L.EACCES);
    assert.ok(denied instanceof SpawnError && denied.code === 126);
    assert.match(denied.message, /permission denied/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
