/**
 * PostgreSQL TLS and connection options with libpq's semantics, in one
 * place for the login check, the migration lock and `doctor`: `sslmode`
 * (disable, allow, prefer, require, verify-ca, verify-full), `sslrootcert`
 * (a CA file, or `system`), `sslcert`/`sslkey` (a client certificate).
 */
import type { Target } from "./target.ts";
import { PermanentError } from "./check.ts";
import { isIpLiteral } from "./connect.ts";
import { ConfigError } from "../errors.ts";

/** The sslmode values libpq accepts. */
export type SslMode =
  | "disable"
  | "allow"
  | "prefer"
  | "require"
  | "verify-ca"
  | "verify-full";

/** Every sslmode, in libpq's order. */
export const SSL_MODES: readonly SslMode[] = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
];

/**
 * The sslmode of a target, default `prefer` as with libpq. Like libpq,
 * `require` with a CA file (`sslrootcert`) verifies the chain as `verify-ca`.
 */
export function sslModeOf(target: Target): SslMode {
  const given = target.params.get("sslmode");
  if (given === null || given === "") return "prefer";
  if (!SSL_MODES.includes(given as SslMode)) {
    throw new ConfigError(
      `Invalid sslmode '${given}' in '${target.id}': expected ${
        SSL_MODES.join(", ")
      }`,
    );
  }
  const root = target.params.get("sslrootcert");
  if (given === "require" && root && root !== "system") return "verify-ca";
  return given as SslMode;
}

function readPem(target: Target, param: string): string | undefined {
  const path = target.params.get(param);
  if (!path || (param === "sslrootcert" && path === "system")) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new PermanentError(
      `Cannot read ${param} '${path}' for ${target.id}: ${
        (e as Error).message.split("\n")[0]
      }`,
    );
  }
}

/** The `ssl` option of postgres.js for a mode; PermanentError when a certificate file cannot be read. */
export function sslOption(
  mode: SslMode,
  target: Target,
): false | "prefer" | "require" | Record<string, unknown> {
  if (mode === "disable") return false;
  // libpq's "allow" tries plaintext first, then TLS; "prefer" works with
  // both kinds of server, which is what a readiness check needs. postgres.js
  // falls back to plaintext only with the plain string, so client
  // certificates (sslcert, sslkey) are used from "require" up.
  if (mode === "allow" || mode === "prefer") return "prefer";
  const cert = readPem(target, "sslcert");
  const key = readPem(target, "sslkey");
  const client = cert && key ? { cert, key } : {};
  if (mode === "require") {
    return cert && key ? { rejectUnauthorized: false, ...client } : "require";
  }
  const ca = readPem(target, "sslrootcert");
  const base = { rejectUnauthorized: true, ...client, ...(ca ? { ca } : {}) };
  if (mode === "verify-ca") {
    return { ...base, checkServerIdentity: () => undefined };
  }
  // Verified against the name in the URL, not the address connected to.
  return {
    ...base,
    host: target.host,
    ...(isIpLiteral(target.host) ? {} : { servername: target.host }),
  };
}

/** The postgres.js options that identify the server and the login. */
export interface PostgresJsOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl: false | "prefer" | "require" | Record<string, unknown>;
}

/** Maps a target with credentials to postgres.js options. */
export function postgresJsOptions(target: Target): PostgresJsOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.username ?? "postgres",
    password: target.password,
    database: target.path || target.username || "postgres",
    ssl: sslOption(sslModeOf(target), target),
  };
}
