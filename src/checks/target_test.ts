import assert from "node:assert/strict";
import fc from "fast-check";
import { hostPort, parseTarget } from "./target.ts";
import { ConfigError } from "../errors.ts";
import { clearSecrets } from "../redact.ts";

Deno.test("parseTarget reads each kind of target with its default port", () => {
  const cases: [string, string, string, number][] = [
    ["tcp://db:5432", "tcp", "db", 5432],
    ["postgres://db", "postgres", "db", 5432],
    ["postgresql://u:p@db:6543/app", "postgres", "db", 6543],
    ["postgresql+psycopg2://u:p@db/app", "postgres", "db", 5432],
    ["redis://cache", "redis", "cache", 6379],
    ["rediss://cache:6380/2", "rediss", "cache", 6380],
    ["http://api/health", "http", "api", 80],
    ["https://api/health", "https", "api", 443],
    ["http://api:80/health", "http", "api", 80],
    ["tcp://[::1]:5432", "tcp", "::1", 5432],
    // A password with ':' (raw or encoded) and no port: the default port.
    ["http://ops:s%3Acret@api/health", "http", "api", 80],
    ["postgres://u:p:w@db/app", "postgres", "db", 5432],
    ["redis://:pw@cache", "redis", "cache", 6379],
  ];
  for (const [url, scheme, host, port] of cases) {
    const t = parseTarget(url, "test");
    assert.equal(t.scheme, scheme, url);
    assert.equal(t.host, host, url);
    assert.equal(t.port, port, url);
  }
});

Deno.test("a bare HOST:PORT (wait-for-it's form) is a tcp:// target", () => {
  for (
    const [text, host, port] of [
      ["db:5432", "db", 5432],
      ["127.0.0.1:6379", "127.0.0.1", 6379],
      ["[::1]:80", "::1", 80],
      ["host.docker.internal:8000", "host.docker.internal", 8000],
    ] as const
  ) {
    const t = parseTarget(text, "SRC");
    assert.equal(t.scheme, "tcp", text);
    assert.equal(t.host, host, text);
    assert.equal(t.port, port, text);
    assert.equal(t.bare, true, text);
  }
  assert.equal(parseTarget("tcp://db:5432", "SRC").bare, undefined);
});

Deno.test("parseTarget rejects malformed targets with a message naming the source and what is accepted", () => {
  const bad: [string, RegExp][] = [
    ["db", /^Invalid SRC 'db': expected a HOST:PORT, tcp:\/\/HOST:PORT/],
    [
      "postgress://db:5432",
      /unknown scheme 'postgress': did you mean 'postgres:\/\/'\?$/,
    ],
    ["db:0", /port must be a number 1-65535/],
    ["tcp://db", /missing port/],
    ["tcp://db:0", /port must be a number 1-65535/],
    ["tcp://db:65536", /port must be a number 1-65535/],
    ["tcp://db:port", /port must be a number 1-65535/],
    ["mysql://db:3306", /unknown scheme 'mysql'/],
    ["redis://cache/x", /Redis database must be a number/],
    ["tcp://db:1/path", /tcp:\/\/ target has no path/],
    ["postgres://db?sslmode=maybe", /invalid sslmode 'maybe'/],
    [
      "postgres://db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
      /cannot read sslrootcert/,
    ],
  ];
  for (const [url, re] of bad) {
    assert.throws(
      () => parseTarget(url, "SRC"),
      (e: unknown) => e instanceof ConfigError && re.test((e as Error).message),
      url,
    );
  }
});

const hostArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}$/),
  fc.ipV4(),
);
const userArb = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/);
const passwordArb = fc.string({
  minLength: 4,
  maxLength: 24,
  unit: "grapheme-ascii",
});

Deno.test("property: parseTarget round-trips host, port, user, password and database, and its id never shows the password", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(
        "postgres",
        "postgresql",
        "redis",
        "rediss",
        "http",
        "https",
      ),
      hostArb,
      fc.integer({ min: 1, max: 65535 }),
      userArb,
      passwordArb,
      fc.stringMatching(/^[a-z]{1,10}$/),
      (scheme, host, port, user, password, db) => {
        clearSecrets();
        const path = scheme.startsWith("redis") ? "3" : db;
        const url = `${scheme}://${user}:${
          encodeURIComponent(password)
        }@${host}:${port}/${path}`;
        const t = parseTarget(url, "test");
        assert.equal(t.host, host);
        assert.equal(t.port, port);
        assert.equal(t.username, user);
        assert.equal(t.password, password);
        assert.equal(t.path, path);
        assert.ok(!t.id.includes(`:${encodeURIComponent(password)}@`), t.id);
        assert.ok(t.id.includes("***"));
        assert.equal(hostPort(t), `${host}:${port}`);
      },
    ),
  );
});

Deno.test("property: any port outside 1-65535 is a ConfigError naming the port rule", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 65536, max: 10_000_000 }), fc.constant(0)),
      (port) => {
        assert.throws(
          () => parseTarget(`tcp://db:${port}`, "X"),
          (e: unknown) =>
            e instanceof ConfigError &&
            /port must be a number 1-65535/.test((e as Error).message),
        );
      },
    ),
  );
});

Deno.test("property: parseTarget throws nothing but ConfigError, whatever the text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      try {
        parseTarget(text, "X");
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
  );
});
