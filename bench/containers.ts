/**
 * Usage: deno task bench:containers [--trials N]
 *
 * The old way and preflight side by side in containers, on a real Docker
 * engine and the project's Compose stack: the example backend image started
 * by bench/old-entrypoint/entrypoint.sh (sh + nc + wget, rebuilt from SPEC's
 * description of the old script) against the same app started by preflight
 * (the project's Dockerfile, source form). Measures the time from `up` to a
 * healthy backend, `docker stop` during the database wait, three replicas
 * racing for the migration, and the image sizes; then writes the section
 * "In containers" of BENCHMARKS.md (the rest of the file is left alone, and
 * `deno task bench` keeps this section).
 */
import {
  assertPortsFree,
  buildkitClient,
  type Compose,
  compose,
  containersOf,
  detectCompose,
  imageSize,
  inspect,
  logsOf,
  must,
  mustCompose,
  mustDocker,
  prepareStack,
  removeContainers,
  ROOT,
  run,
  sleep,
  waitFor,
  waitHealthy,
  watchEvents,
  WORK,
} from "../e2e/lib.ts";
import { CONTAINERS_MARKER } from "./containers_section.ts";

const trialsAt = Deno.args.indexOf("--trials");
const TRIALS = trialsAt >= 0 ? Number(Deno.args[trialsAt + 1]) : 3;
const STACK = `${WORK}/bench-stack`;
const IMAGES = {
  old: "preflight-bench/backend:old-entrypoint",
  preflight: "preflight-bench/backend:preflight",
} as const;
type Kind = keyof typeof IMAGES;
const KINDS: Kind[] = ["old", "preflight"];
const LABEL: Record<Kind, string> = {
  old: "old entrypoint.sh (sh + nc)",
  preflight: "preflight (source form)",
};

const log = (s: string) => console.error(s);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const secs = (ms: number) => (ms / 1000).toFixed(1);
const range = (xs: number[]) =>
  `${secs(Math.min(...xs))}..${secs(Math.max(...xs))}`;
const count = (text: string, re: RegExp) =>
  (text.match(new RegExp(re.source, "g")) ?? []).length;

// ---------------------------------------------------------------------------
// Setup

const tStart = performance.now();
log(
  (await must(["bash", `${ROOT}/scripts/docker-engine.sh`, "start"])).stderr
    .trim(),
);
{
  const r = await run(["bash", `${ROOT}/scripts/standin-images.sh`], {
    timeoutMs: 1_200_000,
  });
  log(r.stderr.trim());
  if (r.code !== 0) throw new Error("stand-in images could not be built");
}
const composeText = await Deno.readTextFile(`${ROOT}/docker-compose.yml`);
const scaleText = composeText.replace(
  /(\n {2}backend:\n(?: {4}.*\n|\n)*?) {4}ports:\n {6}- "127\.0\.0\.1:8000:8000"\n/,
  "$1",
);
const override = (kind: Kind) =>
  [
    "# bench/containers.ts: the backend from a prebuilt image",
    "services:",
    "  backend:",
    `    image: ${IMAGES[kind]}`,
    ...(kind === "old"
      ? [
        "    healthcheck:",
        '      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1"]',
      ]
      : []),
    "",
  ].join("\n");
await prepareStack(STACK, {
  "docker-compose.scale.yml": scaleText,
  "bench.old.yml": override("old"),
  "bench.preflight.yml": override("preflight"),
});

