import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AmqpProtocolError,
  close,
  closeOk,
  decodeIncoming,
  decodeMethod,
  FRAME_METHOD,
  open,
  PROTOCOL_HEADER,
  startOkPlain,
  tuneOk,
} from "./amqp_frame.ts";

/** Builds a method frame on channel 0 from its class, method and argument bytes. */
function frame(classId: number, methodId: number, args: number[]): Uint8Array {
  const payload = [
    classId >> 8,
    classId & 0xff,
    methodId >> 8,
    methodId & 0xff,
    ...args,
  ];
  const n = payload.length;
  return new Uint8Array([
    FRAME_METHOD,
    0,
    0,
    n >>> 24,
    (n >> 16) & 0xff,
    (n >> 8) & 0xff,
    n & 0xff,
    ...payload,
    0xce,
  ]);
}

const enc = (s: string) => [...new TextEncoder().encode(s)];
const u32 = (
  n: number,
) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const shortStr = (s: string) => [enc(s).length, ...enc(s)];
const longStr = (s: string) => [...u32(enc(s).length), ...enc(s)];
function table(fields: number[][]): number[] {
  const body = fields.flat();
  return [...u32(body.length), ...body];
}

/** A Connection.Start as RabbitMQ sends it, trimmed to a few properties. */
const START = frame(10, 10, [
  0,
  9,
  ...table([
    [...shortStr("product"), 0x53, ...longStr("RabbitMQ")],
    [...shortStr("version"), 0x53, ...longStr("3.10.8")],
    [
      ...shortStr("capabilities"),
      0x46,
      ...table([[...shortStr("publisher_confirms"), 0x74, 1]]),
    ],
    [...shortStr("count"), 0x49, ...u32(7)],
    [...shortStr("list"), 0x41, ...u32(6), 0x53, ...longStr("x")],
    [...shortStr("none"), 0x56],
  ]),
  ...longStr("AMQPLAIN PLAIN"),
  ...longStr("en_US"),
]);

function decodeAll(bytes: Uint8Array) {
  const got = decodeIncoming(bytes);
  assert.ok(got, "a whole frame");
  assert.equal(got.length, bytes.length);
  assert.equal(got.value.kind, "frame");
  if (got.value.kind !== "frame") throw new Error("unreachable");
  return decodeMethod(got.value.payload);
}

Deno.test("decodeMethod reads Connection.Start: version, server properties (nested tables too), mechanisms, locales", () => {
  assert.deepEqual(decodeAll(START), {
    name: "start",
    versionMajor: 0,
    versionMinor: 9,
    serverProperties: {
      product: "RabbitMQ",
      version: "3.10.8",
      capabilities: { publisher_confirms: true },
      count: 7,
      list: ["x"],
      none: null,
    },
    mechanisms: ["AMQPLAIN", "PLAIN"],
    locales: ["en_US"],
  });
});

Deno.test("decodeMethod reads Tune, Open-Ok, Close and Close-Ok", () => {
  assert.deepEqual(
    decodeAll(frame(10, 30, [0x07, 0xff, ...u32(131072), 0, 60])),
    { name: "tune", channelMax: 2047, frameMax: 131072, heartbeat: 60 },
  );
  assert.deepEqual(decodeAll(frame(10, 41, shortStr(""))), { name: "open-ok" });
  assert.deepEqual(
    decodeAll(
      frame(10, 50, [
        0x02,
        0x12,
        ...shortStr("NOT_ALLOWED - vhost x not found"),
        0,
        10,
        0,
        40,
      ]),
    ),
    {
      name: "close",
      replyCode: 530,
      replyText: "NOT_ALLOWED - vhost x not found",
      classId: 10,
      methodId: 40,
    },
  );
  assert.deepEqual(decodeAll(frame(10, 51, [])), { name: "close-ok" });
  assert.deepEqual(decodeAll(frame(20, 11, [])), {
    name: "other",
    classId: 20,
    methodId: 11,
  });
});

Deno.test("the client's frames decode back to what was encoded", () => {
  const startOk = decodeIncoming(
    startOkPlain(
      { product: "preflight", capabilities: { a: true } },
      "app",
      "pw",
    ),
  );
  assert.ok(startOk?.value.kind === "frame");
  // class 10 method 11, then the client-properties table.
  assert.deepEqual([...startOk.value.payload.subarray(0, 4)], [0, 10, 0, 11]);
  const text = new TextDecoder().decode(startOk.value.payload);
  assert.ok(text.includes("PLAIN") && text.includes("\0app\0pw"), text);
  assert.ok(text.includes("en_US"));

  for (
    const [bytes, classMethod] of [
      [tuneOk(2047, 131072, 0), [0, 10, 0, 31]],
      [open("/"), [0, 10, 0, 40]],
      [close(200, "bye"), [0, 10, 0, 50]],
      [closeOk(), [0, 10, 0, 51]],
    ] as const
  ) {
    const got = decodeIncoming(bytes);
    assert.ok(got?.value.kind === "frame");
    assert.equal(got.length, bytes.length);
    assert.deepEqual([...got.value.payload.subarray(0, 4)], classMethod);
  }
  assert.deepEqual(
    [...open("app").subarray(11)],
    [3, ...enc("app"), 0, 0, 0xce],
  );
});

Deno.test("decodeIncoming waits for whole frames and reads a server's protocol header", () => {
  for (let cut = 0; cut < START.length; cut++) {
    assert.equal(decodeIncoming(START.subarray(0, cut)), undefined, `${cut}`);
  }
  assert.equal(decodeIncoming(PROTOCOL_HEADER.subarray(0, 5)), undefined);
  assert.deepEqual(
    decodeIncoming(new Uint8Array([65, 77, 81, 80, 0, 1, 0, 0, 9, 9])),
    { value: { kind: "protocol-header", version: [0, 1, 0, 0] }, length: 8 },
  );
});

Deno.test("decodeIncoming rejects other protocols and broken frames at once", () => {
  const bad: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode("HTTP/1.1 400"), /unexpected frame type 0x48/],
    [new TextEncoder().encode("AMQX"), /unexpected first bytes/],
    [new Uint8Array([1, 0, 0, 0x7f, 0xff, 0xff, 0xff]), /frame of \d+ bytes/],
    [new Uint8Array([1, 0, 0, 0, 0, 0, 1, 9, 0x00]), /frame end 0x00/],
  ];
  for (const [bytes, pattern] of bad) {
    assert.throws(() => decodeIncoming(bytes), (e: unknown) => {
      assert.ok(e instanceof AmqpProtocolError);
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("decodeIncoming and decodeMethod fail only with AmqpProtocolError on any input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        const got = decodeIncoming(bytes);
        if (got?.value.kind === "frame") decodeMethod(got.value.payload);
      } catch (e) {
        assert.ok(e instanceof AmqpProtocolError, String(e));
      }
    }),
  );
  // Connection methods with random arguments reach the field decoders.
  fc.assert(
    fc.property(
      fc.constantFrom(10, 20, 30, 41, 50, 51, 60),
      fc.uint8Array({ maxLength: 120 }),
      (method, args) => {
        try {
          decodeMethod(new Uint8Array([0, 10, 0, method, ...args]));
        } catch (e) {
          assert.ok(e instanceof AmqpProtocolError, String(e));
        }
      },
    ),
  );
});
