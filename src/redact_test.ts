import assert from "node:assert/strict";
import fc from "fast-check";
import {
  clearSecrets,
  isSecretName,
  MIN_FREE_TEXT_SECRET,
  redactUrl,
  redactUrls,
  registerSecret,
  registerSecretsFromEnv,
  scrub,
  urlPassword,
} from "./redact.ts";

/** Runs a test body with an empty secret registry, and leaves it empty. */
function fresh<T>(fn: () => T): T {
  clearSecrets();
  try {
    return fn();
  } finally {
    clearSecrets();
  }
}

/** How a password set on a parsed URL shows in its href. */
function whatwgForm(pw: string): string {
  const u = new URL("postgres://app@db:5432/app");
  u.password = pw;
  return u.password;
}

Deno.test("isSecretName matches PASSWORD, SECRET, TOKEN and KEY in any case", () => {
  for (
    const n of [
      "DB_PASSWORD",
      "PGPASSWORD",
      "api_token",
      "SECRET_KEY_BASE",
      "Key",
    ]
  ) {
    assert.ok(isSecretName(n), n);
  }
  for (const n of ["DB_HOST", "PORT", "MIGRATE_CMD", "DATABASE_URL"]) {
    assert.ok(!isSecretName(n), n);
  }
});

Deno.test("redactUrl masks the password and keeps everything else", () => {
  assert.equal(
    redactUrl("postgres://app:s3cret@db:5432/app"),
    "postgres://app:***@db:5432/app",
  );
  assert.equal(
    redactUrl("redis://:s3cret@cache:6379/0"),
    "redis://:***@cache:6379/0",
  );
  assert.equal(
    redactUrl("postgres://app@db:5432/app"),
    "postgres://app@db:5432/app",
  );
  assert.equal(redactUrl("tcp://db:5432"), "tcp://db:5432");
  assert.equal(redactUrl("http://api:8000/health"), "http://api:8000/health");
  assert.equal(
    redactUrl("postgresql://u:p@[::1]:5432/d?sslmode=require"),
    "postgresql://u:***@[::1]:5432/d?sslmode=require",
  );
});

Deno.test("redactUrl masks a raw @, /, ? or # in a password whole", () => {
  assert.equal(
    redactUrl("postgres://app:p@ss@db:5432/app"),
    "postgres://app:***@db:5432/app",
  );
  assert.equal(
    redactUrl("postgres://app:a/b@db/app"),
    "postgres://app:***@db/app",
  );
  assert.equal(
    redactUrl("postgres://app:a?b#c@db/app"),
    "postgres://app:***@db/app",
  );
  assert.equal(
    redactUrl("postgres://app:x@y/z@db/app"),
    "postgres://app:***@db/app",
  );
});

Deno.test("redactUrl does not take a port for a password", () => {
  assert.equal(
    redactUrl("http://api:8000/users/a@b"),
    "http://api:8000/users/a@b",
  );
  assert.equal(redactUrl("http://api:8000?x=a@b"), "http://api:8000?x=a@b");
});

Deno.test("redactUrl masks secret query parameters", () => {
  assert.equal(
    redactUrl("postgres://db/app?sslmode=require&password=x&sslpassword=y"),
    "postgres://db/app?sslmode=require&password=***&sslpassword=***",
  );
  assert.equal(
    redactUrl("http://api/health?token=abc&x=1"),
    "http://api/health?token=***&x=1",
  );
  assert.equal(
    redactUrl("http://api/h?api_key=abc#frag"),
    "http://api/h?api_key=***#frag",
  );
  assert.equal(
    redactUrl("http://api/h?X-Amz-Signature=abc"),
    "http://api/h?X-Amz-Signature=***",
  );
});

Deno.test("redactUrls masks every URL in a text without eating the text around it", () => {
  assert.equal(
    redactUrls(
      "a postgres://u:p@db/x and redis://:q@r:6379, then 'http://h:1/a'",
    ),
    "a postgres://u:***@db/x and redis://:***@r:6379, then 'http://h:1/a'",
  );
  assert.equal(
    redactUrls("postgres://u:p@db:5432/x,redis://:q@r:6379"),
    "postgres://u:***@db:5432/x,redis://:***@r:6379",
  );
  assert.equal(
    redactUrls(
      JSON.stringify({ msg: "postgres://u:p@db/x", mail: "ops@example.com" }),
    ),
    JSON.stringify({ msg: "postgres://u:***@db/x", mail: "ops@example.com" }),
  );
});

Deno.test("urlPassword reads the password as URL parsers do, decoded", () => {
  assert.equal(urlPassword("postgres://u:p%40ss@h/db"), "p@ss");
  assert.equal(urlPassword("postgres://u:a:b@h/db"), "a:b");
  assert.equal(urlPassword("postgres://u:p@ss@h/db"), "p@ss");
  assert.equal(urlPassword("postgres://u:p@h/db?mail=a@b"), "p");
  assert.equal(urlPassword("postgres://u:a/b@h/db"), "a/b");
  assert.equal(urlPassword("postgres://u@h/db"), undefined);
  assert.equal(urlPassword("http://h:8000/x"), undefined);
  assert.equal(urlPassword("postgres://u:%zz@h"), "%zz");
});