// The two images: the project's Dockerfile (source form, BuildKit), and the
// old way from its own small context.
{
  const client = await buildkitClient();
  if (!client) throw new Error("no docker client that builds with BuildKit");
  await must([
    client,
    "build",
    "-q",
    "--build-arg",
    "PREFLIGHT_FORM=source",
    "-t",
    IMAGES.preflight,
    STACK,
  ], {
    env: { ...Deno.env.toObject(), DOCKER_BUILDKIT: "1" },
    timeoutMs: 1_200_000,
  });
  const ctx = `${WORK}/old-entrypoint-context`;
  await Deno.remove(ctx, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${ctx}/examples`, { recursive: true });
  await must([
    "cp",
    "-a",
    `${ROOT}/examples/backend`,
    `${ctx}/examples/backend`,
  ]);
  await must([
    "cp",
    `${ROOT}/bench/old-entrypoint/entrypoint.sh`,
    `${ROOT}/bench/old-entrypoint/Dockerfile`,
    ctx,
  ]);
  await run([
    "find",
    ctx,
    "-name",
    "__pycache__",
    "-prune",
    "-exec",
    "rm",
    "-rf",
    "{}",
    "+",
  ]);
  await must(["docker", "build", "-q", "-t", IMAGES.old, ctx], {
    timeoutMs: 1_200_000,
  });
  log("images built");
}

const stacks: Record<Kind, Compose> = {
  old: await detectCompose(STACK, "pfbench-old", [
    "docker-compose.yml",
    "bench.old.yml",
  ]),
  preflight: await detectCompose(STACK, "pfbench-preflight", [
    "docker-compose.yml",
    "bench.preflight.yml",
  ]),
};
const scaled: Record<Kind, Compose> = {
  old: await detectCompose(STACK, "pfbench-old-scale", [
    "docker-compose.scale.yml",
    "bench.old.yml",
  ]),
  preflight: await detectCompose(STACK, "pfbench-preflight-scale", [
    "docker-compose.scale.yml",
    "bench.preflight.yml",
  ]),
};
const down = (c: Compose) =>
  compose(c, ["down", "-v", "--remove-orphans", "--timeout", "5"]);
for (const k of KINDS) {
  await down(stacks[k]);
  await down(scaled[k]);
}
assertPortsFree([5432, 6379, 8000, 8080]);

// ---------------------------------------------------------------------------
// 1. From `up` to a healthy backend

interface StartTrial {
  answeredMs: number;
  healthyMs: number;
}

async function startTrial(kind: Kind): Promise<StartTrial> {
  const c = stacks[kind];
  await down(c);
  const t0 = performance.now();
  const up = mustCompose(c, ["up", "-d", "--no-build", "backend"]);
  up.catch(() => {});
  let answeredMs = NaN;
  let healthyMs = NaN;
  const deadline = t0 + 240_000;
  while (
    performance.now() < deadline && (isNaN(answeredMs) || isNaN(healthyMs))
  ) {
    if (isNaN(answeredMs)) {
      try {
        const r = await fetch("http://127.0.0.1:8000/health", {
          signal: AbortSignal.timeout(1000),
        });
        await r.body?.cancel();
        if (r.status === 200) answeredMs = performance.now() - t0;
      } catch { /* not yet */ }
    }
    if (isNaN(healthyMs)) {
      const [id] = await containersOf(c.project, "backend");
      if (id && (await inspect(id)).State.Health?.Status === "healthy") {
        healthyMs = performance.now() - t0;
      }
    }
    await sleep(100);
  }
  await up;
  await down(c);
  if (isNaN(answeredMs) || isNaN(healthyMs)) {
    throw new Error(`${kind}: backend not healthy in 240s`);
  }
  return { answeredMs, healthyMs };
}

// ---------------------------------------------------------------------------
// 2. docker stop during the database wait

interface StopTrial {
  exitCode: number;
  killToDieMs: number;
  stopMs: number;
}

async function stopTrial(kind: Kind): Promise<StopTrial> {
  const name = `pfbench-stop-${kind}`;
  await removeContainers(name);
  // No network: nothing listens on 127.0.0.1:5432, no packet leaves.
  const id = (await mustDocker([
    "run",
    "-d",
    "--name",
    name,
    "--network",
    "none",
    "-e",
    "DB_HOST=127.0.0.1",
    IMAGES[kind],
  ])).stdout.trim();
  await waitFor(
    "the wait for Postgres",
    60_000,
    async () =>
      (await logsOf(id)).includes("Waiting for Postgres at 127.0.0.1:5432")
        ? true
        : undefined,
  );
  await sleep(1500); // well inside the wait
  const events = watchEvents(id);
  await sleep(500);
  const stop = await mustDocker(["stop", "-t", "10", id]);
  const kill = await events.next("kill", 20_000);
  const die = await events.next("die", 20_000);
  await events.stop();
  const exitCode = (await inspect(id)).State.ExitCode;
  await removeContainers(id);
  return {
    exitCode,
    killToDieMs: (die.timeNano - kill.timeNano) / 1e6,
    stopMs: stop.ms,
  };
}

// ---------------------------------------------------------------------------
// 3. Three replicas racing for the migration

interface ReplicaTrial {
  allHealthyMs: number;
  failedAttempts: number;
  applied: number;
  lockWaits: number;
}

async function replicaTrial(kind: Kind): Promise<ReplicaTrial> {
  const c = scaled[kind];
  await down(c);
  const t0 = performance.now();
  await mustCompose(c, [
    "up",
    "-d",
    "--no-build",
    "--scale",
    "backend=3",
    "backend",
  ]);
  await waitHealthy(c, 300_000, ["backend"]);
  const allHealthyMs = performance.now() - t0;
  const logs = (await Promise.all(
    (await containersOf(c.project, "backend")).map((id) => logsOf(id)),
  ))
    .join("\n");
  await down(c);
  return {
    allHealthyMs,
    failedAttempts: count(logs, /✗ Alembic exited/),
    applied: count(logs, /Running upgrade\s+->\s+0001/),
    lockWaits: count(logs, /Waiting for the migration lock held by/),
  };
}

// ---------------------------------------------------------------------------

const starts: Record<Kind, StartTrial[]> = { old: [], preflight: [] };
const stops: Record<Kind, StopTrial[]> = { old: [], preflight: [] };
const replicas: Record<Kind, ReplicaTrial[]> = { old: [], preflight: [] };
for (let i = 0; i < TRIALS; i++) {
  for (const k of KINDS) {
    const s = await startTrial(k);
    starts[k].push(s);
    log(
      `start ${k} #${i + 1}: answers ${secs(s.answeredMs)}s, healthy ${
        secs(s.healthyMs)
      }s`,
    );
  }
}
for (let i = 0; i < Math.min(TRIALS, 2); i++) {
  for (const k of KINDS) {
    const s = await stopTrial(k);
    stops[k].push(s);
    log(
      `stop ${k} #${i + 1}: exit ${s.exitCode}, kill→die ${
        s.killToDieMs.toFixed(0)
      } ms`,
    );
  }
}
for (let i = 0; i < Math.min(TRIALS, 2); i++) {
  for (const k of KINDS) {
    const r = await replicaTrial(k);
    replicas[k].push(r);
    log(`replicas ${k} #${i + 1}: ${JSON.stringify(r)}`);
  }
}
const base = "python:3.12-slim";
const sizes = {
  base: await imageSize(base),
  old: await imageSize(IMAGES.old),
  preflight: await imageSize(IMAGES.preflight),
};

