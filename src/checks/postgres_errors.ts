/**
 * What PostgreSQL failures mean for readiness: which SQLSTATEs and client
 * errors are permanent (credentials, unknown database, certificates) and
 * which are transient, worded with the server's own message and without
 * any secret.
 */
import { NotReadyError, PermanentError } from "./check.ts";
import { reachFailure } from "./connect.ts";

/** SQLSTATE `cannot_connect_now`: starting up, shutting down, standby not accepting. */
export const CANNOT_CONNECT_NOW = "57P03";

/** The server's message and detail, as one line without a final period. */
export function serverMessage(message: string, detail?: string): string {
  const text = detail ? `${message}. ${detail}` : message;
  return text.replace(/\s+/g, " ").replace(/\.$/, "");
}

/**
 * The server refused the login itself (credentials, unknown database or
 * user, pg_hba rules, no CONNECT privilege): permanent, with its SQLSTATE.
 */
export class LoginRefusedError extends PermanentError {
  override name = "LoginRefusedError";
  constructor(
    message: string,
    readonly sqlState: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Server errors that no amount of waiting fixes. */
function permanentSqlState(code: string): boolean {
  return code.startsWith("28") || // invalid_authorization_specification, invalid_password
    code === "3D000" || // invalid_catalog_name: unknown database
    code === "42501"; // insufficient_privilege: no CONNECT on the database
}

/**
 * Classifies an error from a login attempt: credentials, unknown database
 * and certificate problems are permanent; everything about reaching the
 * server is transient. Messages keep the server's own words.
 */
export function classifyLoginError(e: unknown, where: string): Error {
  if (e instanceof NotReadyError || e instanceof PermanentError) return e;
  const err = (e ?? {}) as {
    name?: string;
    code?: unknown;
    message?: string;
    detail?: string;
  };
  const code = typeof err.code === "string" ? err.code : "";
  const message = (err.message ?? String(e)).split("\n")[0];
  if (err.name === "PostgresError" && /^[0-9A-Z]{5}$/.test(code)) {
    if (permanentSqlState(code)) {
      return new LoginRefusedError(
        `${where} rejected the login: ${message} (${code})`,
        code,
        { cause: e },
      );
    }
    if (code === CANNOT_CONNECT_NOW) {
      return new NotReadyError(
        `${where} answered: ${serverMessage(message, err.detail)} (${code})`,
        { cause: e },
      );
    }
    return new NotReadyError(
      `login to ${where} failed: ${message} (${code})`,
      { cause: e },
    );
  }
  const cause = { cause: e };
  switch (code) {
    case "CONNECT_TIMEOUT":
      return new NotReadyError(`connection to ${where} timed out`, cause);
    case "CONNECTION_CLOSED":
    case "CONNECTION_ENDED":
    case "CONNECTION_DESTROYED":
      return new NotReadyError(
        `connection closed by ${where} before the login completed`,
        cause,
      );
    case "SASL_SIGNATURE_MISMATCH":
      return new PermanentError(
        `${where} failed SCRAM server authentication: its signature does not match`,
        cause,
      );
    case "AUTH_TYPE_NOT_IMPLEMENTED":
      return new PermanentError(`${where} asks for ${message}`, cause);
  }
  // Reaching the server (refused, reset, unresolved, TLS certificates):
  // worded as for every other check.
  return reachFailure(e, where) ??
    new NotReadyError(`cannot log in to ${where}: ${message}`, cause);
}
