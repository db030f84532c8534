import assert from "node:assert/strict";
import fc from "fast-check";
import { allSchemes, KINDS, parseTarget, parseTargetOf } from "./mod.ts";
import { hostPort } from "./target.ts";
import { kind as redis } from "./redis.ts";
import { ConfigError } from "../errors.ts";
import { clearSecrets } from "../redact.ts";

/** The fields of a host-and-port target, whatever its kind. */
type Server = { host: string; port: number; bare?: boolean };
const parse = async (url: string, source = "test") =>
  await parseTarget(url, source) as unknown as Server & {
    scheme: string;
    username?: string;
    password?: string;
    path: string;
    id: string;
  };

Deno.test("parseTarget reads each kind of target with its default port", async () => {
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
    const t = await parse(url);
    assert.equal(t.scheme, scheme, url);
    assert.equal(t.host, host, url);
    assert.equal(t.port, port, url);
  }
});

Deno.test("a bare HOST:PORT (wait-for-it's form) is a tcp:// target", async () => {
  for (
    const [text, host, port] of [
      ["db:5432", "db", 5432],
      ["127.0.0.1:6379", "127.0.0.1", 6379],
      ["[::1]:80", "::1", 80],
      ["host.docker.internal:8000", "host.docker.internal", 8000],
    ] as const
  ) {
    const t = await parse(text, "SRC");
    assert.equal(t.scheme, "tcp", text);
    assert.equal(t.host, host, text);
    assert.equal(t.port, port, text);
    assert.equal(t.bare, true, text);
  }
  assert.equal((await parse("tcp://db:5432", "SRC")).bare, undefined);
});

Deno.test("parseTarget rejects malformed targets with a message naming the source and what is accepted", async () => {
  const bad: [string, RegExp][] = [
    [
      "db",
      /^Invalid SRC 'db': expected HOST:PORT or a tcp:\/\/, postgres:\/\/, .* URL$/,
    ],
    [
      "postgress://db:5432",
      /unknown scheme 'postgress': did you mean 'postgres:\/\/'\?$/,
    ],
    ["db:0", /port must be a number 1-65535/],
    ["tcp://db", /missing port/],
    ["tcp://db:0", /port must be a number 1-65535/],
    ["tcp://db:65536", /port must be a number 1-65535/],
    ["tcp://db:port", /port must be a number 1-65535/],
    ["memcache://db:11211", /unknown scheme 'memcache'/],
    ["redis://cache/x", /Redis database must be a number/],
    ["tcp://db:1/path", /tcp:\/\/ target has no path/],
    ["tcp://db:1?x=1", /tcp:\/\/ target has no path or query/],
    ["postgres://db?sslmode=maybe", /invalid sslmode 'maybe'/],
    [
      "postgres://db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
      /cannot read sslrootcert/,
    ],
  ];
  for (const [url, re] of bad) {
    await assert.rejects(
      () => parseTarget(url, "SRC"),
      (e: unknown) => e instanceof ConfigError && re.test((e as Error).message),
      url,
    );
  }
});

Deno.test("parseTargetOf reads one kind: another kind's scheme says what is expected, an unknown one as parseTarget says", () => {
  assert.equal(parseTargetOf(redis, "redis://cache", "REDIS_URL").port, 6379);
  assert.throws(
    () => parseTargetOf(redis, "http://cache", "REDIS_URL"),
    /Invalid REDIS_URL 'http:\/\/cache': expected a redis:\/\/ or rediss:\/\/ URL$/,
  );
  assert.throws(
    () => parseTargetOf(redis, "rediz://cache", "REDIS_URL"),
    /unknown scheme 'rediz': did you mean 'redis:\/\/'\?$/,
  );
});

Deno.test("every kind's module reads the schemes of its line in src/checks/mod.ts", async () => {
  for (const [schemes, load] of KINDS) {
    const { kind } = await load();
    assert.deepEqual(kind.schemes, schemes);
    for (const s of Object.keys(kind.defaultPorts)) {
      assert.ok(schemes.includes(s), `${s} has a default port, not a scheme`);
    }
  }
  assert.equal(new Set(allSchemes()).size, allSchemes().length);
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

Deno.test("property: parseTarget round-trips host, port, user, password and database, and its id never shows the password", async () => {
  await fc.assert(
    fc.asyncProperty(
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
      async (scheme, host, port, user, password, db) => {
        clearSecrets();
        const path = scheme.startsWith("redis") ? "3" : db;
        const url = `${scheme}://${user}:${
          encodeURIComponent(password)
        }@${host}:${port}/${path}`;
        const t = await parse(url);
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

Deno.test("property: any port outside 1-65535 is a ConfigError naming the port rule", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.integer({ min: 65536, max: 10_000_000 }), fc.constant(0)),
      async (port) => {
        await assert.rejects(
          () => parseTarget(`tcp://db:${port}`, "X"),
          (e: unknown) =>
            e instanceof ConfigError &&
            /port must be a number 1-65535/.test((e as Error).message),
        );
      },
    ),
  );
});

Deno.test("property: parseTarget throws nothing but ConfigError, whatever the text", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 60 }), async (text) => {
      try {
        await parseTarget(text, "X");
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
  );
});
