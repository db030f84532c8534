/**
 * `http://` and `https://`: ready when one `GET` answers with a 2xx status,
 * or with one of the statuses given by `--http-status`.
 *
 * Redirects are not followed: a 3xx is the answer of the URL that was given,
 * so it is "not ready" (the message names the `Location`) unless its status
 * is listed in `--http-status`. A health endpoint that redirects usually
 * means a wrong URL (a missing or extra trailing slash, http instead of
 * https), and following it would check another endpoint than the one named.
 *
 * `https://` verifies the certificate against the default roots; a
 * certificate error is permanent.
 */
import {
  type Check,
  type CheckFactory,
  NotReadyError,
  PermanentError,
} from "./check.ts";
import { hostPort } from "./target.ts";
import { redactUrl, scrub } from "../config/redact.ts";

/** Builds an HTTP check. */
export const httpCheck: CheckFactory = (target, options): Check => {
  const where = hostPort(target);
  const allowed = options.httpStatus;
  const isReady = (status: number) =>
    allowed && allowed.length > 0
      ? allowed.includes(status)
      : status >= 200 && status < 300;
  const hide = (text: string) => {
    let out = scrub(text);
    if (target.password) out = out.split(target.password).join("***");
    return out;
  };

  return {
    id: target.id,
    async check(signal) {
      let res: Response;
      try {
        res = await fetch(target.url, {
          method: "GET",
          redirect: "manual",
          signal,
          headers: { "user-agent": "preflight" },
        });
      } catch (e) {
        throw fetchError(e, signal, where, target.host, hide);
      }
      // The body is never needed; cancelling it frees the connection.
      await res.body?.cancel().catch(() => {});
      if (isReady(res.status)) return;
      const location = res.headers.get("location");
      const detail = res.status >= 300 && res.status < 400 && location
        ? ` (redirect to '${hide(redactUrl(location))}', not followed)`
        : "";
      throw new NotReadyError(`HTTP ${res.status} from ${target.id}${detail}`);
    },
  };
};

/** Classifies a `fetch` failure; its message comes from the cause (Deno: "fetch failed"). */
function fetchError(
  e: unknown,
  signal: AbortSignal,
  where: string,
  host: string,
  hide: (s: string) => string,
): Error {
  if (signal.aborted) {
    const timedOut = (signal.reason as Error)?.name === "TimeoutError";
    return new NotReadyError(
      `no HTTP response from ${where} (${timedOut ? "timed out" : "aborted"})`,
    );
  }
  const err = e as Error & { cause?: unknown };
  const cause = err?.cause instanceof Error ? err.cause.message : "";
  const msg = `${err?.message ?? String(e)} ${cause}`;
  // Worded as connectError words it for the other checks.
  const tls = /invalid peer certificate[^\n]*/i.exec(msg);
  if (tls || /certificate/i.test(msg)) {
    return new PermanentError(
      `TLS certificate error from ${where}: ${
        hide(tls?.[0].trim() ?? lastPart(msg))
      }`,
    );
  }
  if (/connection refused/i.test(msg)) {
    return new NotReadyError(`connection refused by ${where}`);
  }
  if (/connection reset/i.test(msg)) {
    return new NotReadyError(`connection reset by ${where}`);
  }
  if (/dns error|failed to lookup address/i.test(msg)) {
    return new NotReadyError(`host '${host}' does not resolve`);
  }
  return new NotReadyError(
    `no HTTP response from ${where}: ${hide(lastPart(msg))}`,
  );
}

/** The most specific part of a nested error message ("a: b: c" gives "c"). */
function lastPart(msg: string): string {
  const parts = msg.split("\n")[0].split(/: /);
  return parts.slice(-2).join(": ").trim() || msg;
}
