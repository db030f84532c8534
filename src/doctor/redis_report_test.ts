import { infoVersion, queueKeys } from "./redis_report.ts";

function assertEquals<T>(actual: T, expected: T): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`expected ${e}, got ${a}`);
}

Deno.test("queueKeys names a Celery queue's list and its priority lists, as kombu does", () => {
  assertEquals(queueKeys("celery"), [
    "celery",
    "celery\x06\x163",
    "celery\x06\x166",
    "celery\x06\x169",
  ]);
});

Deno.test("infoVersion reads redis_version (or valkey_version) from INFO server", () => {
  const info =
    "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n";
  assertEquals(infoVersion(info), "7.0.15");
  assertEquals(infoVersion("# Server\r\nvalkey_version:8.0.1\r\n"), "8.0.1");
  assertEquals(infoVersion("# Server\r\n"), undefined);
});
