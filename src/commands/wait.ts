/**
 * `preflight wait TARGET... [-- COMMAND...]`: wait for the given targets
 * only, then hand over to COMMAND, or exit 0. Not ready in time: exit 124
 * (default `--on-timeout fail`).
 */
import type { CommandHandler } from "./context.ts";
import { ConfigError } from "../errors.ts";
import { redactUrl } from "../redact.ts";
import { parseTarget, type Target } from "../checks/mod.ts";
import { waitFailure, waitStep } from "../wait/wait_step.ts";
import { handOver } from "../handover/hand_over.ts";
import { validateHandOver } from "../handover/validate_hand_over.ts";

/**
 * Parses the command line's targets. A word after them that is not a URL is
 * most likely the command, written without `--` (as `dockerize` takes it):
 * say so, with the line it meant.
 */
async function parseTargets(
  words: readonly string[],
  source = "target",
): Promise<Target[]> {
  const targets: Target[] = [];
  for (const [i, word] of words.entries()) {
    try {
      targets.push(await parseTarget(word, source));
    } catch (e) {
      if (
        i === 0 || source !== "target" || !(e instanceof ConfigError) ||
        word.includes("://")
      ) {
        throw e;
      }
      const meant = [
        "preflight wait",
        ...targets.map((t) => t.id),
        "--",
        ...words.slice(i).map(redactUrl),
      ].join(" ");
      throw new ConfigError(
        `Invalid target '${
          redactUrl(word)
        }': not a URL; to run a command once the targets are ready, put it after '--': ${meant}`,
        { cause: e },
      );
    }
  }
  return targets;
}

/** Waits for the command line's targets. */
export const wait: CommandHandler = async (ctx) => {
  const { options, positionals, commandArgv, sources } = ctx.config;
  // The command line's targets; without any, --wait-for / PREFLIGHT_WAIT_FOR.
  const fromFlag = sources.waitFor.startsWith("--");
  const targets = [
    ...await parseTargets(positionals),
    ...(positionals.length === 0 || fromFlag
      ? await parseTargets(options.waitFor, sources.waitFor)
      : []),
  ];
  if (targets.length === 0) {
    throw new ConfigError(
      "Missing target for 'wait': expected at least one URL such as postgres://db:5432 or tcp://cache:6379 (or PREFLIGHT_WAIT_FOR)",
    );
  }
  const prepared = commandArgv === undefined
    ? undefined
    : await validateHandOver(commandArgv, options, ctx.env);
  const log = ctx.logger.get("wait");
  const ids = targets.map((t) => t.id).join(", ");
  log.info(`Waiting for ${ids}...`, { phase: "wait", target: ids });
  const outcome = await waitStep(targets, options, {
    signal: ctx.signal,
    log,
    clock: ctx.clock,
    status: ctx.logger.status,
  });
  if (!outcome.ready) {
    if (options.onTimeout === "fail") throw waitFailure(outcome, "Targets");
    log.warn("⚠️ Targets not ready; continuing (--on-timeout continue)", {
      phase: "wait",
    });
  }
  if (commandArgv === undefined) return 0;
  const env = {
    ...ctx.env,
    PREFLIGHT_WAIT: outcome.ready ? "ready" : "timeout",
  };
  return await handOver(commandArgv, env, {
    options,
    signal: ctx.signal,
    log,
    prepared,
    clock: ctx.clock,
  });
};
