/**
 * The app line of `doctor`: one `GET` of the health URL, bounded by the
 * per-check timeout. It passes on a 2xx status; the message shows the
 * status, and the top-level fields of a JSON body (`status=ok,
 * database=ok`), which `--json` carries whole under `data.body`. Redirects
 * are not followed, as in the readiness check, whose HTTP client it uses.
 */
import { hostPort } from "../checks/target.ts";
import { httpGet } from "../checks/http_get.ts";
import { reasonOf } from "../checks/check.ts";
import { formatDuration } from "../config/duration.ts";
import { redactUrl, scrub } from "../redact.ts";
import { timeoutSignal } from "../time/timeout_signal.ts";
import { type CheckLine, line, since } from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";

/** Largest body read, in bytes. */
const MAX_BODY = 64 * 1024;

/** Words of a field name that mark its value as secret (plurals too). */
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "pwd",
  "secret",
  "token",
  "key",
  "apikey",
  "authorization",
  "auth",
  "credential",
  "cookie",
]);

/**
 * True when a field's name looks secret: one of its words (split at
 * `_`, `-`, `.`, spaces and camelCase) is password, secret, token, key,
 * api_key, authorization..., so `api_key`, `accessToken` and `DB_PASSWORD`
 * are, and `keyspace` or `monkey` are not.
 */
export function isSecretField(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase()
    .split(/[^a-z0-9]+/).filter(Boolean);
  if (SECRET_WORDS.has(words.join(""))) return true;
  return words.some((w) => SECRET_WORDS.has(w.replace(/s$/, "")));
}

/**
 * A JSON value with the values of secret-looking fields replaced by "***",
 * at any depth (arrays included), and passwords in URL strings masked.
 */
export function maskSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecretFields);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        isSecretField(k) && v !== null ? "***" : maskSecretFields(v),
      ]),
    );
  }
  if (typeof value === "string" && value.includes("://")) {
    return redactUrl(value);
  }
  return value;
}

/** `key=value` pairs of a JSON object's fields, nested objects flattened with dots. */
export function bodyFields(body: unknown, max = 12): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (out.length >= max) return;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && path) out.push(`${path}={}`);
      for (const [k, child] of entries) walk(child, path ? `${path}.${k}` : k);
      return;
    }
    const text = Array.isArray(v)
      ? `[${v.length} item${v.length === 1 ? "" : "s"}]`
      : typeof v === "string"
      ? v
      : JSON.stringify(v);
    out.push(
      `${path || "body"}=${
        text.length > 60 ? text.slice(0, 57) + "..." : text
      }`,
    );
  };
  walk(body, "");
  return out;
}

/** The app's health line. */
export async function httpReport(
  plan: DoctorPlan,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const target = plan.health;
  const where = hostPort(target);
  const t0 = performance.now();
  const deadline = timeoutSignal(plan.timeoutMs, signal);
  try {
    // The readiness check's own client: the same words for the same failures.
    const res = await httpGet(target, deadline.signal, MAX_BODY);
    const text = new TextDecoder().decode(res.body);
    const latency = since(t0);
    let body: unknown = null;
    try {
      // Whatever the app puts in its health body, secrets stay out of the report.
      body = maskSecretFields(JSON.parse(text));
    } catch { /* not JSON: no fields to show */ }
    const fields = bodyFields(body);
    const ok = res.status >= 200 && res.status < 300;
    const location = res.headers.get("location");
    const detail = [
      `HTTP ${res.status}`,
      ...(res.status >= 300 && res.status < 400 && location
        ? [`redirect to '${redactUrl(location)}', not followed`]
        : []),
      ...(fields.length > 0 ? [fields.join(", ")] : []),
    ].join(" · ");
    return [
      line("app", "health", ok ? "pass" : "fail", scrub(detail), {
        target: target.id,
        latency_ms: latency,
        value: res.status,
        data: {
          status: res.status,
          content_type: res.headers.get("content-type") ?? null,
          body: body !== null && typeof body === "object" ? body : null,
        },
      }),
    ];
  } catch (e) {
    const timedOut = deadline.signal.aborted && !signal.aborted;
    return [
      line(
        "app",
        "health",
        "fail",
        scrub(
          timedOut
            ? `no HTTP response from ${where} within ${
              formatDuration(plan.timeoutMs)
            }`
            : reasonOf(e),
        ),
        { target: target.id, latency_ms: since(t0) },
      ),
    ];
  } finally {
    deadline.dispose();
  }
}
