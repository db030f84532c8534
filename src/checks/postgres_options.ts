/**
 * PostgreSQL TLS and connection options with libpq's semantics, in one
 * place for the login check, the migration lock and `doctor`: `sslmode`
 * (disable, allow, prefer, require, verify-ca, verify-full), `sslrootcert`
 * (a CA file, or `system`), `sslcert`/`sslkey` (a client certificate),
 * `target_session_attrs`.
 */
import type { PostgresTarget } from "./postgres_url.ts";
import { isSocketDir, socketPath } from "./postgres_hosts.ts";
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

/** libpq's target_session_attrs: which server of a host list will do. */
export type SessionAttrs =
  | "any"
  | "read-write"
  | "read-only"
  | "primary"
  | "standby"
  | "prefer-standby";

/** Every target_session_attrs value libpq accepts. */
export const SESSION_ATTRS: readonly SessionAttrs[] = [
  "any",
  "read-write",
  "read-only",
  "primary",
  "standby",
  "prefer-standby",
];

/** The target_session_attrs of a target, default `any` as with libpq. */
export function sessionAttrsOf(target: PostgresTarget): SessionAttrs {
  const given = target.params.get("target_session_attrs");
  if (given === null || given === "") return "any";
  if (!SESSION_ATTRS.includes(given as SessionAttrs)) {
    throw new ConfigError(
      `Invalid target_session_attrs '${given}' in '${target.id}': expected ${
        SESSION_ATTRS.join(", ")
      }`,
    );
  }
  return given as SessionAttrs;
}

/**
 * The sslmode of a target, default `prefer` as with libpq. Like libpq,
 * `require` with a CA file (`sslrootcert`) verifies the chain as `verify-ca`.
 */
export function sslModeOf(target: PostgresTarget): SslMode {
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

function readPem(target: PostgresTarget, param: string): string | undefined {
  const path = target.params.get(param);
  if (!path || (param === "sslrootcert" && path === "system")) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new PermanentError(
      `Cannot read ${param} '${path}' for ${target.id}: ${
        (e as Error).message.split("\n")[0]
      }`,
      { cause: e },
    );
  }
}

/** The `ssl` option of postgres.js for a mode; PermanentError when a certificate file cannot be read. */
export function sslOption(
  mode: SslMode,
  target: PostgresTarget,
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
  /** One host, or postgres.js' own list form `h1:p1,h2:p2`. */
  host: string;
  port: number;
  /** The socket file, for a Unix-socket directory as host. */
  path?: string;
  user: string;
  password?: string;
  database: string;
  ssl: false | "prefer" | "require" | Record<string, unknown>;
}

/**
 * Maps a target with credentials to postgres.js options: its first host's
 * socket file for a Unix-socket directory (libpq never uses TLS there), or
 * postgres.js' own form of a host list. Without libpq's sslmode fallbacks
 * and target_session_attrs: checks/postgres_session.ts has those.
 */
export function postgresJsOptions(target: PostgresTarget): PostgresJsOptions {
  const first = target.hosts[0];
  const socket = isSocketDir(first.host);
  return {
    host: target.hosts.length > 1 && !socket
      ? target.hosts.map((h) => `${h.host}:${h.port}`).join(",")
      : first.host,
    port: first.port,
    ...(socket ? { path: socketPath(first) } : {}),
    user: target.username ?? "postgres",
    password: target.password,
    database: target.path || target.username || "postgres",
    ssl: socket ? false : sslOption(sslModeOf(target), target),
  };
}
