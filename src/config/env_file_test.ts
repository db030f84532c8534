import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError } from "../errors.ts";
import { loadEnvFiles, parseEnvFile } from "./env_file.ts";

const parse = (text: string) => parseEnvFile(text, ".env");
/** fast-check dictionaries have no prototype; env files give plain objects. */
const plainObject = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o));

function errorOf(text: string): ConfigError {
  try {
    const env = parseEnvFile(text, "/app/.env");
    assert.fail(`expected a ConfigError, got ${JSON.stringify(env)}`);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e;
  }
}

Deno.test("env file reads KEY=value lines, skipping comments and blank lines", () => {
  const text = `
# database
DB_HOST=postgres
DB_PORT=5432

   # indented comment
EMPTY=
`;
  assert.deepEqual(parse(text), {
    DB_HOST: "postgres",
    DB_PORT: "5432",
    EMPTY: "",
  });
});

Deno.test("env file accepts an export prefix and blanks around key and =", () => {
  assert.deepEqual(parse("export A=1\n  export\tB = 2 \nexport=3\nexportC=4"), {
    A: "1",
    B: "2",
    export: "3",
    exportC: "4",
  });
});

Deno.test("env file strips a comment after an unquoted value only after a blank", () => {
  assert.deepEqual(
    parse(
      "A=VAL # comment\nB=VAL# not a comment\nC= # only a comment\nD=#hash\nE=a\t#tab comment",
    ),
    { A: "VAL", B: "VAL# not a comment", C: "", D: "#hash", E: "a" },
  );
});

Deno.test("env file trims unquoted values and keeps their inner text as written", () => {
  assert.deepEqual(parse("A=  two  words  \nB=some\\tvalue\nC=a=b=c"), {
    A: "two  words",
    B: "some\\tvalue",
    C: "a=b=c",
  });
});

Deno.test("env file keeps single-quoted values literally except an escaped quote", () => {
  assert.deepEqual(
    parse(
      `A='$OTHER'\nB='\${OTHER}'\nC='Let\\'s go!'\nD='some\\tvalue'\nE=' # kept '`,
    ),
    {
      A: "$OTHER",
      B: "${OTHER}",
      C: "Let's go!",
      D: "some\\tvalue",
      E: " # kept ",
    },
  );
});

Deno.test("env file applies escapes in double-quoted values", () => {
  assert.deepEqual(
    parse(
      `A="some\\tvalue"\nB="{\\"hello\\": \\"json\\"}"\nC="a\\nb\\r\\\\"\nD="\\$HOME \\x"\nE="VAL # not a comment"`,
    ),
    {
      A: "some\tvalue",
      B: '{"hello": "json"}',
      C: "a\nb\r\\",
      D: "$HOME \\x",
      E: "VAL # not a comment",
    },
  );
});

Deno.test("env file allows a comment after a closing quote", () => {
  assert.deepEqual(parse(`A="VAL" # comment\nB='v'   \nC="x"#c`), {
    A: "VAL",
    B: "v",
    C: "x",
  });
});

Deno.test("env file does not interpolate variables", () => {
  assert.deepEqual(parse('HOME=/root\nA=$HOME/x\nB="${HOME:-y}"'), {
    HOME: "/root",
    A: "$HOME/x",
    B: "${HOME:-y}",
  });
});

Deno.test("env file quoted values may span lines, and later lines are numbered right", () => {
  const text =
    `KEY="-----BEGIN-----\nabc\n-----END-----"\nB='x\ny'\nbroken line`;
  const e = errorOf(text);
  assert.match(e.message, /at line 6:/);
  assert.deepEqual(parse(text.replace("broken line", "C=1")), {
    KEY: "-----BEGIN-----\nabc\n-----END-----",
    B: "x\ny",
    C: "1",
  });
});

Deno.test("env file reads CRLF line endings and a byte order mark", () => {
  assert.deepEqual(parse('\uFEFFA=1\r\nB="2"\r\n# c\r\nC=3 # x\r\n'), {
    A: "1",
    B: "2",
    C: "3",
  });
});

Deno.test("env file lets a later line override an earlier one", () => {
  assert.deepEqual(parse("A=1\nA=2"), { A: "2" });
});

Deno.test("env file stores keys like __proto__ as plain entries", () => {
  const env = parse("__proto__=x\nconstructor=y");
  assert.equal(Object.getPrototypeOf(env), Object.prototype);
  assert.equal(Object.hasOwn(env, "__proto__"), true);
  assert.equal(env["constructor"], "y");
  assert.deepEqual(Object.keys(env), ["__proto__", "constructor"]);
});

Deno.test("env file rejects invalid lines with file and line number, never the value", () => {
  const cases: [string, number, RegExp][] = [
    ["A=1\nhunter2secret", 2, /expected KEY=value/],
    ["export hunter2secret", 1, /expected KEY=value/],
    ["A=1\n\n=hunter2secret", 3, /invalid variable name/],
    ["1A=hunter2secret", 1, /invalid variable name/],
    ["MY KEY=hunter2secret", 1, /invalid variable name/],
    ["A-B=hunter2secret", 1, /invalid variable name/],
    ["A:hunter2secret", 1, /expected KEY=value/],
    ['A="hunter2secret', 1, /unterminated double-quoted value/],
    ["A='hunter2secret\n\n", 1, /unterminated single-quoted value/],
    ["A='hunter2secret\\'", 1, /unterminated single-quoted value/],
    ["A='x'hunter2secret", 1, /unexpected text after the closing quote/],
    ['A="hunter2secret"x', 1, /unexpected text after the closing quote/],
    ["\n\nA='x' hunter2secret", 3, /unexpected text after the closing quote/],
  ];
  for (const [text, line, why] of cases) {
    const e = errorOf(text);
    assert.ok(
      e.message.startsWith(`Invalid env file '/app/.env' at line ${line}: `),
      e.message,
    );
    assert.match(e.message, why);
    assert.ok(!e.message.includes("hunter2"), e.message);
  }
});

