/**
 * The lines of `doctor` for the targets of `--wait-for` / `PREFLIGHT_WAIT_FOR`
 * (MySQL, RabbitMQ, DNS names, sockets...): one line each, its check as the
 * wait step would run it once, then what the kind can say about the server
 * (its product and version, the records of a name: the kind's `facts`).
 * Every kind reports the same way; none is named here.
 */
import {
  createCheck,
  describeTarget,
  type Target,
  targetFacts,
} from "../checks/mod.ts";
import { type CheckLine, line } from "./check_line.ts";
import type { DoctorPlan } from "./doctor_plan.ts";
import { boundedStep } from "./bounded_step.ts";

async function targetLine(
  target: Target,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckLine> {
  const subject = await describeTarget(target);
  const check = await createCheck(target, {});
  const ready = await boundedStep(
    timeoutMs,
    signal,
    (s) => check.check(s),
    subject,
  );
  const at = { subject, target: target.id, latency_ms: ready.ms };
  if (ready.error !== undefined) {
    return line("target", "ready", "fail", ready.error, at);
  }
  const facts = await boundedStep(
    timeoutMs,
    signal,
    (s) => targetFacts(target, s),
    subject,
  );
  if (facts.error !== undefined) {
    // Ready, but what the server says about itself could not be read.
    return line("target", "ready", "pass", `ready (${facts.error})`, at);
  }
  return line(
    "target",
    "ready",
    "pass",
    facts.value?.summary ?? "ready",
    {
      ...at,
      value: facts.value?.value ?? null,
      ...(facts.value ? { data: facts.value.data } : {}),
    },
  );
}

/** One line per target of `--wait-for`, none when there is none. */
export async function targetsReport(
  plan: DoctorPlan,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  return await Promise.all(
    plan.targets.map((t) => targetLine(t, plan.timeoutMs, signal)),
  );
}
