/**
 * The PostgreSQL check against real PostgreSQL 15 clusters (trust, SCRAM with
 * TLS, a standby answering 57P03) and against fault servers that accept TCP
 * but do not speak PostgreSQL. The clusters are started once for the file and
 * shared by the steps.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as postgres } from "../src/checks/postgres.ts";
import { createCheck, parseTarget } from "../src/checks/mod.ts";
import {
  closedPort,
  createCertificateAuthority,
  type FaultKind,
  startFaultServer,
  startPostgres,
} from "./_servers.ts";

const PASSWORD = "s3cret-Pa55word";
const WRONG_PASSWORD = "Wr0ng-Pa55word";

/** One attempt of the check; the error it failed with, or undefined when ready. */
async function attempt(
  url: string,
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  const check = postgres.check(postgres.parse(url, "test"), {});
  try {
    await check.check(AbortSignal.timeout(timeoutMs));
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

async function assertReady(url: string): Promise<void> {
  const error = await attempt(url);
  assert.equal(error, undefined, `expected ready, got: ${error?.message}`);
}

async function assertNotReady(
  url: string,
  pattern: RegExp,
  timeoutMs?: number,
): Promise<NotReadyError> {
  const error = await attempt(url, timeoutMs);
  assert.ok(
    error instanceof NotReadyError,
    `expected NotReadyError, got: ${error?.name} ${error?.message}`,
  );
  assert.match(error.message, pattern);
  return error;
}

async function assertPermanent(
  url: string,
  pattern: RegExp,
): Promise<PermanentError> {
  const error = await attempt(url);
  assert.ok(
    error instanceof PermanentError,
    `expected PermanentError, got: ${error?.name} ${error?.message}`,
  );
  assert.match(error.message, pattern);
  return error;
}

Deno.test("postgres check against real servers", async (t) => {
  // Started together: most of the setup time is spent waiting on processes.
  const starting = [
    startPostgres({ database: "app" }),
    startPostgres({ auth: "scram", password: PASSWORD, tls: true }),
    startPostgres({ standby: true }),
  ];
  await using trust = await starting[0];
  await using secure = await starting[1];
  await using standby = await starting[2];
  await using otherCa = await createCertificateAuthority();
  const ca = secure.caFile!;

  // --- user-less: pg_isready semantics

  await t.step("user-less check reports a trust server as ready", async () => {
    await assertReady(trust.url());
  });

  await t.step(
    "user-less check reports a password-protected server as ready (its auth demand means up)",
    async () => {
      await assertReady(secure.url());
    },
  );

  await t.step(
    "user-less check reports a standby (57P03) as not ready until it is promoted",
    async () => {
      const error = await assertNotReady(standby.url(), /57P03/);
      assert.match(error.message, /not (yet )?accepting connections/);
      await standby.promote();
      await assertReady(standby.url());
    },
  );

  await t.step(
    "user-less check reports a stopped server as not ready and a restarted one as ready",
    async () => {
      await standby.stop();
      await assertNotReady(standby.url(), /refused/);
      await standby.start();
      await assertReady(standby.url());
    },
  );

  await t.step(
    "user-less check tries localhost and IPv6 literals",
    async () => {
      await assertReady(`postgres://localhost:${trust.port}`);
      if (!trust.ipv6) {
        console.log("  (::1 not available on this host: IPv6 part skipped)");
        return;
      }
      await assertReady(`postgres://[::1]:${trust.port}`);
      await assertReady(`postgresql://[::1]:${secure.port}`);
    },
  );

  // --- user-less and login against things that are not PostgreSQL

  await t.step(
    "a refused port is not ready, with and without a user",
    async () => {
      const port = closedPort();
      await assertNotReady(`postgres://127.0.0.1:${port}`, /refused/);
      await assertNotReady(
        `postgres://app:${PASSWORD}@127.0.0.1:${port}/db`,
        /refused/,
      );
    },
  );

  const faults: [FaultKind, RegExp, RegExp][] = [
    // [kind, user-less reason, login reason]
    [
      "accept-close",
      /closed .*before the server answered|reset/,
      /closed .*before the (server answered|login completed)|reset/,
    ],
    ["silent", /timed out/, /timed out/],
    ["slow", /timed out/, /timed out/],
    ["garbage", /not answering as PostgreSQL/, /not answering as PostgreSQL/],
  ];
  for (const [kind, bare, withUser] of faults) {
    await t.step(
      `a server that does '${kind}' is not ready within the attempt's timeout`,
      async () => {
        await using server = startFaultServer(kind, { intervalMs: 200 });
        for (
          const [url, pattern] of [
            [`postgres://127.0.0.1:${server.port}`, bare],
            [
              `postgres://app:${PASSWORD}@127.0.0.1:${server.port}/app?sslmode=disable`,
              withUser,
            ],
          ] as const
        ) {
          const started = performance.now();
          const error = await assertNotReady(url, pattern, 1000);
          const elapsed = performance.now() - started;
          // Liveness, not speed: the attempt must end near its own timeout.
          assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
          assert.ok(!error.message.includes(PASSWORD));
        }
        assert.ok(server.accepted >= 2, "the fault server saw the attempts");
      },
    );
  }

  // --- login

  await t.step("login check succeeds on a trust server", async () => {
    await assertReady(trust.url("postgres", undefined, "app"));
    await assertReady(`postgresql://postgres@localhost:${trust.port}/postgres`);
  });

  await t.step(
    "login check succeeds with the right password, with and without TLS",
    async () => {
      await assertReady(secure.url("postgres", PASSWORD, "postgres"));
      await assertReady(
        secure.url("postgres", PASSWORD, "postgres", { sslmode: "disable" }),
      );
      await assertReady(
        secure.url("postgres", PASSWORD, "postgres", { sslmode: "require" }),
      );
    },
  );

  await t.step(
    "a wrong password is permanent and the message shows neither password",
    async () => {
      const error = await assertPermanent(
        secure.url("postgres", WRONG_PASSWORD, "postgres"),
        /password authentication failed.*28P01/,
      );
      assert.ok(!error.message.includes(WRONG_PASSWORD), error.message);
      assert.ok(!error.message.includes(PASSWORD), error.message);
    },
  );

  await t.step("an unknown database is permanent", async () => {
    await assertPermanent(
      trust.url("postgres", undefined, "nope"),
      /database "nope" does not exist.*3D000/,
    );
  });

  await t.step("an unknown user is permanent", async () => {
    await assertPermanent(
      trust.url("ghost", undefined, "postgres"),
      /role "ghost" does not exist.*28000/,
    );
    await assertPermanent(
      secure.url("ghost", PASSWORD, "postgres"),
      /authentication failed.*28P01/,
    );
  });

  await t.step(
    "login check on a standby-like refusal is not ready",
    async () => {
      await using replica = await startPostgres({ standby: true });
      await assertNotReady(
        replica.url("postgres", undefined, "postgres"),
        /57P03/,
      );
    },
  );

  await t.step(
    "login check works over IPv6 and localhost",
    async () => {
      await assertReady(
        `postgres://postgres:${PASSWORD}@localhost:${secure.port}/postgres`,
      );
      if (!secure.ipv6) {
        console.log("  (::1 not available on this host: IPv6 part skipped)");
        return;
      }
      await assertReady(
        `postgres://postgres:${PASSWORD}@[::1]:${secure.port}/postgres?sslmode=require`,
      );
    },
  );

  // --- TLS

  await t.step(
    "sslmode=verify-full with the server's CA succeeds for its name and address",
    async () => {
      const params = { sslmode: "verify-full", sslrootcert: ca };
      await assertReady(
        `postgres://postgres:${PASSWORD}@localhost:${secure.port}/postgres?${new URLSearchParams(
          params,
        )}`,
      );
      await assertReady(secure.url("postgres", PASSWORD, "postgres", params));
      await assertReady(
        secure.url("postgres", PASSWORD, "postgres", {
          sslmode: "verify-ca",
          sslrootcert: ca,
        }),
      );
    },
  );

  await t.step(
    "sslmode=verify-full with an unrelated CA is a permanent certificate error",
    async () => {
      const error = await assertPermanent(
        secure.url("postgres", PASSWORD, "postgres", {
          sslmode: "verify-full",
          sslrootcert: otherCa.certFile,
        }),
        /TLS certificate error/,
      );
      assert.ok(!error.message.includes(PASSWORD), error.message);
      // require with a CA file verifies the chain, as libpq does.
      await assertPermanent(
        secure.url("postgres", PASSWORD, "postgres", {
          sslmode: "require",
          sslrootcert: otherCa.certFile,
        }),
        /TLS certificate error/,
      );
    },
  );

  await t.step(
    "sslmode=require against a server without TLS is permanent",
    async () => {
      await assertPermanent(
        trust.url("postgres", undefined, "postgres", { sslmode: "require" }),
        /does not support TLS, but sslmode=require requires it/,
      );
      // prefer falls back to plaintext.
      await assertReady(
        trust.url("postgres", undefined, "postgres", { sslmode: "prefer" }),
      );
    },
  );

  await t.step(
    "an sslrootcert file that disappeared after parsing is permanent",
    async () => {
      const copy = await Deno.makeTempFile({ suffix: ".crt" });
      await Deno.copyFile(ca, copy);
      const target = postgres.parse(
        secure.url("postgres", PASSWORD, "postgres", {
          sslmode: "verify-full",
          sslrootcert: copy,
        }),
        "test",
      );
      await Deno.remove(copy);
      const check = postgres.check(target, {});
      await assert.rejects(
        check.check(AbortSignal.timeout(10_000)),
        (e: Error) => {
          assert.ok(e instanceof PermanentError, `${e.name}: ${e.message}`);
          assert.match(e.message, /Cannot read sslrootcert/);
          assert.ok(!e.message.includes(PASSWORD), e.message);
          return true;
        },
      );
    },
  );

  // --- identity and wiring

  await t.step("the check's id is the redacted target", async () => {
    const url = secure.url("postgres", PASSWORD, "postgres");
    const check = await createCheck(await parseTarget(url, "test"), {});
    assert.ok(!check.id.includes(PASSWORD), check.id);
    assert.match(check.id, /postgres:\*\*\*@127\.0\.0\.1/);
    await check.check(AbortSignal.timeout(10_000));
  });
});

Deno.test("a host name that does not resolve is not ready", async () => {
  await assertNotReady(
    `postgres://app:${PASSWORD}@preflight-nonexistent.invalid:5432/db`,
    /does not resolve|timed out/,
    5000,
  );
  await assertNotReady(
    "postgres://preflight-nonexistent.invalid:5432",
    /does not resolve|timed out/,
    5000,
  );
});

Deno.test("a check aborted from outside gives up at once", async () => {
  await using server = startFaultServer("silent");
  const check = postgres.check(
    postgres.parse(`postgres://127.0.0.1:${server.port}`, "test"),
    {},
  );
  const ctl = new AbortController();
  const pending = check.check(ctl.signal);
  setTimeout(() => ctl.abort(), 100);
  await assert.rejects(pending, (e: Error) => {
    assert.ok(e instanceof NotReadyError);
    assert.match(e.message, /aborted/);
    return true;
  });
});
