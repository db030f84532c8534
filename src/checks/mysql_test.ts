import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { clearSecrets, scrub } from "../redact.ts";
import { kind as mysql } from "./mysql.ts";

const parseMysqlUrl = mysql.parse;
const describeMysqlTarget = mysql.describe;
const MYSQL_DEFAULT_PORT = mysql.defaultPorts.mysql;

Deno.test("parseMysqlUrl reads host, port, user, password and database, 3306 by default", () => {
  const cases: [string, Partial<ReturnType<typeof mysql.parse>>][] = [
    ["mysql://db", { scheme: "mysql", host: "db", port: MYSQL_DEFAULT_PORT }],
    ["mariadb://db:3307", { scheme: "mariadb", host: "db", port: 3307 }],
    ["MySQL://db", { scheme: "mysql", host: "db", port: 3306 }],
    ["mysql://[::1]:3306", { host: "::1", port: 3306 }],
    [
      "mysql://app:s%40cret@db/shop",
      { username: "app", password: "s@cret", path: "shop" },
    ],
    ["mysql://app@db", { username: "app", password: undefined, path: "" }],
    ["mysql://:pw12@db", { username: "", password: "pw12" }],
    // SQLAlchemy URLs name the driver.
    ["mysql+pymysql://u:p@db/app?charset=utf8mb4", {
      scheme: "mysql",
      path: "app",
    }],
    ["mariadb+mariadbconnector://u:p@db/app", { scheme: "mariadb" }],
  ];
  for (const [url, expected] of cases) {
    const t = parseMysqlUrl(url, "test");
    for (const [k, v] of Object.entries(expected)) {
      assert.equal(t[k as keyof typeof t], v, `${url}: ${k}`);
    }
  }
  assert.equal(parseMysqlUrl("mysql://db", "t").username, undefined);
});

Deno.test("parseMysqlUrl masks the password in the id and registers it for scrubbing", () => {
  clearSecrets();
  const t = parseMysqlUrl("mysql://app:Pa55-w0rd!@db/app", "DB");
  assert.equal(t.id, "mysql://app:***@db/app");
  assert.equal(scrub("login failed for Pa55-w0rd!"), "login failed for ***");
  clearSecrets();
});

Deno.test("parseMysqlUrl rejects malformed URLs naming the source, the masked value and what is accepted", () => {
  const bad: [string, RegExp][] = [
    [
      "mysql://db:abc",
      /^Invalid DB_URL 'mysql:\/\/db:abc': the port must be a number 1-65535$/,
    ],
    ["mysql://db:0", /port must be a number 1-65535/],
    ["mysql://db:70000", /port must be a number 1-65535/],
    [
      "mysql://u:secret-pw@db:x/app",
      /^Invalid DB_URL 'mysql:\/\/u:\*\*\*@db:x\/app'/,
    ],
    ["mysql:///app", /missing host/],
    [
      "mysql:db",
      /expected a mysql:\/\/\[USER\[:PASSWORD\]@\]HOST\[:PORT\]\[\/DATABASE\]/,
    ],
    ["postgres://db", /expected a mysql:\/\//],
    ["mysql://db/a/b", /database name 'a\/b' contains '\/'/],
    [
      "mysql://u:p@db/app?ssl-mode=REQUIRED",
      /'ssl-mode' is not supported: mysql:\/\/ targets connect without TLS/,
    ],
    ["mysql://u:p@db/app?ssl_ca=/ca.pem", /'ssl_ca' is not supported/],
  ];
  for (const [url, pattern] of bad) {
    assert.throws(() => parseMysqlUrl(url, "DB_URL"), (e: unknown) => {
      assert.ok(e instanceof ConfigError, url);
      assert.match(e.message, pattern, url);
      assert.ok(!e.message.includes("secret-pw"), "password shown");
      return true;
    });
  }
});

Deno.test("describeMysqlTarget names the server, user and database, never the password", () => {
  const d = (url: string) => describeMysqlTarget(parseMysqlUrl(url, "t"));
  assert.equal(d("mysql://db"), "MySQL at db:3306");
  assert.equal(
    d("mysql://app:pw12@[::1]:3307/shop"),
    "MySQL at [::1]:3307 as app on shop",
  );
});