// ---- loading files ---------------------------------------------------------

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "preflight_env_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadEnvFiles merges files in order, later files winning", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.env`, "A=1\nB=1\n");
    await Deno.writeTextFile(`${dir}/b.env`, "B=2\nC='2'\n");
    assert.deepEqual(await loadEnvFiles([`${dir}/a.env`, `${dir}/b.env`]), {
      A: "1",
      B: "2",
      C: "2",
    });
    assert.deepEqual(await loadEnvFiles([`${dir}/b.env`, `${dir}/a.env`]), {
      A: "1",
      B: "1",
      C: "2",
    });
    assert.deepEqual(await loadEnvFiles([]), {});
  });
});

Deno.test("loadEnvFiles reports a missing file by name", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      loadEnvFiles([`${dir}/missing.env`]),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === `Cannot read env file '${dir}/missing.env': No such file`,
    );
  });
});

Deno.test("loadEnvFiles reports a directory given as env file", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      loadEnvFiles([dir]),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === `Cannot read env file '${dir}': Is a directory`,
    );
  });
});

Deno.test("loadEnvFiles rejects a file that is not UTF-8 text", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/bin.env`,
      new Uint8Array([0x41, 0x3d, 0xff, 0xfe]),
    );
    await assert.rejects(
      loadEnvFiles([`${dir}/bin.env`]),
      (e: unknown) =>
        e instanceof ConfigError && /not valid UTF-8/.test(e.message),
    );
  });
});

Deno.test("loadEnvFiles names the file and line of a syntax error", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/ok.env`, "A=1\n");
    await Deno.writeTextFile(`${dir}/bad.env`, "A=1\nB\n");
    await assert.rejects(
      loadEnvFiles([`${dir}/ok.env`, `${dir}/bad.env`]),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith(`Invalid env file '${dir}/bad.env' at line 2: `),
    );
  });
});

// ---- properties ------------------------------------------------------------

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,12}$/);
const value = fc.string({ unit: "binary", maxLength: 30 });
const envMap = fc.dictionary(key, value, { maxKeys: 8 });

function doubleQuoted(v: string): string {
  const esc: Record<string, string> = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "$": "\\$",
  };
  return `"${v.replace(/[\\"\n\r$]/g, (c) => esc[c])}"`;
}

Deno.test("property: any map written with double-quoted values parses back equal", () => {
  fc.assert(fc.property(
    envMap,
    fc.constantFrom("\n", "\r\n", "\n\n# comment\n"),
    fc.boolean(),
    (env, sep, exp) => {
      const text = Object.entries(env).map(([k, v]) =>
        `${exp ? "export " : ""}${k}=${doubleQuoted(v)}`
      ).join(sep);
      assert.deepEqual(parse(text), plainObject(env));
    },
  ));
});

Deno.test("property: single-quoted values parse back equal", () => {
  // A raw CR LF inside a value reads as LF, and a trailing backslash would escape the quote.
  const v = value.filter((s) => !s.includes("\r") && !s.endsWith("\\"));
  fc.assert(fc.property(fc.dictionary(key, v, { maxKeys: 8 }), (env) => {
    const text = Object.entries(env).map(([k, s]) =>
      `${k}='${s.replaceAll("'", "\\'")}'  # note`
    ).join("\n");
    assert.deepEqual(parse(text), plainObject(env));
  }));
});

Deno.test("property: plain unquoted values parse back equal", () => {
  const plain = fc.string({
    unit: fc.constantFrom(
      "a",
      "Z",
      "0",
      "-",
      "/",
      ":",
      "@",
      "$",
      "#",
      "'",
      '"',
      "=",
      " ",
      "é",
    ),
    maxLength: 20,
  })
    .map((s) => s.trim())
    .filter((s) => !/^['"#]/.test(s) && !/[ \t]#/.test(s));
  fc.assert(fc.property(fc.dictionary(key, plain, { maxKeys: 8 }), (env) => {
    const text = Object.entries(env).map(([k, s]) => `${k}=${s}`).join("\n");
    assert.deepEqual(parse(text), plainObject(env));
  }));
});

Deno.test("property: any text parses or throws a ConfigError naming a line", () => {
  const chunk = fc.constantFrom(
    "A",
    "b",
    "=",
    " ",
    "\t",
    "\n",
    "\r\n",
    "#",
    "'",
    '"',
    "\\",
    "export ",
    "1",
    "$",
    ".",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: chunk, maxLength: 40 }),
        fc.string({ unit: "binary" }),
      ),
      (text) => {
        try {
          const env = parseEnvFile(text, "f");
          for (const [k, v] of Object.entries(env)) {
            assert.match(k, /^[A-Za-z_][A-Za-z0-9_.]*$/);
            assert.equal(typeof v, "string");
          }
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          assert.match(e.message, /^Invalid env file 'f' at line \d+: /);
          const line = Number(/line (\d+)/.exec(e.message)![1]);
          assert.ok(line >= 1 && line <= text.split("\n").length, e.message);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("property: a malformed line never shows its content in the error", () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9+\/]{6,24}$/);
  const badLine = fc.constantFrom(
    (s: string) => s,
    (s: string) => `9${s}=x`,
    (s: string) => `K="${s}`,
    (s: string) => `K='${s}' ${s}`,
    (s: string) => `K ${s}=1`,
  );
  fc.assert(fc.property(secret, badLine, (s, make) => {
    const e = errorOf(`OK=1\n${make(s)}\n`);
    assert.ok(!e.message.includes(s), e.message);
  }));
});
