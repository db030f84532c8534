/**
 * Parsing of `docker compose ps --format json`. Compose v2.21.0 and later
 * print one JSON object per line (as `docker ps` does); earlier v2 releases
 * printed one JSON array. Both are accepted, and an empty output (no
 * containers) is an empty list.
 */

/** One container of a Compose project, as `docker compose ps` lists it. */
export interface ComposeContainer {
  /** Container ID (short or long, as printed). */
  readonly id: string;
  /** Container name, e.g. `stack-backend-1`. */
  readonly name: string;
  /** Compose service name, e.g. `backend`. */
  readonly service: string;
  /** `running`, `exited`, `restarting`, `paused`, `created`, `dead`... */
  readonly state: string;
  /** `healthy`, `unhealthy`, `starting`, or `""` without a health check. */
  readonly health: string;
  /** Docker's human status, e.g. `Up 3 minutes (healthy)`. */
  readonly status: string;
  readonly exitCode: number | null;
}

function text(v: unknown): string {
  return typeof v === "string"
    ? v
    : v === undefined || v === null
    ? ""
    : String(v);
}

function toContainer(raw: unknown): ComposeContainer {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error(
      `expected a JSON object per container, got ${
        JSON.stringify(raw)?.slice(0, 80)
      }`,
    );
  }
  const o = raw as Record<string, unknown>;
  const name = text(o.Name) || text(o.Names);
  const exit = typeof o.ExitCode === "number" ? o.ExitCode : null;
  return {
    id: text(o.ID),
    name,
    service: text(o.Service),
    state: text(o.State).toLowerCase(),
    health: text(o.Health).toLowerCase(),
    status: text(o.Status),
    exitCode: exit,
  };
}

/**
 * Parses the output of `docker compose ps --format json`: JSON lines or one
 * JSON array. Throws an Error naming the problem on anything else.
 */
export function parseComposePs(output: string): ComposeContainer[] {
  const s = output.trim();
  if (s === "") return [];
  try {
    if (s.startsWith("[")) {
      const parsed = JSON.parse(s);
      if (!Array.isArray(parsed)) throw new Error("not an array");
      return parsed.map(toContainer);
    }
    return s.split(/\r?\n/).filter((l) => l.trim() !== "").map((l) =>
      toContainer(JSON.parse(l))
    );
  } catch (e) {
    throw new Error(
      `unexpected output of docker compose ps --format json (${
        (e as Error).message.split("\n")[0]
      }): ${s.slice(0, 120)}`,
    );
  }
}
