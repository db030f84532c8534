/**
 * Unit tests of the PostgreSQL check's pure parts: the startup packet, the
 * parsing of the first reply, pg_isready's verdict on errors and the
 * classification of login errors. The check itself is tested against real
 * servers in tests/postgres_check_test.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { NotReadyError, PermanentError } from "./check.ts";
import {
  errorVerdict,
  parseFirstReply,
  startupMessage,
} from "./postgres_ping.ts";
import { classifyLoginError } from "./postgres_errors.ts";
import { connectError } from "./connect.ts";
import { sslModeOf } from "./postgres_options.ts";
import { parsePostgresUrl as parseTarget } from "./postgres_url.ts";

const WHERE = "db:5432";

function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setUint32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

function errorResponse(fields: Record<string, string>): Uint8Array {
  const text = Object.entries(fields).map(([k, v]) => `${k}${v}\0`).join("") +
    "\0";
  return message("E", new TextEncoder().encode(text));
}

function pgError(code: string, msg: string): Error {
  return Object.assign(new Error(msg), { name: "PostgresError", code });
}

Deno.test("startupMessage encodes protocol 3.0 and the parameters", () => {
  const bytes = startupMessage({ user: "u", database: "d" });
  const view = new DataView(bytes.buffer);
  assert.equal(view.getInt32(0), bytes.length);
  assert.equal(view.getInt32(4), 196608);
  assert.equal(
    new TextDecoder().decode(bytes.subarray(8)),
    "user\0u\0database\0d\0\0",
  );
});

Deno.test("parseFirstReply waits for a whole message", () => {
  const auth = message("R", new Uint8Array([0, 0, 0, 10, 1, 2]));
  for (let n = 0; n < auth.length; n++) {
    assert.deepEqual(parseFirstReply(auth.subarray(0, n)), {
      kind: "partial",
    });
  }
  assert.deepEqual(parseFirstReply(auth), {
    kind: "auth",
    code: 10,
    length: auth.length,
  });
});

Deno.test("parseFirstReply reads the fields of an ErrorResponse", () => {
  const bytes = errorResponse({
    S: "FATAL",
    C: "57P03",
    M: "the database system is starting up",
  });
  const reply = parseFirstReply(bytes);
  assert.equal(reply.kind, "error");
  assert.deepEqual(reply.kind === "error" && reply.fields, {
    S: "FATAL",
    C: "57P03",
    M: "the database system is starting up",
  });
});

Deno.test("parseFirstReply rejects what is not PostgreSQL at once", () => {
  for (
    const text of ["HTTP/1.1 400", "-ERR unknown", "SSH-2.0", "\xff\x00"]
  ) {
    const reply = parseFirstReply(new TextEncoder().encode(text));
    assert.equal(reply.kind, "garbage", text);
  }
  // A plausible type byte with an absurd length is garbage too.
  const huge = new Uint8Array([0x45, 0x46, 0x41, 0x54, 0x41]);
  assert.equal(parseFirstReply(huge).kind, "garbage");
  const short = new Uint8Array([0x52, 0, 0, 0, 4]);
  assert.equal(parseFirstReply(short).kind, "garbage");
});

Deno.test("parseFirstReply never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const reply = parseFirstReply(bytes);
      assert.ok(
        ["partial", "auth", "error", "skip", "garbage"].includes(reply.kind),
      );
    }),
  );
});

Deno.test("errorVerdict: 57P03 is not ready, other SQLSTATEs mean up", () => {
  const starting = errorVerdict({
    C: "57P03",
    M: "the database system is starting up",
  }, WHERE);
  assert.ok(starting instanceof NotReadyError);
  assert.match(starting.message, /starting up \(57P03\)/);
  for (const code of ["28P01", "28000", "3D000", "53300", "XX000"]) {
    assert.equal(errorVerdict({ C: code, M: "x" }, WHERE), "ready", code);
  }
  // No SQLSTATE: libpq's PQPING_NO_RESPONSE.
  assert.ok(errorVerdict({ M: "odd" }, WHERE) instanceof NotReadyError);
});

Deno.test("errorVerdict includes the server's detail", () => {
  const v = errorVerdict({
    C: "57P03",
    M: "the database system is not accepting connections",
    D: "Hot standby mode is disabled.",
  }, WHERE);
  assert.ok(v instanceof NotReadyError);
  assert.equal(
    v.message,
    "db:5432 answered: the database system is not accepting connections. Hot standby mode is disabled (57P03)",
  );
});

Deno.test("classifyLoginError: credentials and databases are permanent", () => {
  for (const code of ["28P01", "28000", "3D000", "42501"]) {
    const e = classifyLoginError(pgError(code, "nope"), WHERE);
    assert.ok(e instanceof PermanentError, code);
    assert.equal(e.message, `${WHERE} rejected the login: nope (${code})`);
  }
});

Deno.test("classifyLoginError: starting up and too many clients are transient", () => {
  for (const code of ["57P03", "53300", "08006"]) {
    const e = classifyLoginError(pgError(code, "later"), WHERE);
    assert.ok(e instanceof NotReadyError, code);
  }
});

Deno.test("classifyLoginError: network errors are transient, certificates permanent", () => {
  const net = (code: string) =>
    Object.assign(new Error(`connect ${code}`), { code });
  for (
    const code of [
      "ECONNREFUSED",
      "ECONNRESET",
      "ETIMEDOUT",
      "ENOTFOUND",
      "EAI_AGAIN",
      "CONNECTION_CLOSED",
      "CONNECT_TIMEOUT",
    ]
  ) {
    assert.ok(classifyLoginError(net(code), WHERE) instanceof NotReadyError);
  }
  for (
    const code of ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED"]
  ) {
    const e = classifyLoginError(net(code), WHERE);
    assert.ok(e instanceof PermanentError, code);
    assert.match(e.message, /^TLS certificate error from db:5432/);
  }
  assert.ok(
    classifyLoginError(new Error("who knows"), WHERE) instanceof NotReadyError,
  );
});

Deno.test("sslModeOf defaults to prefer and upgrades require with a CA to verify-ca", () => {
  const ca = Deno.makeTempFileSync({ suffix: ".crt" });
  try {
    const mode = (q: string) =>
      sslModeOf(parseTarget(`postgres://u@h:5432/d${q}`, "test"));
    assert.equal(mode(""), "prefer");
    assert.equal(mode("?sslmode=disable"), "disable");
    assert.equal(mode("?sslmode=require"), "require");
    assert.equal(mode(`?sslmode=require&sslrootcert=${ca}`), "verify-ca");
    assert.equal(mode("?sslmode=verify-full"), "verify-full");
  } finally {
    Deno.removeSync(ca);
  }
});

Deno.test("classified errors keep the original as their cause: server errors, client codes and socket failures", () => {
  const server = pgError("28P01", "password authentication failed");
  const closed = Object.assign(new Error("closed"), {
    code: "CONNECTION_CLOSED",
  });
  const refused = Object.assign(new Error("connect ECONNREFUSED"), {
    code: "ECONNREFUSED",
  });
  const odd = new Error("who knows");
  for (const original of [server, closed, refused, odd]) {
    assert.equal(classifyLoginError(original, WHERE).cause, original);
  }
  // Deno's own socket errors, as the protocol checks see them.
  const reset = new Deno.errors.ConnectionReset("reset");
  assert.equal(connectError(reset, WHERE).cause, reset);
  assert.match(connectError(reset, WHERE).message, /^connection reset by db/);
});