// ---------------------------------------------------------------------------
// Report

const mb = (b: number) => (b / 1e6).toFixed(0);
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
const engine =
  (await must(["docker", "version", "--format", "{{.Server.Version}}"])).stdout
    .trim();
const c0 = stacks.old;

const md = [
  CONTAINERS_MARKER,
  "",
  "## In containers",
  "",
  `> Generated by \`deno task bench:containers\` (bench/containers.ts) on ${
    new Date().toISOString().replace(/\.\d+Z$/, "Z")
  }; \`deno task bench\` keeps this section as it is.`,
  "",
  `The example backend on the project's Compose stack (docker-compose.yml; PostgreSQL, Redis) on a real Docker engine (${engine}, ${
    c0.argv.join(" ")
  } ${c0.version}), started two ways from the same base image, requirements and app: by a faithful copy of the old \`entrypoint.sh\` (bench/old-entrypoint: \`nc -z\` once a second, 6 Alembic attempts 2-32 s apart, uvicorn; wget health check), and by preflight (the project's Dockerfile, \`preflight probe\` health check).`,
  "",
  'Caveats: no image can be pulled here, so the base images are local stand-ins built from Debian bookworm (scripts/standin-images.sh: Python 3.11 and Debian\'s packages for python:3.12-slim, Debian\'s PostgreSQL 15 and Redis 7); sizes differ from the upstream images. preflight is the *source* form (Deno, the cached sources and a launcher running `deno run`), because `deno compile` cannot download its runtime here; the shipped binary form was not measured. Docker runs a health check every `interval` (10 s for the backend, 5 s for PostgreSQL), so "healthy" moves in those steps; "answers" polls the backend\'s /health from the host every 100 ms.',
  "",
  `### Time from \`up\` to a healthy backend (${TRIALS} trials each, fresh volumes)`,
  "",
  table(
    [
      "backend",
      "up → /health answers 200, median s (min..max)",
      'up → Docker "healthy", median s (min..max)',
    ],
    KINDS.map((k) => [
      LABEL[k],
      `${secs(median(starts[k].map((s) => s.answeredMs)))} (${
        range(starts[k].map((s) => s.answeredMs))
      })`,
      `${secs(median(starts[k].map((s) => s.healthyMs)))} (${
        range(starts[k].map((s) => s.healthyMs))
      })`,
    ]),
  ),
  "",
  "Compose starts the backend only once PostgreSQL and Redis are healthy (`depends_on: service_healthy`), so neither waiter finds the database down here; the difference is the start path itself (sh and one `nc` against Deno starting preflight, its pg_isready-level check and the advisory lock) and the health-check cadence.",
  "",
  `### \`docker stop\` during the database wait (${stops.old.length} trials each)`,
  "",
  table(
    [
      "backend",
      "exit codes",
      "kill → die (docker events), median ms",
      "`docker stop` took, median s",
    ],
    KINDS.map((k) => [
      LABEL[k],
      [...new Set(stops[k].map((s) => s.exitCode))].join(", "),
      median(stops[k].map((s) => s.killToDieMs)).toFixed(0),
      secs(median(stops[k].map((s) => s.stopMs))),
    ]),
  ),
  "",
  "The container has no network and DB_HOST=127.0.0.1, so the wait never ends by itself. The old script's `sh` is PID 1 and has no SIGTERM handler, so the kernel drops the signal: Docker waits the whole grace period (10 s) and kills (137). preflight exits 143 at once.",
  "",
  `### Three replicas racing for the migration (${replicas.old.length} rounds each, fresh database)`,
  "",
  table(
    [
      "backend",
      "failed migration attempts per round",
      "revision 0001 applied (times) per round",
      "replicas that waited for the lock",
      "all 3 healthy after, median s",
    ],
    KINDS.map((k) => [
      LABEL[k],
      replicas[k].map((r) => r.failedAttempts).join(", "),
      replicas[k].map((r) => r.applied).join(", "),
      replicas[k].map((r) => r.lockWaits).join(", "),
      secs(median(replicas[k].map((r) => r.allHealthyMs))),
    ]),
  ),
  "",
  "`docker-compose up --scale backend=3` starts the three together. Without a lock the old script's replicas run `alembic upgrade head` at the same time; a loser fails (duplicate table or version row) and retries 2 s later. preflight's replicas take a PostgreSQL advisory lock: one migrates, the others wait (logging who holds it), then find the schema current.",
  "",
  "### Image sizes",
  "",
  table(
    ["image", "size MB", "over the base image MB"],
    [
      [`base: ${base} (stand-in)`, mb(sizes.base), "0"],
      [
        LABEL.old + ": netcat-openbsd, wget, entrypoint.sh",
        mb(sizes.old),
        mb(sizes.old - sizes.base),
      ],
      [
        LABEL.preflight + ": Deno, sources, cache",
        mb(sizes.preflight),
        mb(sizes.preflight - sizes.base),
      ],
    ],
  ),
  "",
  "Both images hold the same app and Python packages (Debian's, already in the stand-in base). The source form carries the Deno runtime; the binary form (what ships) would carry one `deno compile` executable instead, not measured here.",
  "",
  `Total time of this run: ${secs(performance.now() - tStart)} s.`,
  "",
].join("\n");

const path = `${ROOT}/BENCHMARKS.md`;
const old = await Deno.readTextFile(path);
const at = old.indexOf(CONTAINERS_MARKER);
await Deno.writeTextFile(
  path,
  (at >= 0 ? old.slice(0, at) : old.trimEnd() + "\n\n") + md,
);
await must([Deno.execPath(), "fmt", "--quiet", path]);
log(`Wrote the section "In containers" of ${path}`);
