import assert from "node:assert/strict";
import { unencodedInCredentials } from "./target.ts";
import { parsePostgresUrl as parseTarget, pgAddress } from "./postgres_url.ts";
import { ConfigError } from "../errors.ts";

const hostsOf = (url: string) =>
  parseTarget(url, "test").hosts.map((h) => `${h.host}|${h.port}`);

Deno.test("PostgreSQL host lists, socket directories and host/port parameters read as libpq reads them", () => {
  const cases: [string, string[]][] = [
    ["postgres://db", ["db|5432"]],
    ["postgres://h1:5433,h2/app", ["h1|5433", "h2|5432"]],
    ["postgres://u:p@h1,h2:6000/app", ["h1|5432", "h2|6000"]],
    ["postgres://[::1]:5433,[fe80::1]/app", ["::1|5433", "fe80::1|5432"]],
    ["postgres://%2Fvar%2Frun%2Fpostgresql/app", ["/var/run/postgresql|5432"]],
    ["postgres://%2Ftmp:6543/app", ["/tmp|6543"]],
    ["postgres:///app?host=/var/run/postgresql", ["/var/run/postgresql|5432"]],
    ["postgres://ignored/app?host=a,b&port=1,2", ["a|1", "b|2"]],
    ["postgres://h1,h2/app?port=7000", ["h1|7000", "h2|7000"]],
    ["postgresql+psycopg2://u:p@h1:1,h2:2/app", ["h1|1", "h2|2"]],
  ];
  for (const [url, want] of cases) assert.deepEqual(hostsOf(url), want, url);
  const t = parseTarget("postgres://u:pw@h1:1,h2:2/app?sslmode=require", "t");
  assert.deepEqual([t.host, t.port, t.username, t.password, t.path], [
    "h1",
    1,
    "u",
    "pw",
    "app",
  ]);
  assert.equal(t.params.get("sslmode"), "require");
  assert.equal(pgAddress(t), "h1:1,h2:2");
  assert.equal(
    pgAddress(parseTarget("postgres://%2Frun%2Fpg:5433", "t")),
    "/run/pg/.s.PGSQL.5433",
  );
});

Deno.test("malformed PostgreSQL host lists are configuration errors naming the problem", () => {
  const bad: [string, RegExp][] = [
    [
      "postgres:///app",
      /missing host: give a host, or a Unix-socket directory/,
    ],
    ["postgres://h1:x,h2/app", /port must be a number/],
    ["postgres://h1,,h2/app", /empty host/],
    ["postgres://a,b,c/app?port=1,2", /2 ports for 3 hosts/],
    ["postgres://rel%2Fdir/app", /must be an absolute path/],
    [
      "postgres://db/app?target_session_attrs=primary-ish",
      /invalid target_session_attrs 'primary-ish'/,
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

Deno.test("unencodedInCredentials finds a '/', '?' or '#' in a password, not an '@' in a path", () => {
  assert.equal(unencodedInCredentials("postgres://u:pa#ss@h/db"), "#");
  assert.equal(unencodedInCredentials("postgres://u:pa/ss@h/db"), "/");
  assert.equal(unencodedInCredentials("redis://:pa?ss@h:6379"), "?");
  assert.equal(unencodedInCredentials("postgres://u:pa%2Fss@h/db"), undefined);
  assert.equal(unencodedInCredentials("http://api/users/@me"), undefined);
  assert.equal(unencodedInCredentials("http://api:8080/u@me"), undefined);
  assert.equal(unencodedInCredentials("http://api/?email=a@b"), undefined);
  assert.equal(unencodedInCredentials("tcp://db:5432"), undefined);
  assert.throws(
    () => parseTarget("postgres://app:s3cret#x@db:5432/app", "DATABASE_URL"),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^Invalid DATABASE_URL 'postgres:\/\/app:\*\*\*@db:5432\/app': the user name or password contains '#', which must be percent-encoded: '#' as %23/
        .test((e as Error).message) &&
      !(e as Error).message.includes("s3cret"),
  );
});
