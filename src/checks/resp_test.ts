import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeCommand,
  RespErrorReply,
  RespParser,
  RespProtocolError,
  type RespValue,
} from "./resp.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Test-side encoder of any reply, to check the parser against. */
function encodeValue(v: RespValue): string {
  if (v === null) return "$-1\r\n";
  if (typeof v === "number") return `:${v}\r\n`;
  if (typeof v === "string") return `$${enc.encode(v).length}\r\n${v}\r\n`;
  return `-${v.message}\r\n`;
}

/** Parses every complete reply in `bytes`, fed in the given chunk sizes (cycled). */
function parseChunked(bytes: Uint8Array, sizes: number[] = [1]): RespValue[] {
  const p = new RespParser();
  const out: RespValue[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]);
    p.feed(bytes.subarray(at, at + size));
    at += size;
    for (let v = p.next(); v !== undefined; v = p.next()) out.push(v);
  }
  assert.equal(p.pending, false, "bytes left over");
  return out;
}

function parseOne(text: string, sizes?: number[]): RespValue {
  const all = parseChunked(enc.encode(text), sizes);
  assert.equal(all.length, 1);
  return all[0];
}

/** Compares replies, error replies by message. */
function normal(v: RespValue): unknown {
  if (v instanceof RespErrorReply) return { error: v.message };
  return v;
}

Deno.test("resp parser decodes simple strings, errors and integers", () => {
  assert.equal(parseOne("+PONG\r\n"), "PONG");
  assert.equal(parseOne(":42\r\n"), 42);
  assert.equal(parseOne(":-7\r\n"), -7);
  const err = parseOne("-LOADING Redis is loading the dataset in memory\r\n");
  assert.ok(err instanceof RespErrorReply);
  assert.equal(err.code, "LOADING");
  assert.equal(err.message, "LOADING Redis is loading the dataset in memory");
});

Deno.test("resp parser decodes bulk strings, including empty, null and CRLF inside", () => {
  assert.equal(parseOne("$5\r\nhello\r\n"), "hello");
  assert.equal(parseOne("$0\r\n\r\n"), "");
  assert.equal(parseOne("$-1\r\n"), null);
  assert.equal(parseOne("$4\r\na\r\nb\r\n"), "a\r\nb");
  assert.equal(parseOne("$4\r\n\u00e9\u00e9\r\n"), "\u00e9\u00e9");
});

Deno.test("resp parser refuses an array reply, which none of the commands sent returns", () => {
  for (const text of ["*1\r\n:1\r\n", "*-1\r\n", "*0\r\n"]) {
    const p = new RespParser();
    p.feed(enc.encode(text));
    assertThrowsProtocol(() => p.next(), /an array reply/);
  }
});

Deno.test("resp parser handles a reply arriving one byte at a time", () => {
  const info = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n";
  const text = `+OK\r\n$${info.length}\r\n${info}\r\n:12\r\n` +
    `-WRONGPASS invalid username-password pair\r\n`;
  const p = new RespParser();
  const got: RespValue[] = [];
  for (const byte of enc.encode(text)) {
    p.feed(new Uint8Array([byte]));
    for (let v = p.next(); v !== undefined; v = p.next()) got.push(v);
  }
  assert.deepEqual(got.map(normal), [
    "OK",
    info,
    12,
    { error: "WRONGPASS invalid username-password pair" },
  ]);
  assert.equal(p.pending, false);
});

Deno.test("resp parser returns nothing until a reply is complete", () => {
  const p = new RespParser();
  p.feed(enc.encode("$5\r\nhel"));
  assert.equal(p.next(), undefined);
  assert.equal(p.pending, true);
  p.feed(enc.encode("lo\r"));
  assert.equal(p.next(), undefined);
  p.feed(enc.encode("\n:1"));
  assert.equal(p.next(), "hello");
  assert.equal(p.next(), undefined);
  p.feed(enc.encode("2\r\n"));
  assert.equal(p.next(), 12);
});

const valueArb: fc.Arbitrary<RespValue> = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.integer(),
  fc.constant(null),
  fc.stringMatching(/^[A-Z]+ [ -~]{0,20}$/).map((m) => new RespErrorReply(m)),
);

Deno.test("resp parser gives the same replies however the bytes are split", () => {
  fc.assert(
    fc.property(
      fc.array(valueArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
      (values, sizes) => {
        const bytes = enc.encode(values.map(encodeValue).join(""));
        assert.deepEqual(
          parseChunked(bytes, sizes).map(normal),
          values.map(normal),
        );
      },
    ),
  );
});

Deno.test("resp parser rejects bytes that are not RESP", () => {
  const bad = (text: string, re: RegExp) => {
    const p = new RespParser();
    p.feed(enc.encode(text));
    assertThrowsProtocol(() => p.next(), re);
  };
  bad("HTTP/1.1 400 Bad Request\r\n", /invalid reply type byte 0x48 'H'/);
  bad("\x00\x01\r\n", /invalid reply type byte 0x00/);
  bad(":12a\r\n", /invalid integer/);
  bad("$-2\r\n", /invalid bulk string length/);
  bad("$3\r\nabcd\r\n", /not terminated by CRLF/);
  bad("+OK\nxx", /LF without CR/);
  bad("+OK\rx", /CR not followed by LF/);
});

Deno.test("resp parser rejects a bad type byte without waiting for a line end", () => {
  const p = new RespParser();
  p.feed(new Uint8Array([0xff]));
  assertThrowsProtocol(() => p.next(), /invalid reply type byte 0xff/);
});

Deno.test("resp parser enforces its size limits", () => {
  const p = new RespParser({ maxLine: 8, maxBulk: 4 });
  p.feed(enc.encode("+0123456789"));
  assertThrowsProtocol(() => p.next(), /line longer than 8 bytes/);
  const q = new RespParser({ maxBulk: 4 });
  q.feed(enc.encode("$5\r\n"));
  assertThrowsProtocol(() => q.next(), /exceeds the limit 4/);
});

Deno.test("resp parser waits for a line shorter than the limit without failing", () => {
  const p = new RespParser({ maxLine: 8 });
  p.feed(enc.encode("+01234567"));
  assert.equal(p.next(), undefined);
  p.feed(enc.encode("\r\n"));
  assert.equal(p.next(), "01234567");
});

Deno.test("encodeCommand writes an array of bulk strings with byte lengths", () => {
  assert.equal(
    dec.decode(encodeCommand(["AUTH", "\u00e9t\u00e9", 3])),
    "*3\r\n$4\r\nAUTH\r\n$5\r\n\u00e9t\u00e9\r\n$1\r\n3\r\n",
  );
});

function assertThrowsProtocol(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RespProtocolError, `not a protocol error: ${e}`);
    assert.match(e.message, re);
    return true;
  });
}
