import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "./check.ts";
import { classifyMysqlError } from "./mysql_login.ts";

/** An error shaped as mysql2 reports a server error. */
function serverError(errno: number, code: string, message: string) {
  return Object.assign(new Error(message), { errno, code, sqlState: "HY000" });
}

Deno.test("classifyMysqlError: credentials, account rules and unknown database are permanent, with the server's words", () => {
  const cases: [number, string, string][] = [
    [
      1045,
      "ER_ACCESS_DENIED_ERROR",
      "Access denied for user 'app'@'10.0.0.9' (using password: YES)",
    ],
    [1049, "ER_BAD_DB_ERROR", "Unknown database 'shop'"],
    [
      1044,
      "ER_DBACCESS_DENIED_ERROR",
      "Access denied for user 'app'@'%' to database 'x'",
    ],
    [
      1130,
      "ER_HOST_NOT_PRIVILEGED",
      "Host '10.0.0.9' is not allowed to connect to this MariaDB server",
    ],
    [
      1129,
      "ER_HOST_IS_BLOCKED",
      "Host '10.0.0.9' is blocked because of many connection errors",
    ],
    [
      4151,
      "ER_ACCOUNT_HAS_BEEN_LOCKED",
      "Access denied, this account is locked",
    ],
  ];
  for (const [errno, code, message] of cases) {
    const e = classifyMysqlError(serverError(errno, code, message), "db:3306");
    assert.ok(e instanceof PermanentError, code);
    assert.equal(
      e.message,
      `db:3306 rejected the login: ${message} (${errno})`,
    );
  }
});

Deno.test("classifyMysqlError: busy or stopping servers and connection failures are transient", () => {
  const transient: [unknown, RegExp][] = [
    [
      serverError(1040, "ER_CON_COUNT_ERROR", "Too many connections"),
      /^login to db:3306 failed: Too many connections \(1040\)$/,
    ],
    [
      serverError(1053, "ER_SERVER_SHUTDOWN", "Server shutdown in progress"),
      /\(1053\)/,
    ],
    [
      serverError(
        1047,
        "ER_UNKNOWN_COM_ERROR",
        "WSREP has not yet prepared node for application use",
      ),
      /WSREP/,
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED"), {
        code: "ECONNREFUSED",
        errno: -111,
      }),
      /^connection refused by db:3306$/,
    ],
    [
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      /reset/,
    ],
    [
      Object.assign(
        new Error("Connection lost: The server closed the connection."),
        { code: "PROTOCOL_CONNECTION_LOST", fatal: true },
      ),
      /closed by db:3306 before the login completed/,
    ],
    [
      Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }),
      /timed out/,
    ],
    [new Error("something else"), /^cannot log in to db:3306: something else$/],
  ];
  for (const [error, pattern] of transient) {
    const e = classifyMysqlError(error, "db:3306");
    assert.ok(e instanceof NotReadyError, String(error));
    assert.match(e.message, pattern);
  }
});

Deno.test("classifyMysqlError: an authentication method mysql2 cannot speak is permanent", () => {
  const e = classifyMysqlError(
    new Error(
      "Server requests authentication using unknown plugin client_ed25519.",
    ),
    "db:3306",
  );
  assert.ok(e instanceof PermanentError);
  assert.match(e.message, /authentication method preflight cannot use/);
});
