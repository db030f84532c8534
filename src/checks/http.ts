/**
 * `http://` and `https://`: ready when one `GET` answers with a 2xx status,
 * or with one of the statuses given by `--http-status` (http_get.ts).
 * Interim responses (`100 Continue`, `103 Early Hints`) are skipped: the
 * final one decides.
 *
 * Redirects are not followed: a 3xx is the answer of the URL that was given,
 * so it is "not ready" (the message names the `Location`) unless its status
 * is listed in `--http-status`. A health endpoint that redirects usually
 * means a wrong URL (a missing or extra trailing slash, http instead of
 * https), and following it would check another endpoint than the one named.
 */
import { NotReadyError } from "./check.ts";
import type { TargetKind } from "./kind.ts";
import { parseEndpointUrl } from "./endpoint_url.ts";
import { httpGet, type HttpTarget } from "./http_get.ts";
import { redactUrl, scrub } from "../redact.ts";

const DEFAULT_PORTS = { http: 80, https: 443 };

/** The HTTP kind. */
export const kind: TargetKind<HttpTarget> = {
  schemes: ["http", "https"],
  defaultPorts: DEFAULT_PORTS,
  reference: [[
    "`http://...`, `https://...`",
    "`GET` answers 2xx, or one of `--http-status`; redirects are not followed; a private CA: `DENO_CERT=ca.pem`",
  ]],
  parse: (text, source) =>
    parseEndpointUrl(text, source, {
      defaultPorts: DEFAULT_PORTS,
      form: "an http://HOST[:PORT][/PATH] or https:// URL",
    }),
  check(target, options) {
    const allowed = options.httpStatus;
    const isReady = (status: number) =>
      allowed && allowed.length > 0
        ? allowed.includes(status)
        : status >= 200 && status < 300;
    return {
      id: target.id,
      async check(signal) {
        const res = await httpGet(target, signal);
        if (isReady(res.status)) return;
        const location = res.headers.get("location");
        const detail = res.status >= 300 && res.status < 400 && location
          ? ` (redirect to '${scrub(redactUrl(location))}', not followed)`
          : "";
        throw new NotReadyError(
          `HTTP ${res.status} from ${target.id}${detail}`,
        );
      },
    };
  },
  describe: (target) => redactUrl(target.url),
};
