/**
 * Connection options for postgres.js from a parsed target, with libpq's
 * `sslmode` semantics (disable, allow, prefer, require, verify-ca,
 * verify-full) and `sslrootcert`. Shared by the login check, the migration
 * lock and `doctor`.
 */
import type { Target } from "./target.ts";
import { ConfigError } from "../errors.ts";

/** The sslmodes libpq knows. */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;

/** The postgres.js options that identify the server and the login. */
export interface PostgresJsOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl: boolean | "prefer" | "require" | "allow" | Record<string, unknown>;
}

/** Maps a target (with credentials) to postgres.js options; throws ConfigError on a bad sslmode. */
export function postgresJsOptions(target: Target): PostgresJsOptions {
  const mode = target.params.get("sslmode") ?? "prefer";
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(
      `Invalid sslmode '${mode}' in '${target.id}': expected ${
        SSL_MODES.join(", ")
      }`,
    );
  }
  const rootCert = target.params.get("sslrootcert") ?? undefined;
  let ssl: PostgresJsOptions["ssl"];
  if (mode === "disable") ssl = false;
  else if (mode === "allow" || mode === "prefer") ssl = mode;
  else if (mode === "require" && !rootCert) ssl = "require";
  else {
    let ca: string | undefined;
    if (rootCert) {
      try {
        ca = Deno.readTextFileSync(rootCert);
      } catch (e) {
        throw new ConfigError(
          `Cannot read sslrootcert '${rootCert}' of '${target.id}': ${
            (e as Error).message
          }`,
        );
      }
    }
    ssl = {
      rejectUnauthorized: true,
      servername: /^[\d.]+$|:/.test(target.host) ? undefined : target.host,
      ...(ca ? { ca } : {}),
      // verify-ca (and require with a root certificate) checks the chain only.
      ...(mode !== "verify-full"
        ? { checkServerIdentity: () => undefined }
        : {}),
    };
  }
  return {
    host: target.host,
    port: target.port,
    user: target.username ?? "postgres",
    password: target.password,
    database: target.path || target.username || "postgres",
    ssl,
  };
}