Deno.test("scrub masks registered secrets in any form and URL passwords", () => {
  fresh(() => {
    registerSecret('p@ss "w/o" 50%');
    const pw = 'p@ss "w/o" 50%';
    const line = `login as app with ${pw} to postgres://app:${
      encodeURIComponent(pw)
    }@db/app`;
    assert.equal(
      scrub(line),
      "login as app with *** to postgres://app:***@db/app",
    );
    assert.equal(
      scrub(JSON.stringify({ msg: `bad ${pw}` })),
      JSON.stringify({ msg: "bad ***" }),
    );
    assert.equal(scrub(`postgres://app:${pw}@db/app`).includes("50%"), false);
  });
});

Deno.test("scrub masks a longer secret whole before a shorter one inside it", () => {
  fresh(() => {
    registerSecret("abcd");
    registerSecret("xxabcdxx");
    assert.equal(scrub("xxabcdxx abcd"), "*** ***");
  });
});

Deno.test("a secret shorter than 4 characters is masked in URLs but does not garble free text", () => {
  fresh(() => {
    registerSecret("e");
    registerSecretsFromEnv({
      DATABASE_URL: "postgres://postgres:postgres@db/app",
    });
    assert.equal(
      scrub("[entrypoint] Waiting for Postgres"),
      "[entrypoint] Waiting for Postgres",
    );
    assert.equal(
      scrub('✗ postgres://postgres:postgres@db/app: for user "postgres"'),
      '✗ postgres://postgres:***@db/app: for user "postgres"',
    );
    assert.equal(scrub("postgres://u:e@db/x"), "postgres://u:***@db/x");
  });
});

Deno.test("registerSecret ignores empty values", () => {
  fresh(() => {
    registerSecret("");
    registerSecret(undefined);
    registerSecret(null);
    assert.equal(scrub("nothing to hide"), "nothing to hide");
  });
});

Deno.test("registerSecretsFromEnv registers secret variables and URL passwords, not public values", () => {
  fresh(() => {
    registerSecretsFromEnv({
      POSTGRES_PASSWORD: "postgres", // equal to a plain value: public
      DB_HOST: "postgres",
      API_TOKEN: "tok-123",
      DATABASE_URL: "postgres://app:raw@pass/word@db:5432/app",
      PREFLIGHT_WAIT_FOR: "redis://:r3d,is@cache:6379,tcp://x:1",
      UNSET_KEY: undefined,
    });
    assert.equal(scrub("host postgres"), "host postgres");
    assert.equal(scrub("token tok-123"), "token ***");
    assert.equal(scrub("auth failed for raw@pass/word"), "auth failed for ***");
    assert.equal(scrub("auth failed for r3d,is"), "auth failed for ***");
  });
});

// ---- properties ------------------------------------------------------------

/**
 * Passwords of any printable characters, ASCII punctuation like @:/% included,
 * and beyond ASCII; at least MIN_FREE_TEXT_SECRET characters (shorter ones are
 * masked only where they are structurally secrets: see the unit test below).
 */
const password = fc.oneof(
  fc.string({ unit: "grapheme-ascii", minLength: 4, maxLength: 24 }),
  fc.string({
    unit: fc.constantFrom(
      "@",
      ":",
      "/",
      "%",
      "?",
      "#",
      "&",
      "=",
      "'",
      '"',
      "\\",
      " ",
      "a",
      "1",
      "é",
      "*",
    ),
    minLength: 4,
    maxLength: 16,
  }),
  fc.string({ unit: "grapheme", minLength: 4, maxLength: 12 }),
);

/** Every start index of `g` in `s`, overlapping ones included. */
function occurrences(s: string, g: string): number[] {
  const out: number[] = [];
  for (let i = s.indexOf(g); i >= 0; i = s.indexOf(g, i + 1)) out.push(i);
  return out;
}

/** True when no form of the secret is left in `out` (masks set aside, in case the secret contains `*`). */
function noForm(out: string, forms: string[]): boolean {
  const unmasked = out.replaceAll("***", "\u0001");
  return forms.every((f) => !unmasked.includes(f));
}

