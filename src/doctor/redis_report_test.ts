import assert from "node:assert/strict";
import { infoVersion, queueKeys } from "./redis_report.ts";

Deno.test("queueKeys names a Celery queue's list and its priority lists, as kombu does", () => {
  assert.deepEqual(queueKeys("celery"), [
    "celery",
    "celery\x06\x163",
    "celery\x06\x166",
    "celery\x06\x169",
  ]);
});

Deno.test("infoVersion reads redis_version (or valkey_version) from INFO server", () => {
  const info =
    "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n";
  assert.deepEqual(infoVersion(info), "7.0.15");
  assert.deepEqual(
    infoVersion("# Server\r\nvalkey_version:8.0.1\r\n"),
    "8.0.1",
  );
  assert.deepEqual(infoVersion("# Server\r\n"), undefined);
});
