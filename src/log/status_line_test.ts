import assert from "node:assert/strict";
import { createStatusLine } from "./status_line.ts";
import { registerSecret } from "../redact.ts";

Deno.test("the live status line masks secrets, registered ones and URL passwords, before it cuts the line", () => {
  const secret = "status-Secret-3e9d";
  registerSecret(secret);
  let out = "";
  const line = createStatusLine({
    enabled: true,
    write: (t) => (out += t),
    columns: 200,
  });
  line.show(`waiting for tcp://${secret}:5432: refused`);
  line.show("waiting for postgres://app:pw-in-url@db/app: refused");
  // Cut in the middle of a secret: still masked.
  const narrow = createStatusLine({
    enabled: true,
    write: (t) => (out += t),
    columns: 30,
  });
  narrow.show(`waiting for tcp://x:1 ${secret}`);
  assert.ok(!out.includes(secret), out);
  assert.ok(!out.includes("status-Sec"), out);
  assert.ok(!out.includes("pw-in-url"), out);
  assert.match(out, /tcp:\/\/\*\*\*:5432/);
});
