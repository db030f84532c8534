import assert from "node:assert/strict";
import fc from "fast-check";
import { NotReadyError } from "./check.ts";
import {
  CAPABILITY_SSL,
  decodeGreetingPacket,
  type Greeting,
  greetingVerdict,
  MysqlProtocolError,
  parseGreeting,
  serverProduct,
} from "./mysql_packet.ts";

/** A MariaDB 10.11 greeting as captured from the server (the scramble changed). */
const MARIADB_GREETING = new Uint8Array([
  0x64,
  0,
  0,
  0, // payload length 100, sequence 0
  10,
  ...new TextEncoder().encode("5.5.5-10.11.19-MariaDB-0+deb12u1"),
  0,
  5,
  0,
  0,
  0, // connection id 5
  ...new TextEncoder().encode('v"AaEu@|'),
  0,
  0xfe,
  0xf7, // capabilities, low
  0x08, // charset
  0x02,
  0x00, // status
  0xff,
  0x81, // capabilities, high
  0x15, // auth data length 21
  0,
  0,
  0,
  0,
  0,
  0,
  0x1d,
  0,
  0,
  0, // reserved, MariaDB capabilities
  ...new TextEncoder().encode("o;t[J>:F0\\bV"),
  0,
  ...new TextEncoder().encode("mysql_native_password"),
  0,
]);

/** An ERR packet as a server sends it in place of the handshake. */
function errPacket(
  code: number,
  message: string,
  sqlState?: string,
): Uint8Array {
  const text = new TextEncoder().encode(
    (sqlState ? `#${sqlState}` : "") + message,
  );
  const payload = new Uint8Array([0xff, code & 0xff, code >> 8, ...text]);
  return new Uint8Array([payload.length, 0, 0, 0, ...payload]);
}

function greetingOf(bytes: Uint8Array): Greeting {
  const packet = decodeGreetingPacket(bytes);
  assert.ok(packet, "a whole packet");
  assert.equal(packet.length, bytes.length);
  return parseGreeting(packet.value.payload);
}

Deno.test("parseGreeting reads a MariaDB handshake: version, connection id, capabilities, auth plugin", () => {
  const g = greetingOf(MARIADB_GREETING);
  assert.equal(g.kind, "handshake");
  if (g.kind !== "handshake") return;
  assert.equal(g.protocol, 10);
  assert.equal(g.serverVersion, "5.5.5-10.11.19-MariaDB-0+deb12u1");
  assert.equal(g.connectionId, 5);
  assert.equal(g.authPlugin, "mysql_native_password");
  // Debian's server without certificates does not offer TLS.
  assert.equal(g.capabilities & CAPABILITY_SSL, 0, "no CLIENT_SSL");
  assert.equal(g.capabilities, 0x81fff7fe);
});

Deno.test("parseGreeting reads error packets with and without a SQLSTATE", () => {
  assert.deepEqual(greetingOf(errPacket(1040, "Too many connections")), {
    kind: "error",
    code: 1040,
    sqlState: undefined,
    message: "Too many connections",
  });
  assert.deepEqual(
    greetingOf(errPacket(1130, "Host '10.0.0.9' is not allowed", "HY000")),
    {
      kind: "error",
      code: 1130,
      sqlState: "HY000",
      message: "Host '10.0.0.9' is not allowed",
    },
  );
});

Deno.test("decodeGreetingPacket waits for the whole packet, however the bytes arrive", () => {
  for (let cut = 0; cut < MARIADB_GREETING.length; cut++) {
    assert.equal(
      decodeGreetingPacket(MARIADB_GREETING.subarray(0, cut)),
      undefined,
      `${cut} bytes`,
    );
  }
  // Bytes after the packet are left for the next read.
  const more = new Uint8Array([...MARIADB_GREETING, 1, 2, 3]);
  assert.equal(decodeGreetingPacket(more)?.length, MARIADB_GREETING.length);
});

Deno.test("decodeGreetingPacket rejects other protocols from their first bytes", () => {
  const enc = new TextEncoder();
  for (
    const text of [
      "SSH-2.0-OpenSSH_9.2\r\n",
      "HTTP/1.1 400 Bad Request\r\n",
      "-ERR unknown command\r\n",
      "220 mail ESMTP\r\n",
    ]
  ) {
    assert.throws(
      () => decodeGreetingPacket(enc.encode(text)),
      MysqlProtocolError,
      text,
    );
  }
  // A plausible length but a first payload byte no greeting starts with.
  assert.throws(
    () => decodeGreetingPacket(new Uint8Array([20, 0, 0, 0, 0x41])),
    /unexpected first byte 0x41/,
  );
  assert.throws(
    () => decodeGreetingPacket(new Uint8Array([0, 0, 0, 0])),
    /packet length 0/,
  );
});

Deno.test("decodeGreetingPacket and parseGreeting fail only with MysqlProtocolError on any input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        const packet = decodeGreetingPacket(bytes);
        if (packet) parseGreeting(packet.value.payload);
      } catch (e) {
        assert.ok(e instanceof MysqlProtocolError, String(e));
      }
    }),
  );
  // Valid headers over random payloads reach the parser's bounds checks.
  fc.assert(
    fc.property(
      fc.constantFrom(9, 10),
      fc.uint8Array({ maxLength: 120 }),
      (protocol, rest) => {
        try {
          parseGreeting(new Uint8Array([protocol, ...rest]));
        } catch (e) {
          assert.ok(e instanceof MysqlProtocolError, String(e));
        }
      },
    ),
  );
});

Deno.test("greetingVerdict follows pg_isready: up unless the server says it cannot take connections now", () => {
  const where = "db:3306";
  const handshake = greetingOf(MARIADB_GREETING);
  assert.equal(greetingVerdict(handshake, where), "ready");
  // The PostgreSQL equivalents (53300 too many clients, 28000 pg_hba) are PQPING_OK.
  for (const code of [1040, 1129, 1130, 1045]) {
    assert.equal(
      greetingVerdict(greetingOf(errPacket(code, "whatever")), where),
      "ready",
      String(code),
    );
  }
  // The equivalents of 57P03 are PQPING_REJECT: not ready.
  for (const code of [1053, 3032]) {
    const v = greetingVerdict(
      greetingOf(errPacket(code, "Server shutdown in progress.")),
      where,
    );
    assert.ok(v instanceof NotReadyError, String(code));
    assert.match(
      v.message,
      new RegExp(
        `^db:3306 answered: Server shutdown in progress \\(${code} ER_`,
      ),
    );
  }
});

Deno.test("serverProduct tells MariaDB from MySQL and drops MariaDB's 5.5.5- prefix", () => {
  assert.deepEqual(serverProduct("5.5.5-10.11.19-MariaDB-0+deb12u1"), {
    product: "MariaDB",
    version: "10.11.19",
  });
  assert.deepEqual(serverProduct("11.4.2-MariaDB-ubu2404"), {
    product: "MariaDB",
    version: "11.4.2",
  });
  assert.deepEqual(serverProduct("8.0.36"), {
    product: "MySQL",
    version: "8.0.36",
  });
  assert.deepEqual(serverProduct("8.4.0-commercial"), {
    product: "MySQL",
    version: "8.4.0",
  });
});
