/**
 * `preflight restart [SERVICE]` (default `backend`): `docker compose restart
 * SERVICE`, then wait until the service is healthy *after* this restart
 * (judge_restart.ts says what counts), showing progress on standard error;
 * then print the service's log lines since the restart and the `doctor`
 * table on standard output. Exit 0 when healthy in time, 1 otherwise (with
 * the last health-check output), 2 when `docker compose` is not available.
 */
import { ToolMissingError } from "../errors.ts";
import type { CommandHandler } from "./context.ts";
import { planDoctor } from "../doctor/doctor_plan.ts";
import { runDoctor } from "../doctor/run_doctor.ts";
import { formatText } from "../doctor/format_report.ts";
import {
  composeVersion,
  inspectContainers,
  listContainers,
  restartService,
  serviceLogs,
} from "../compose/compose_cli.ts";
import type { ContainerState, HealthProbe } from "../compose/parse_inspect.ts";
import {
  type ContainerProgress,
  waitHealthy,
} from "../compose/wait_healthy.ts";
import { createProgress } from "../compose/progress_line.ts";
import { formatDuration } from "../config/duration.ts";
import { scrub } from "../redact.ts";

/** The service restarted when none is named. */
const DEFAULT_SERVICE = "backend";

/** Time limit of one `docker` call that is not the restart itself. */
const CALL_TIMEOUT_MS = 15_000;

function message(e: unknown): string {
  return scrub((e as Error)?.message ?? String(e));
}

/** One line describing where the containers stand. */
function describe(service: string, cs: readonly ContainerProgress[]): string {
  if (cs.length === 0) return `${service}: no container`;
  if (cs.length === 1) return `${service}: ${cs[0].verdict.detail}`;
  return `${service}: ` +
    cs.map((c) => `${c.name} ${c.verdict.detail}`).join("; ");
}

/** The newest health-check run: of this start when there is one, else any. */
function lastProbe(
  cs: readonly ContainerProgress[],
): { container: string; probe: HealthProbe; fresh: boolean } | undefined {
  let best:
    | { container: string; probe: HealthProbe; fresh: boolean }
    | undefined;
  for (const c of cs) {
    const fresh = c.verdict.lastProbe;
    const probe = fresh ?? c.state.health?.log.at(-1);
    if (!probe) continue;
    if (
      !best || (fresh && !best.fresh) ||
      (!!fresh === best.fresh && c.verdict.phase !== "healthy")
    ) {
      best = { container: c.name, probe, fresh: !!fresh };
    }
  }
  return best;
}

/** Where the log lines start: the new start of the containers, else when the restart was issued. */
function logsSince(cs: readonly ContainerProgress[], issuedAt: Date): string {
  const starts = cs.filter((c) => c.verdict.fresh).map((c) => c.state)
    .sort((a: ContainerState, b: ContainerState) => a.startedMs - b.startedMs);
  return starts[0]?.startedAt || issuedAt.toISOString();
}

