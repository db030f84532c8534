import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "./check.ts";
import { ConfigError } from "../errors.ts";
import { clearSecrets } from "../redact.ts";
import { kind as amqp } from "./amqp.ts";
import { closeVerdict, protocolName } from "./amqp_handshake.ts";

const parseAmqpUrl = amqp.parse;
const describeAmqpTarget = amqp.describe;
const AMQP_DEFAULT_PORTS = amqp.defaultPorts;

Deno.test("parseAmqpUrl reads host, port (5672, 5671 for amqps), credentials and the virtual host", () => {
  const cases: [string, string, number, string | undefined, string][] = [
    ["amqp://mq", "mq", AMQP_DEFAULT_PORTS.amqp, undefined, "/"],
    ["amqps://mq", "mq", AMQP_DEFAULT_PORTS.amqps, undefined, "/"],
    ["amqp://u:p@mq:5673/app", "mq", 5673, "u", "app"],
    ["amqp://u:p@mq/", "mq", 5672, "u", "/"],
    ["amqp://u:p@mq/%2F", "mq", 5672, "u", "/"],
    ["amqp://u:p@mq/%2Fprod", "mq", 5672, "u", "/prod"],
    ["AMQP://[::1]:5672", "::1", 5672, undefined, "/"],
    [
      "amqp://u:p@mq/app?heartbeat=30&connection_timeout=5000",
      "mq",
      5672,
      "u",
      "app",
    ],
  ];
  for (const [url, host, port, user, vhost] of cases) {
    const t = parseAmqpUrl(url, "test");
    assert.equal(t.host, host, url);
    assert.equal(t.port, port, url);
    assert.equal(t.username, user, url);
    // The virtual host opened, as describe names it (with a user).
    if (user !== undefined) {
      assert.ok(
        describeAmqpTarget(t).endsWith(` (vhost '${vhost}')`),
        `${url}: ${describeAmqpTarget(t)}`,
      );
    }
  }
});

Deno.test("parseAmqpUrl rejects what the check cannot honour, naming the source and masking the password", () => {
  clearSecrets();
  const bad: [string, RegExp][] = [
    [
      "amqp://mq:x",
      /^Invalid AMQP_URL 'amqp:\/\/mq:x': the port must be a number 1-65535$/,
    ],
    [
      "amqp://u:secret-pw@mq/a/b",
      /^Invalid AMQP_URL 'amqp:\/\/u:\*\*\*@mq\/a\/b': the virtual host is one path segment/,
    ],
    [
      "amqp://mq/app?hearbeat=30",
      /unknown option 'hearbeat', expected one of cacertfile, cacert, verify, auth_mechanism, heartbeat/,
    ],
    [
      "amqps://mq?verify=verify_none",
      /verify 'verify_none' is not supported: certificates are always verified/,
    ],
    [
      "amqp://mq?auth_mechanism=EXTERNAL",
      /auth_mechanism 'EXTERNAL' is not supported, expected PLAIN/,
    ],
    [
      "amqp://mq?cacertfile=/etc/hostname",
      /cacertfile needs an amqps:\/\/ URL/,
    ],
    [
      "amqps://mq?cacertfile=/no/such/ca.pem",
      /cannot read cacertfile '\/no\/such\/ca\.pem'/,
    ],
    ["amqp://:secret-pw@mq", /the user name is empty/],
    [`amqp://mq/${"v".repeat(256)}`, /longer than 255 bytes/],
    [
      "redis://mq",
      /expected an amqp:\/\/\[USER:PASSWORD@\]HOST\[:PORT\]\[\/VHOST\] or amqps:\/\/ URL/,
    ],
  ];
  for (const [url, pattern] of bad) {
    assert.throws(() => parseAmqpUrl(url, "AMQP_URL"), (e: unknown) => {
      assert.ok(e instanceof ConfigError, url);
      assert.match(e.message, pattern, url);
      assert.ok(!e.message.includes("secret-pw"), "password shown");
      return true;
    });
  }
  clearSecrets();
});

Deno.test("closeVerdict: access, unknown vhost and handshake errors are permanent; shutdown, limits and internal errors are not", () => {
  const c = (replyCode: number, replyText: string) =>
    closeVerdict({
      name: "close",
      replyCode,
      replyText,
      classId: 10,
      methodId: 40,
    }, "mq:5672");
  const permanent: [number, string][] = [
    [
      403,
      "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN",
    ],
    [403, "ACCESS_REFUSED - user 'guest' can only connect via localhost"],
    [530, "NOT_ALLOWED - vhost nope not found"],
    [530, "NOT_ALLOWED - access to vhost 'x' refused for user 'app'"],
    [402, "INVALID_PATH - bad vhost"],
    [503, "COMMAND_INVALID - unknown method"],
  ];
  for (const [code, text] of permanent) {
    const v = c(code, text);
    assert.ok(v instanceof PermanentError, `${code} ${text}`);
    assert.equal(v.message, `mq:5672 closed the connection: ${text} (${code})`);
  }
  const transient: [number, string][] = [
    [
      320,
      "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
    ],
    [
      530,
      "NOT_ALLOWED - connection refused: user 'app' connection limit (1) is reached",
    ],
    [530, "NOT_ALLOWED - vhost app is down"],
    [541, "INTERNAL_ERROR"],
    [506, "RESOURCE_ERROR"],
  ];
  for (const [code, text] of transient) {
    assert.ok(c(code, text) instanceof NotReadyError, `${code} ${text}`);
  }
});

Deno.test("protocolName names the version in a server's protocol header", () => {
  assert.equal(protocolName([0, 1, 0, 0]), "AMQP 1.0");
  assert.equal(protocolName([3, 1, 0, 0]), "AMQP 1.0");
  assert.equal(protocolName([0, 0, 9, 1]), "AMQP 0-9-1");
  assert.equal(protocolName([1, 1, 8, 0]), "AMQP 0-8");
  assert.equal(protocolName([7, 7, 7, 7]), "an unknown AMQP version (7 7 7 7)");
});

Deno.test("describeAmqpTarget names the broker, TLS and the virtual host, never the password", () => {
  const d = (url: string) => describeAmqpTarget(parseAmqpUrl(url, "t"));
  assert.equal(d("amqp://mq"), "AMQP broker at mq:5672");
  assert.equal(
    d("amqps://u:pw12@mq/app"),
    "AMQP broker at mq:5671 over TLS (vhost 'app')",
  );
});