Deno.test("property: a registered password survives scrub in no form, in text or JSON lines", () => {
  let exact = 0;
  const runs = 500;
  fc.assert(
    fc.property(password.filter((pw) => !pw.includes("\u0001")), (pw) => {
      const inJson = (f: string) => JSON.stringify(f).slice(1, -1);
      const forms = [pw, encodeURIComponent(pw), whatwgForm(pw)];
      const all = [...new Set([...forms, ...forms.map(inJson)])];
      const before = "connect postgres://app:";
      const middle = "@db:5432/app failed: password ";
      const after = " rejected";
      fresh(() => {
        registerSecret(pw);
        for (const f of forms) {
          const text = before + f + middle + pw + after;
          const out = scrub(text);
          assert.ok(noForm(out, all), `${JSON.stringify(text)} -> ${out}`);
          // Exactly the two holes masked, whenever the secret's forms occur
          // nowhere else (not even overlapping the text around them).
          const holes: [number, number][] = [
            [before.length, f.length],
            [before.length + f.length + middle.length, pw.length],
          ];
          const unambiguous = all.every((g) =>
            occurrences(text, g).every((p) =>
              holes.some(([at, len]) => p === at && g.length === len)
            )
          );
          if (unambiguous) {
            exact++;
            assert.equal(out, `${before}***${middle}***${after}`);
          }
          // In a JSON log line no form is left either; the line stays valid
          // JSON unless the raw secret matches JSON syntax around it (a
          // password with a quote or backslash, next to a field's quote).
          const json = JSON.stringify({
            msg: text,
            url: `redis://:${f}@cache:6379`,
          });
          const scrubbed = scrub(json);
          assert.ok(noForm(scrubbed, all), `${json} -> ${scrubbed}`);
          const skeleton = JSON.stringify({
            msg: before + middle + after,
            url: "redis://:@cache:6379",
          });
          if (!/["\\]/.test(pw) && all.every((g) => !skeleton.includes(g))) {
            const parsed = JSON.parse(scrubbed);
            assert.ok(noForm(parsed.msg, all) && noForm(parsed.url, all), json);
          }
        }
      });
    }),
    { numRuns: runs },
  );
  // The exact comparison must not have been skipped for most passwords.
  assert.ok(exact > runs, `exact comparisons: ${exact} of ${runs * 3}`);
});

Deno.test("property: redactUrl masks any percent-encoded password without registration", () => {
  const user = fc.stringMatching(/^[A-Za-z0-9_.-]{0,10}$/);
  fc.assert(
    fc.property(
      password,
      user,
      fc.constantFrom("postgres", "postgresql", "redis", "rediss", "https"),
      (pw, u, scheme) => {
        fresh(() => {
          const expected = `${scheme}://${u}:***@db:5432/app?sslmode=require`;
          assert.equal(
            redactUrl(
              `${scheme}://${u}:${
                encodeURIComponent(pw)
              }@db:5432/app?sslmode=require`,
            ),
            expected,
          );
          const parsed = new URL(`${scheme}://db:5432/app?sslmode=require`);
          parsed.username = u;
          parsed.password = pw;
          assert.equal(
            redactUrl(parsed.href),
            `${scheme}://${parsed.username}:***@db:5432/app?sslmode=require`,
          );
        });
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: redactUrl masks a raw password with @ : / % ? # whole, without registration", () => {
  // Whitespace and " end a URL in text; digits then / ? # read as a port.
  const raw = password.filter((pw) =>
    !/[\s"]/.test(pw) && !/^\d+(?:[/?#]|$)/.test(pw) && !pw.includes("://")
  );
  fc.assert(
    fc.property(raw, (pw) => {
      fresh(() => {
        assert.equal(
          redactUrl(`postgres://app:${pw}@db:5432/app`),
          "postgres://app:***@db:5432/app",
        );
      });
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: a password in DATABASE_URL is registered and scrubbed from free text", () => {
  const raw = password.filter((pw) =>
    !/[\s"]/.test(pw) && !/^\d+(?:[/?#]|$)/.test(pw) && !pw.includes("://")
  );
  fc.assert(
    fc.property(raw, fc.boolean(), (pw, encode) => {
      const inUrl = encode ? encodeURIComponent(pw) : pw;
      fc.pre(!pw.includes("*"));
      fresh(() => {
        registerSecretsFromEnv({
          DATABASE_URL: `postgres://app:${inUrl}@db:5432/app`,
          DB_HOST: "db",
        });
        // The decoded password is what a server or client would echo back.
        // Other readings of the URL (up to its first @) may be masked too.
        const echoed = decodeOr(inUrl);
        // Shorter secrets are masked in URLs only (MIN_FREE_TEXT_SECRET):
        // a generated "%00&" decodes to two characters.
        fc.pre(echoed.length >= MIN_FREE_TEXT_SECRET);
        const out = scrub(`server said: ${echoed} is wrong`);
        assert.ok(!out.includes(echoed), out);
        assert.ok(out.includes("***"), out);
      });
    }),
    { numRuns: 500 },
  );
});

function decodeOr(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

Deno.test("property: scrub and redactUrls leave text without URLs or secrets unchanged", () => {
  const text = fc.string({ unit: "grapheme", maxLength: 60 }).filter((t) =>
    !t.includes("://")
  );
  fc.assert(fc.property(text, (t) => {
    fresh(() => {
      assert.equal(scrub(t), t);
      assert.equal(redactUrls(t), t);
    });
  }));
});

Deno.test("redactUrl masks the password of a URL missing its '//'", () => {
  const cases: [string, string][] = [
    ["postgresql:/app:s3cret@db/app", "postgresql:/app:***@db/app"],
    ["app:s3cret@db:5432", "app:***@db:5432"],
    ["postgres:app:s3cret@db/app", "postgres:***@db/app"],
    ["u:pa:ss@h:1", "u:***@h:1"],
    ["u:p@ss@h", "u:***@h"],
    ["db:5432", "db:5432"],
  ];
  for (const [input, want] of cases) {
    assert.equal(redactUrl(input), want, input);
  }
});