/** Restarts the service and verifies it came back. */
export const restart: CommandHandler = async (ctx) => {
  // Validate everything (the doctor summary's configuration too) first.
  const { config, clock, stderr } = ctx;
  const plan = await planDoctor(config);
  const { options } = config;
  const service = config.positionals[0] ?? DEFAULT_SERVICE;
  const compose = plan.compose;
  const log = ctx.logger.get("restart");
  // Colours on a terminal, unless NO_COLOR is set (and not empty).
  const noColor = !!ctx.env.NO_COLOR;

  try {
    await composeVersion(compose, CALL_TIMEOUT_MS, ctx.signal);
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw new ToolMissingError(
      `docker compose is not available: ${message(e)}`,
      { cause: e },
    );
  }

  // The start time of each container before the restart: a state that still
  // carries it is from before the restart.
  let startedBefore: Map<string, string>;
  try {
    const listed = await listContainers(
      compose,
      service,
      CALL_TIMEOUT_MS,
      ctx.signal,
    );
    if (listed.length === 0) {
      log.error(
        `Service '${service}' has no container to restart: start it with 'docker compose up -d ${service}'`,
        { exit_code: 1 },
      );
      return 1;
    }
    const before = await inspectContainers(
      compose,
      listed.map((c) => c.id || c.name),
      CALL_TIMEOUT_MS,
      ctx.signal,
    );
    startedBefore = new Map(before.map((s) => [s.id, s.startedAt]));
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    log.error(`Cannot read the state of '${service}': ${message(e)}`, {
      exit_code: 1,
    });
    return 1;
  }

  const issuedAt = new Date();
  const t0 = clock.now();
  const deadline = clock.timeout(options.timeout, ctx.signal);
  const progress = createProgress({
    live: stderr.isTerminal,
    write: (text) => stderr.write(text),
    line: (text) => log.info(text),
    color: stderr.isTerminal && !noColor,
    columns: stderr.columns,
    now: () => clock.now(),
  });
  let containers: readonly ContainerProgress[] = [];
  let outcome: "healthy" | "failed" | "timeout";
  let pollError: string | undefined;
  try {
    log.info(`Restarting ${service}...`);
    try {
      await restartService(compose, service, options.timeout, deadline.signal);
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      log.error(message(e), { exit_code: 1 });
      return 1;
    }
    log.info(
      `Restarted ${service} in ${
        formatDuration(clock.now() - t0)
      }; waiting up to ${formatDuration(options.timeout)} for it to be healthy`,
    );
    const result = await waitHealthy({
      compose,
      service,
      startedBefore,
      signal: deadline.signal,
      clock,
      callTimeoutMs: CALL_TIMEOUT_MS,
      onPoll: (cs, error) => {
        // The final line says it; the display stays for the waits.
        if (
          !error && cs.length > 0 &&
          cs.every((c) => c.verdict.phase === "healthy")
        ) return;
        const secs = Math.round((clock.now() - t0) / 1000);
        const state = scrub(
          error ? `${service}: docker: ${error}` : describe(service, cs),
        );
        progress.update(
          state,
          state,
          `${secs}s of ${formatDuration(options.timeout)}`,
        );
      },
    });
    containers = result.containers;
    outcome = result.outcome;
    pollError = result.pollError;
  } finally {
    progress.clear();
    deadline.dispose();
  }

  const elapsed = formatDuration(clock.now() - t0);
  if (outcome === "healthy") {
    log.info(`✓ ${service} is healthy after the restart (${elapsed})`);
  } else {
    const why = outcome === "failed"
      ? "will not come back"
      : `did not become healthy within ${formatDuration(options.timeout)}`;
    const state = pollError
      ? `docker: ${pollError}`
      : describe(service, containers);
    log.error(`✗ ${service} ${why}: ${scrub(state)}`, { exit_code: 1 });
  }

  const report: string[] = [];
  if (outcome !== "healthy") {
    const last = lastProbe(containers);
    if (last) {
      report.push(
        `── Last health check of ${last.container}${
          last.fresh ? "" : " (before the restart)"
        }: exit ${last.probe.exitCode} at ${last.probe.start} ──`,
        last.probe.output.trimEnd() || "(no output)",
        "",
      );
    } else {
      report.push("── No health check has run since the restart ──", "");
    }
  }
  if (!options.noLogs && options.tailLines > 0) {
    const since = logsSince(containers, issuedAt);
    try {
      const lines = await serviceLogs(
        compose,
        service,
        since,
        options.tailLines,
        CALL_TIMEOUT_MS,
        ctx.signal,
      );
      report.push(
        `── Log of ${service} since the restart (last ${options.tailLines} lines) ──`,
        lines.trimEnd() || "(no log lines)",
        "",
      );
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      log.warn(`Cannot read the log of ${service}: ${message(e)}`);
    }
  }
  if (report.length > 0) ctx.stdout.write(scrub(report.join("\n")) + "\n");

  const summary = await runDoctor(plan, ctx.signal);
  const color = ctx.stdout.isTerminal && !noColor;
  ctx.stdout.write(`── Doctor ──\n${formatText(summary, { color })}`);
  return outcome === "healthy" ? 0 : 1;
};
