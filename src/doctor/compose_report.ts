/**
 * The Compose lines of `doctor`: whether `docker compose` answers (the
 * `cli` line, "skip" with the reason when it does not: no Docker on this
 * host is not a failure), then one line per container of the project from
 * `docker compose ps --all --format json`. A container passes when it is
 * running and its health is `healthy` or it has no health check.
 */
import {
  ComposeUnavailableError,
  composeVersion,
  listContainers,
} from "../compose/compose_cli.ts";
import type { ComposeContainer } from "../compose/parse_ps.ts";
import { scrub } from "../redact.ts";
import { type CheckLine, line, since } from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";

/** `running (healthy)`, `exited (1)`... */
function describeContainer(c: ComposeContainer): string {
  if (c.state === "running") {
    return c.health ? `running (${c.health})` : "running";
  }
  if (c.state === "exited" || c.state === "dead") {
    return `${c.state} (${c.exitCode ?? "?"})`;
  }
  return c.health ? `${c.state} (${c.health})` : c.state || "unknown";
}

/** True when a container counts as up. */
function containerPasses(c: ComposeContainer): boolean {
  return c.state === "running" && (c.health === "" || c.health === "healthy");
}

/** The Compose lines. */
export async function composeReport(
  plan: DoctorPlan,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const t0 = performance.now();
  let version: string;
  try {
    version = await composeVersion(plan.compose, plan.timeoutMs, signal);
  } catch (e) {
    const why = e instanceof ComposeUnavailableError
      ? (e as Error).message
      : String(e);
    return [
      line(
        "compose",
        "cli",
        "skip",
        scrub(`docker compose is not available: ${why}`),
        {
          latency_ms: since(t0),
        },
      ),
    ];
  }
  const lines: CheckLine[] = [
    line("compose", "cli", "pass", `Docker Compose ${version}`, {
      latency_ms: since(t0),
      value: version,
    }),
  ];
  let containers: ComposeContainer[];
  try {
    containers = await listContainers(
      plan.compose,
      undefined,
      plan.timeoutMs,
      signal,
    );
  } catch (e) {
    const msg = scrub((e as Error).message);
    // Outside a Compose project there is nothing to report, and that is not
    // a fault of the stack (v2 and v1 say so differently).
    if (
      /no configuration file provided|find a suitable configuration file/i.test(
        msg,
      )
    ) {
      lines.push(
        line("compose", "service", "skip", `no Compose project here: ${msg}`),
      );
    } else {
      lines.push(line("compose", "service", "fail", msg));
    }
    return lines;
  }
  if (containers.length === 0) {
    lines.push(
      line(
        "compose",
        "service",
        "fail",
        "no containers: the project is not running (docker compose up -d)",
      ),
    );
    return lines;
  }
  const perService = new Map<string, number>();
  for (const c of containers) {
    perService.set(c.service, (perService.get(c.service) ?? 0) + 1);
  }
  const sorted = [...containers].sort((a, b) =>
    a.service.localeCompare(b.service) || a.name.localeCompare(b.name)
  );
  for (const c of sorted) {
    const state = describeContainer(c);
    const subject = (perService.get(c.service) ?? 0) > 1 ? c.name : c.service;
    const ok = containerPasses(c);
    lines.push(
      line(
        "compose",
        "service",
        ok ? "pass" : "fail",
        scrub(
          ok
            ? `${state} · ${c.status}`
            : `${state}${c.status ? ` · ${c.status}` : ""}`,
        ),
        {
          subject,
          value: state,
          data: {
            service: c.service,
            container: c.name,
            state: c.state,
            health: c.health,
            status: c.status,
            exit_code: c.exitCode,
          },
        },
      ),
    );
  }
  return lines;
}
