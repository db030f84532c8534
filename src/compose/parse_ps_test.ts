import assert from "node:assert/strict";
import { parseComposePs } from "./parse_ps.ts";

// Field names and values as Compose v2.26 prints them.
const BACKEND =
  '{"Command":"\\"preflight run --\\"","CreatedAt":"2024-05-02 12:21:53 +0400 +04","ExitCode":0,"Health":"healthy","ID":"d2763e024a10","Image":"stack-backend","Name":"stack-backend-1","Names":"stack-backend-1","Project":"stack","Publishers":[{"URL":"127.0.0.1","TargetPort":8000,"PublishedPort":8000,"Protocol":"tcp"}],"Service":"backend","State":"running","Status":"Up 2 minutes (healthy)"}';
const WORKER =
  '{"ExitCode":1,"Health":"","ID":"aa11bb22cc33","Name":"stack-worker-1","Service":"worker","State":"exited","Status":"Exited (1) 5 seconds ago"}';

const EXPECTED = [
  {
    id: "d2763e024a10",
    name: "stack-backend-1",
    service: "backend",
    state: "running",
    health: "healthy",
    status: "Up 2 minutes (healthy)",
    exitCode: 0,
  },
  {
    id: "aa11bb22cc33",
    name: "stack-worker-1",
    service: "worker",
    state: "exited",
    health: "",
    status: "Exited (1) 5 seconds ago",
    exitCode: 1,
  },
];

Deno.test("parseComposePs reads one JSON object per line (Compose 2.21 and later)", () => {
  assert.deepEqual(parseComposePs(`${BACKEND}\n${WORKER}\n`), EXPECTED);
});

Deno.test("parseComposePs reads one JSON array (Compose before 2.21)", () => {
  assert.deepEqual(parseComposePs(`[${BACKEND},${WORKER}]\n`), EXPECTED);
});

Deno.test("parseComposePs reads CRLF line endings (Windows)", () => {
  assert.deepEqual(parseComposePs(`${BACKEND}\r\n${WORKER}\r\n`), EXPECTED);
});

Deno.test("parseComposePs gives no containers for empty output or an empty array", () => {
  assert.deepEqual(parseComposePs(""), []);
  assert.deepEqual(parseComposePs("  \n"), []);
  assert.deepEqual(parseComposePs("[]\n"), []);
});

Deno.test("parseComposePs rejects output that is not JSON, naming the command", () => {
  assert.throws(
    () => parseComposePs("NAME  IMAGE  COMMAND\nstack-backend-1 ..."),
    /docker compose ps --format json/,
  );
});
