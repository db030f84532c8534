import assert from "node:assert/strict";
import { bodyFields, isSecretField, maskSecretFields } from "./http_report.ts";

Deno.test("bodyFields lists a health body's fields, nested ones with dots", () => {
  assert.deepEqual(
    bodyFields({
      status: "degraded",
      checks: { database: "ok", redis: "error: refused" },
      revision: null,
      workers: [1, 2],
    }),
    [
      "status=degraded",
      "checks.database=ok",
      "checks.redis=error: refused",
      "revision=null",
      "workers=[2 items]",
    ],
  );
  assert.deepEqual(bodyFields(null), ["body=null"]);
  assert.deepEqual(bodyFields({ a: 1 }, 0), []);
});

Deno.test("isSecretField: password, secret, token, key, api_key, authorization... by word, any case; not keyspace or monkey", () => {
  for (
    const name of [
      "password",
      "DB_PASSWORD",
      "passwd",
      "secret",
      "clientSecret",
      "token",
      "access_token",
      "refreshTokens",
      "key",
      "api_key",
      "apiKey",
      "API-KEY",
      "secret_key",
      "Authorization",
      "auth",
      "credentials",
      "session_cookie",
    ]
  ) assert.ok(isSecretField(name), name);
  for (
    const name of ["status", "keyspace", "monkey", "author", "tokenizer_ok"]
  ) {
    assert.ok(!isSecretField(name), name);
  }
});

Deno.test("maskSecretFields masks at any depth, in arrays too, and URL passwords in strings", () => {
  assert.deepEqual(
    maskSecretFields({
      status: "ok",
      nested: { deeper: { token: "t", list: [{ password: "p", n: 1 }] } },
      dsn: "postgres://u:pw@h/db",
      key: null,
    }),
    {
      status: "ok",
      nested: { deeper: { token: "***", list: [{ password: "***", n: 1 }] } },
      dsn: "postgres://u:***@h/db",
      key: null,
    },
  );
});
