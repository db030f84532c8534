import assert from "node:assert/strict";
import { kind as http } from "./http.ts";
import { httpGet, httpRequest, parseHead } from "./http_get.ts";

const text = (url: string) =>
  new TextDecoder().decode(httpRequest(http.parse(url, "test")));

Deno.test("the request names the path and query, the Host with a non-default port, and closes the connection", () => {
  assert.equal(
    text("http://api:8000/health?deep=1"),
    "GET /health?deep=1 HTTP/1.1\r\nHost: api:8000\r\nUser-Agent: preflight\r\nAccept: */*\r\nConnection: close\r\n\r\n",
  );
  assert.match(text("https://api/health"), /\r\nHost: api\r\n/);
  assert.match(
    text("http://[::1]:81/"),
    /^GET \/ HTTP\/1\.1\r\nHost: \[::1\]:81\r\n/,
  );
  assert.match(text("http://api"), /^GET \/ HTTP\/1\.1\r\n/);
});

Deno.test("a user in the URL becomes Basic authentication", () => {
  assert.match(
    text("http://ops:s%3Acret@api/health"),
    /\r\nAuthorization: Basic b3BzOnM6Y3JldA==\r\n/,
  );
});

Deno.test("parseHead reads the status and headers, waits for a whole status line, and rejects what is not HTTP", () => {
  assert.equal(parseHead("HTTP/1.1 2"), undefined);
  const head = parseHead(
    "HTTP/1.1 301 Moved\r\nLocation: /elsewhere\r\nX-A:  b \r\n\r\n",
  );
  assert.ok(head && head !== "not-http");
  assert.equal(head.status, 301);
  assert.equal(head.headers.get("location"), "/elsewhere");
  assert.equal(head.headers.get("x-a"), "b");
  assert.equal(
    (parseHead("HTTP/1.0 204\r\n") as { status: number }).status,
    204,
  );
  assert.equal(parseHead("SSH-2.0-OpenSSH\r\n"), "not-http");
  assert.equal(
    parseHead("\u0015\u0003\u0001\u0000\u0002\u0002\u0050garbage"),
    "not-http",
  );
});

Deno.test("a peer's broken UTF-8 does not leak into the next check's response", async () => {
  const { startFaultServer } = await import("../../tests/_servers.ts");
  await using garbage = startFaultServer("garbage");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  try {
    const check = (url: string) =>
      http.check(http.parse(url, "test"), {}).check(AbortSignal.timeout(3000));
    await assert.rejects(check(`http://127.0.0.1:${garbage.port}/`));
    await check(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("httpGet reads a body up to the limit, whether sized or chunked", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      if (new URL(req.url).pathname === "/chunked") {
        const enc = new TextEncoder();
        // A stream without a length: Deno sends it chunked.
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(enc.encode('{"status":'));
              c.enqueue(enc.encode('"ok"}'));
              c.close();
            },
          }),
          { headers: { "content-type": "application/json" } },
        );
      }
      return Response.json({ status: "ok", database: "ok" });
    },
  );
  try {
    const get = (path: string, max: number) =>
      httpGet(
        http.parse(`http://127.0.0.1:${server.addr.port}${path}`, "test"),
        AbortSignal.timeout(3000),
        max,
      );
    const dec = (b: Uint8Array) => new TextDecoder().decode(b);
    const sized = await get("/health", 65536);
    assert.equal(sized.status, 200);
    assert.deepEqual(JSON.parse(dec(sized.body)), {
      status: "ok",
      database: "ok",
    });
    const chunked = await get("/chunked", 65536);
    assert.match(chunked.headers.get("transfer-encoding") ?? "", /chunked/);
    assert.deepEqual(JSON.parse(dec(chunked.body)), { status: "ok" });
    assert.equal(dec((await get("/health", 5)).body), '{"sta');
    assert.equal((await get("/health", 0)).body.length, 0);
  } finally {
    await server.shutdown();
  }
});
