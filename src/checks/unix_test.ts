import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { kind as unix, maxSocketPath } from "./unix.ts";

const parseUnixUrl = unix.parse;
const describeUnixTarget = unix.describe;

Deno.test("parseUnixUrl reads an absolute socket path, percent-decoded", () => {
  assert.equal(
    parseUnixUrl("unix:///run/app.sock", "t").socketPath,
    "/run/app.sock",
  );
  assert.equal(
    parseUnixUrl("unix:/run/app.sock", "t").socketPath,
    "/run/app.sock",
  );
  assert.equal(
    parseUnixUrl("unix:///run/my%20app.sock", "t").socketPath,
    "/run/my app.sock",
  );
  assert.equal(
    parseUnixUrl("UNIX:///run/a.sock", "t").id,
    "UNIX:///run/a.sock",
  );
});

Deno.test("parseUnixUrl rejects a host, a relative path, a query and an over-long path", () => {
  const long = `/${"s".repeat(maxSocketPath())}`;
  const bad: [string, RegExp][] = [
    [
      "unix://run/app.sock",
      /^Invalid WAIT 'unix:\/\/run\/app\.sock': a unix:\/\/ URL has no host: write three slashes, as unix:\/\/\/run\/app\.sock$/,
    ],
    ["unix:app.sock", /the socket path must be absolute/],
    ["unix:///", /the socket path must be absolute/],
    ["unix:///run/app.sock?mode=x", /has no query or fragment/],
    ["unix:///run/%ZZ", /invalid percent-encoding/],
    [
      `unix://${long}`,
      new RegExp(
        `is ${long.length} bytes long; the kernel accepts at most ${maxSocketPath()}`,
      ),
    ],
    [
      "tcp:///run/app.sock",
      /expected a unix:\/\/\/PATH URL with an absolute path/,
    ],
  ];
  for (const [url, pattern] of bad) {
    assert.throws(() => parseUnixUrl(url, "WAIT"), (e: unknown) => {
      assert.ok(e instanceof ConfigError, url);
      assert.match(e.message, pattern, url);
      return true;
    });
  }
  assert.equal(maxSocketPath("linux"), 107);
  assert.equal(maxSocketPath("darwin"), 103);
});

Deno.test("describeUnixTarget names the socket path", () => {
  assert.equal(
    describeUnixTarget(parseUnixUrl("unix:///run/a%20b.sock", "t")),
    "Unix socket /run/a b.sock",
  );
});
