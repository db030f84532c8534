/**
 * Arguments and environment reach the app and the migration byte for byte
 * (SPEC "run" step 3), including names and values that are not UTF-8:
 * preflight is started by a Python launcher (Deno.Command takes only
 * strings), and the child reports what it got, as hex.
 */
import assert from "node:assert/strict";
import { preflightArgv } from "./_cli.ts";

const PYTHON = "/usr/bin/python3";
const REPORT = new URL("./fixtures/report_bytes.py", import.meta.url).pathname;
const EXEC = new URL("./fixtures/exec_bytes.py", import.meta.url).pathname;

const enc = new TextEncoder();
const hex = (b: Uint8Array) =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (...parts: (string | number[])[]) => {
  const out: number[] = [];
  for (const p of parts) {
    out.push(...(typeof p === "string" ? enc.encode(p) : p));
  }
  return new Uint8Array(out);
};

/** A value and a name that are not UTF-8, and an argument with a bad byte. */
const LATIN_VALUE = bytes("caf", [0xe9]); // Latin-1 "café"
const ODD_NAME = bytes("N", [0xff], "AME");
const ODD_ARG = bytes("arg", [0xff]);
const MIXED_ARG = bytes([0xed, 0xa0, 0x80], "-", [0xc0, 0xaf], "é");

interface Report {
  argv: string[];
  env: [string, string][];
}

/**
 * Starts preflight with `args` (byte strings) and an environment of
 * PATH/HOME plus `env`, through the Python launcher.
 */
async function launch(
  args: Uint8Array[],
  env: [Uint8Array, Uint8Array][],
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const base: [Uint8Array, Uint8Array][] = [
    [enc.encode("PATH"), enc.encode(Deno.env.get("PATH") ?? "/usr/bin:/bin")],
    [enc.encode("HOME"), enc.encode(Deno.env.get("HOME") ?? "/root")],
    [enc.encode("NO_COLOR"), enc.encode("1")],
  ];
  const spec = {
    argv: [...preflightArgv().map((a) => hex(enc.encode(a))), ...args.map(hex)],
    env: [...base, ...env].map(([k, v]) => [hex(k), hex(v)]),
  };
  const out = await new Deno.Command(PYTHON, {
    args: [EXEC, JSON.stringify(spec)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: out.stdout,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function envOf(report: Report): Map<string, string> {
  return new Map(report.env);
}

const INHERITED: [Uint8Array, Uint8Array][] = [
  [enc.encode("LATIN"), LATIN_VALUE],
  [ODD_NAME, enc.encode("x")],
  [enc.encode("PLAIN"), enc.encode("ünïcödé")],
];

function assertEnvKept(report: Report): void {
  const env = envOf(report);
  assert.equal(env.get(hex(enc.encode("LATIN"))), hex(LATIN_VALUE));
  assert.equal(env.get(hex(ODD_NAME)), hex(enc.encode("x")));
  assert.equal(env.get(hex(enc.encode("PLAIN"))), hex(enc.encode("ünïcödé")));
  // No lossy copy beside the original.
  for (const [k, v] of report.env) {
    assert.ok(
      !k.includes("efbfbd") && !v.includes("efbfbd"),
      `U+FFFD in ${k}=${v}`,
    );
  }
}

for (const mode of ["exec", "supervise"] as const) {
  Deno.test(`${mode}: the app gets arguments and variables that are not UTF-8 byte for byte`, async () => {
    const r = await launch(
      [
        enc.encode("run"),
        enc.encode("--no-wait"),
        enc.encode("--no-migrate"),
        ...(mode === "supervise" ? [enc.encode("--supervise")] : []),
        enc.encode("--"),
        enc.encode(PYTHON),
        enc.encode(REPORT),
        ODD_ARG,
        MIXED_ARG,
        enc.encode(""),
      ],
      INHERITED,
    );
    assert.equal(r.code, 0, r.stderr);
    const report: Report = JSON.parse(new TextDecoder().decode(r.stdout));
    assert.deepEqual(report.argv, [hex(ODD_ARG), hex(MIXED_ARG), ""]);
    assertEnvKept(report);
    // preflight's own status variables are added as usual.
    assert.equal(
      envOf(report).get(hex(enc.encode("PREFLIGHT_MIGRATIONS"))),
      hex(enc.encode("skipped")),
    );
  });
}

Deno.test("the migration command gets variables that are not UTF-8 byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await launch(
      [enc.encode("migrate"), enc.encode("--no-migrate-lock")],
      [
        ...INHERITED,
        [enc.encode("MIGRATE_CMD"), enc.encode(`${PYTHON} ${REPORT}`)],
        [enc.encode("REPORT_TO"), enc.encode(`${dir}/report.json`)],
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    assertEnvKept(JSON.parse(await Deno.readTextFile(`${dir}/report.json`)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("printenv through preflight prints a Latin-1 value as its bytes (the issue's reproduction)", async () => {
  const r = await launch(
    ["run", "--no-wait", "--no-migrate", "--", "printenv", "LATIN"].map((a) =>
      enc.encode(a)
    ),
    INHERITED,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...r.stdout], [...LATIN_VALUE, 0x0a]);
});
