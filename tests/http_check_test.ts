/**
 * The HTTP check against in-process `Deno.serve` servers on free loopback
 * ports (plain, TLS, IPv6) and against fault servers.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as http } from "../src/checks/http.ts";
import { httpGet } from "../src/checks/http_get.ts";
import { createCheck, parseTarget } from "../src/checks/mod.ts";
import { createTlsFiles } from "./_redis.ts";
import { closedPort, hasIpv6Loopback, startFaultServer } from "./_servers.ts";

const PASSWORD = "http-Secret-pw";

async function attempt(
  url: string,
  httpStatus?: number[],
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  const check = http.check(http.parse(url, "test"), { httpStatus });
  try {
    await check.check(AbortSignal.timeout(timeoutMs));
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

function assertNotReady(e: Error | undefined, re?: RegExp): void {
  assert.ok(e instanceof NotReadyError, `expected NotReadyError, got ${e}`);
  if (re) assert.match(e.message, re);
  assert.ok(!e.message.includes(PASSWORD), `password leaked: ${e.message}`);
}

/** A server answering each path with the status in the path (`/503` gives 503; `/` gives 200). */
function serve(opts: { hostname?: string; cert?: string; key?: string } = {}) {
  const paths: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...opts },
    (req) => {
      const path = new URL(req.url).pathname;
      paths.push(path);
      if (path === "/endless") {
        // A body that never ends: the check must not read it to the end.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            return new Promise((resolve) => {
              timer = setTimeout(() => {
                c.enqueue(new Uint8Array(1024));
                resolve();
              }, 5);
            });
          },
          cancel() {
            clearTimeout(timer);
          },
        });
        return new Response(body);
      }
      const status = Number(path.slice(1)) || 200;
      const headers = status >= 300 && status < 400
        ? { location: "/elsewhere" }
        : undefined;
      return new Response(status === 204 ? null : `status ${status}`, {
        status,
        headers,
      });
    },
  );
  return {
    port: server.addr.port,
    paths,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("http check is ready on a 2xx answer", async () => {
  await using srv = serve();
  assert.equal(await attempt(`http://127.0.0.1:${srv.port}/health`), undefined);
  assert.equal(await attempt(`http://127.0.0.1:${srv.port}/204`), undefined);
  assert.equal(await attempt(`http://localhost:${srv.port}/299`), undefined);
  assert.deepEqual(srv.paths, ["/health", "/204", "/299"]);
});

Deno.test("http check reports a 503 as not ready, naming the status and the redacted URL", async () => {
  await using srv = serve();
  const e = await attempt(`http://app:${PASSWORD}@127.0.0.1:${srv.port}/503`);
  assertNotReady(e);
  assert.equal(
    e!.message,
    `HTTP 503 from http://app:***@127.0.0.1:${srv.port}/503`,
  );
  assertNotReady(await attempt(`http://127.0.0.1:${srv.port}/404`), /HTTP 404/);
});

Deno.test("http check counts exactly the statuses given by --http-status as ready", async () => {
  await using srv = serve();
  assert.equal(
    await attempt(`http://127.0.0.1:${srv.port}/503`, [503]),
    undefined,
  );
  assert.equal(
    await attempt(`http://127.0.0.1:${srv.port}/200`, [200, 503]),
    undefined,
  );
  // The list replaces the default "any 2xx".
  assertNotReady(
    await attempt(`http://127.0.0.1:${srv.port}/204`, [200]),
    /HTTP 204/,
  );
});

Deno.test("http check does not follow a redirect: a 3xx is not ready unless listed", async () => {
  await using srv = serve();
  assertNotReady(
    await attempt(`http://127.0.0.1:${srv.port}/301`),
    /^HTTP 301 from .*\/301 \(redirect to '\/elsewhere', not followed\)$/,
  );
  assert.equal(
    await attempt(`http://127.0.0.1:${srv.port}/307`, [200, 307]),
    undefined,
  );
  assert.deepEqual(srv.paths, ["/301", "/307"], "the redirect was followed");
});

Deno.test("http check does not wait for the end of the body", async () => {
  await using srv = serve();
  assert.equal(
    await attempt(`http://127.0.0.1:${srv.port}/endless`),
    undefined,
  );
});

Deno.test("http check reports a refused connection as not ready, without the password", async () => {
  assertNotReady(
    await attempt(`http://u:${PASSWORD}@127.0.0.1:${closedPort()}/health`),
    /^connection refused by 127\.0\.0\.1:\d+$/,
  );
});

Deno.test("http check reports a host that does not resolve as not ready", async () => {
  assertNotReady(
    await attempt(`http://preflight-test.invalid:8000/health`),
    /preflight-test\.invalid/,
  );
});

Deno.test("http check reports a silent server as not ready when the signal times out", async () => {
  await using fault = startFaultServer("silent");
  const started = Date.now();
  assertNotReady(
    await attempt(`http://127.0.0.1:${fault.port}/`, undefined, 500),
    /no HTTP response from 127\.0\.0\.1:\d+ \(timed out\)/,
  );
  assert.ok(Date.now() - started < 10_000);
});

for (const kind of ["accept-close", "garbage"] as const) {
  Deno.test(`http check reports a ${kind} server as not ready`, async () => {
    await using fault = startFaultServer(kind);
    assertNotReady(
      await attempt(`http://u:${PASSWORD}@127.0.0.1:${fault.port}/`),
      /127\.0\.0\.1/,
    );
    assert.ok(fault.accepted >= 1);
  });
}

async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "30",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

Deno.test("https check reports a self-signed certificate as permanent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "preflight-http-" });
  try {
    await using srv = serve(await selfSigned(dir));
    const e = await attempt(`https://u:${PASSWORD}@127.0.0.1:${srv.port}/`);
    assert.ok(e instanceof PermanentError, `expected PermanentError, got ${e}`);
    assert.match(
      e.message,
      /^TLS certificate error from 127\.0\.0\.1:\d+: .+/,
    );
    assert.ok(!e.message.includes(PASSWORD));
    assert.deepEqual(srv.paths, [], "a request went through");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("https check is ready against a server whose CA is trusted (--cert)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "preflight-http-" });
  try {
    const tls = await createTlsFiles(dir);
    await using srv = serve({
      cert: await Deno.readTextFile(tls.certFile),
      key: await Deno.readTextFile(tls.keyFile),
    });
    // Trust is process-wide in Deno (--cert / DENO_CERT), so the check runs
    // in a child process that trusts the test CA.
    const script = `
      import { kind as http } from ${
      JSON.stringify(new URL("../src/checks/http.ts", import.meta.url).href)
    };
      for (const url of Deno.args) {
        try {
          await http.check(http.parse(url, "t"), {}).check(AbortSignal.timeout(10000));
          console.log("ready");
        } catch (e) { console.log(e.name + ": " + e.message); }
      }`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-check",
        "--cert",
        tls.caFile,
        script,
        `https://127.0.0.1:${srv.port}/`,
        `https://localhost:${srv.port}/503`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.deepEqual(
      text,
      [
        "ready",
        `NotReadyError: HTTP 503 from https://localhost:${srv.port}/503`,
      ],
      new TextDecoder().decode(out.stderr),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "http check reaches an IPv6 literal",
  ignore: !hasIpv6Loopback(),
  async fn() {
    await using srv = serve({ hostname: "::1" });
    assert.equal(await attempt(`http://[::1]:${srv.port}/health`), undefined);
    assertNotReady(
      await attempt(`http://[::1]:${srv.port}/503`),
      new RegExp(`^HTTP 503 from http://\\[::1\\]:${srv.port}/503$`),
    );
    assertNotReady(
      await attempt(`http://[::1]:${closedPort()}/`),
      /^connection refused by \[::1\]:\d+$/,
    );
  },
});

Deno.test("http check is built by the registry for http and https URLs", async () => {
  await using srv = serve();
  const check = await createCheck(
    await parseTarget(`http://127.0.0.1:${srv.port}/503`, "test"),
    { httpStatus: [503] },
  );
  assert.equal(check.id, `http://127.0.0.1:${srv.port}/503`);
  await check.check(AbortSignal.timeout(10_000));
});

/**
 * A scripted HTTP peer: reads the request, then writes each part as its own
 * TCP write (waiting for the previous one to be sent), then closes.
 */
function scriptedPeer(parts: string[]): { port: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const conn of listener) {
      const t = (async () => {
        try {
          await conn.read(new Uint8Array(4096));
          for (const p of parts) await conn.write(new TextEncoder().encode(p));
        } catch {
          /* the client went away */
        } finally {
          conn.close();
        }
      })();
      tasks.add(t);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      await Promise.all(tasks);
    },
  };
}

Deno.test("http check skips interim 1xx responses (103 Early Hints, 100 Continue): the final status decides", async () => {
  const early =
    "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n";
  const cont = "HTTP/1.1 100 Continue\r\n\r\n";
  const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
  // In one write, and in separate writes (the final head arrives later).
  for (const parts of [[early + ok], [early, ok], [cont, early, ok]]) {
    await using peer = scriptedPeer(parts);
    assert.equal(
      await attempt(`http://127.0.0.1:${peer.port}/health`),
      undefined,
      JSON.stringify(parts),
    );
  }
  {
    await using peer = scriptedPeer([early, busy]);
    assertNotReady(
      await attempt(`http://127.0.0.1:${peer.port}/health`),
      /HTTP 503/,
    );
  }
  {
    // Only an interim answer, then the connection closes: no final status.
    await using peer = scriptedPeer([early]);
    assertNotReady(
      await attempt(`http://127.0.0.1:${peer.port}/health`),
      /closed .* before (a final|an) HTTP response/,
    );
  }
  {
    // --http-status cannot make an interim answer count.
    await using peer = scriptedPeer([early, busy]);
    assertNotReady(
      await attempt(`http://127.0.0.1:${peer.port}/health`, [103]),
      /HTTP 503/,
    );
  }
});

Deno.test("httpGet reads the final response's body after an interim 103, as doctor uses it", async () => {
  await using peer = scriptedPeer([
    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"ok"}',
  ]);
  const res = await httpGet(
    http.parse(`http://127.0.0.1:${peer.port}/health`, "test"),
    AbortSignal.timeout(10_000),
    1024,
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(new TextDecoder().decode(res.body), '{"status":"ok"}');
});
