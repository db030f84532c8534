import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { kind as dns } from "./dns.ts";
import {
  canonicalAddress,
  formatRecords,
  recordMatches,
} from "./dns_records.ts";

const parseDnsUrl = dns.parse;
const describeDnsTarget = dns.describe;
/** The port of a server given without one, as the check uses it. */
const DNS_DEFAULT_PORT = 53;

Deno.test("parseDnsUrl reads the name, type, value and server", () => {
  assert.deepEqual(
    (({ name, type, value, server }) => ({ name, type, value, server }))(
      parseDnsUrl("dns://db.internal", "t"),
    ),
    {
      name: "db.internal",
      type: undefined,
      value: undefined,
      server: undefined,
    },
  );
  const t = parseDnsUrl(
    "dns://_pg._tcp.svc.local.?type=srv&value=db.svc.local:5432&server=10.0.0.2",
    "t",
  );
  assert.equal(t.name, "_pg._tcp.svc.local");
  assert.equal(t.type, "SRV");
  assert.equal(t.value, "db.svc.local:5432");
  assert.deepEqual(t.server, { host: "10.0.0.2", port: DNS_DEFAULT_PORT });
  assert.deepEqual(
    parseDnsUrl("dns://a.test?server=127.0.0.1:5353", "t").server,
    {
      host: "127.0.0.1",
      port: 5353,
    },
  );
  assert.deepEqual(parseDnsUrl("dns://a.test?server=[::1]:5353", "t").server, {
    host: "::1",
    port: 5353,
  });
  assert.deepEqual(parseDnsUrl("dns://a.test?server=fd00:0::2", "t").server, {
    host: "fd00::2",
    port: 53,
  });
  assert.equal(
    parseDnsUrl("dns://a.test?type=TXT&value=v%3D1%20ok", "t").value,
    "v=1 ok",
  );
  assert.equal(parseDnsUrl("dns://a.test/", "t").name, "a.test");
  assert.equal(parseDnsUrl("dns://a.test?value=fd00::1", "t").value, "fd00::1");
});

Deno.test("parseDnsUrl rejects malformed options naming the source, the value and what is accepted", () => {
  const bad: [string, RegExp][] = [
    [
      "dns://",
      /^Invalid WAIT 'dns:\/\/': missing name, expected a dns:\/\/NAME\[\?type=A\|AAAA\|CNAME\|SRV\|TXT\]/,
    ],
    ["dns:db.test", /expected a dns:\/\/NAME/],
    ["dns://db.test:53", /has no port: give the DNS server as server=IP:53/],
    ["dns://u:p@db.test", /has no user or password/],
    ["dns://db.test/x", /has no path/],
    ["dns://db..test", /'db\.\.test' is not a DNS name/],
    [
      "dns://db.test?type=MX",
      /unknown record type 'MX', expected A, AAAA, CNAME, SRV, TXT/,
    ],
    [
      "dns://db.test?typ=A",
      /unknown option 'typ', expected type, value or server/,
    ],
    ["dns://db.test?type=A&type=AAAA", /'type' is given more than once/],
    ["dns://db.test?value=", /'value' is empty/],
    [
      "dns://db.test?type=A&value=10.0.0.300",
      /value '10\.0\.0\.300' is not an IPv4 address/,
    ],
    ["dns://db.test?type=AAAA&value=10.0.0.1", /is not an IPv6 address/],
    [
      "dns://db.test?value=db2.test",
      /value 'db2\.test' is not an IP address \(give type= to compare another kind of record\)/,
    ],
    ["dns://db.test?type=CNAME&value=a..b", /is not a DNS name/],
    [
      "dns://db.test?type=SRV&value=db:99999",
      /is not an SRV target, expected TARGET or TARGET:PORT/,
    ],
    [
      "dns://db.test?server=dns.google",
      /invalid server 'dns\.google', expected an IP address with an optional port/,
    ],
    ["dns://db.test?server=10.0.0.2:0", /invalid server/],
    ["dns://db.test?server=10.0.0.2:x", /invalid server/],
  ];
  for (const [url, pattern] of bad) {
    assert.throws(() => parseDnsUrl(url, "WAIT"), (e: unknown) => {
      assert.ok(e instanceof ConfigError, url);
      assert.match(e.message, pattern, url);
      return true;
    });
  }
});

Deno.test("formatRecords gives one text form per record type", () => {
  assert.deepEqual(formatRecords("AAAA", ["fd00:0:0::5"]), ["fd00::5"]);
  assert.deepEqual(formatRecords("CNAME", ["DB.Test."]), ["db.test"]);
  assert.deepEqual(
    formatRecords("SRV", [{
      priority: 1,
      weight: 5,
      port: 5432,
      target: "db.test.",
    }]),
    ["db.test:5432"],
  );
  assert.deepEqual(formatRecords("TXT", [["v=1 ", "ok"], ["x"]]), [
    "v=1 ok",
    "x",
  ]);
});

Deno.test("recordMatches compares addresses canonically, names without case or final dot, SRV with or without port", () => {
  assert.ok(recordMatches(undefined, "fd00::5", "FD00:0::5"));
  assert.ok(recordMatches("A", "10.0.0.5", "10.0.0.5"));
  assert.ok(!recordMatches("A", "10.0.0.5", "10.0.0.50"));
  assert.ok(recordMatches("CNAME", "db.test", "DB.TEST."));
  assert.ok(recordMatches("SRV", "db.test:5432", "db.test"));
  assert.ok(recordMatches("SRV", "db.test:5432", "DB.test.:5432"));
  assert.ok(!recordMatches("SRV", "db.test:5432", "db.test:5433"));
  assert.ok(!recordMatches("SRV", "db.test:5432", "db2.test"));
  assert.ok(recordMatches("TXT", "v=1", "v=1"));
  assert.ok(!recordMatches("TXT", "v=1", "V=1"));
  assert.equal(canonicalAddress("::ffff:10.0.0.1"), "::ffff:a00:1");
});

Deno.test("describeDnsTarget names the name, the record type and the server", () => {
  const d = (url: string) => describeDnsTarget(parseDnsUrl(url, "t"));
  assert.equal(
    d("dns://db.test"),
    "DNS name db.test (address at the system resolver)",
  );
  assert.equal(
    d("dns://db.test?type=SRV&server=[fd00::2]:5353"),
    "DNS name db.test (SRV at [fd00::2]:5353)",
  );
});
