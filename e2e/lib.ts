/**
 * Helpers of the end-to-end tests and the container benchmark: processes
 * with a deadline, the Docker CLI, Compose (the v2 plugin, else v1's
 * `docker-compose`), a BuildKit-capable builder, and a copy of the project's
 * stack files in a work directory (so the tests never write a .env into the
 * checkout). Everything here talks to a real Docker engine.
 */

export const ROOT = new URL("../", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
export const WORK = `${ROOT}/.tmp/e2e`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs argv to completion (killed at the deadline); never throws on a non-zero exit. */
export async function run(
  argv: string[],
  opts: RunOptions = {},
): Promise<Result> {
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 300_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      ms: performance.now() - t0,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Like {@linkcode run}, but a non-zero exit throws with the command's error output. */
export async function must(
  argv: string[],
  opts: RunOptions = {},
): Promise<Result> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new Error(
      `${argv.join(" ")} exited with ${r.code}: ${
        (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n")
      }`,
    );
  }
  return r;
}

export const docker = (args: string[], opts: RunOptions = {}) =>
  run(["docker", ...args], opts);
export const mustDocker = (args: string[], opts: RunOptions = {}) =>
  must(["docker", ...args], opts);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 500,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (true) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${
          last ? ` (last error: ${(last as Error).message})` : ""
        }`,
      );
    }
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Containers

export interface State {
  Status: string;
  Running: boolean;
  ExitCode: number;
  Pid: number;
  StartedAt: string;
  Health?: {
    Status: string;
    FailingStreak: number;
    Log: { ExitCode: number; Output: string; Start: string }[];
  };
}

export interface Inspect {
  Id: string;
  Name: string;
  RestartCount: number;
  State: State;
  Config: { Image: string; Labels: Record<string, string> | null };
  NetworkSettings: { Networks: Record<string, unknown> };
}

export async function inspect(id: string): Promise<Inspect> {
  const r = await mustDocker(["inspect", "--type", "container", id]);
  return (JSON.parse(r.stdout) as Inspect[])[0];
}

/** `healthy`, `unhealthy`, `starting`, or the state (`running`, `exited`...) without a health check. */
export async function healthOf(id: string): Promise<string> {
  const s = (await inspect(id)).State;
  if (!s.Running) return s.Status;
  return s.Health?.Status ?? s.Status;
}

/** IDs of a Compose project's containers (of one service when given). */
export async function containersOf(
  project: string,
  service?: string,
): Promise<string[]> {
  const args = [
    "ps",
    "-a",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${project}`,
  ];
  if (service) {
    args.push("--filter", `label=com.docker.compose.service=${service}`);
  }
  const r = await mustDocker(args);
  return r.stdout.split(/\s+/).filter(Boolean);
}

/** The container's log (stdout and stderr, in order as far as Docker keeps it). */
export async function logsOf(id: string, since?: string): Promise<string> {
  const args = ["logs"];
  if (since) args.push("--since", since);
  const r = await docker([...args, id]);
  return r.stdout + r.stderr;
}

/** Removes containers by name or ID, ignoring those that do not exist. */
export async function removeContainers(...ids: string[]) {
  if (ids.length) await docker(["rm", "-f", "-v", ...ids]);
}

export async function imageSize(image: string): Promise<number> {
  const r = await mustDocker([
    "image",
    "inspect",
    "--format",
    "{{.Size}}",
    image,
  ]);
  return Number(r.stdout.trim());
}

/**
 * `docker events` of one container from now on, collected in the
 * background; `stop()` ends the stream and returns the events.
 */
export function watchEvents(id: string) {
  const child = new Deno.Command("docker", {
    args: [
      "events",
      "--filter",
      `container=${id}`,
      "--format",
      "{{json .}}",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const events: {
    status: string;
    timeNano: number;
    attrs: Record<string, string>;
  }[] = [];
  const reading = (async () => {
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const e = JSON.parse(line);
          events.push({
            status: e.status ?? e.Action,
            timeNano: Number(e.timeNano),
            attrs: e.Actor?.Attributes ?? {},
          });
        } catch { /* not an event line */ }
      }
    }
  })();
  return {
    events,
    /** Resolves with the first event of that status (waits up to timeoutMs). */
    async next(status: string, timeoutMs: number) {
      return await waitFor(
        `a '${status}' event`,
        timeoutMs,
        () => Promise.resolve(events.find((e) => e.status === status)),
        50,
      );
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await reading.catch(() => {});
      await child.status;
      return events;
    },
  };
}

// ---------------------------------------------------------------------------
// Builder and Compose

/**
 * A `docker` client that builds with BuildKit, which skips the Dockerfile's
 * stages that the target does not need (the legacy builder builds them all,
 * so PREFLIGHT_FORM=source would still run `deno compile`). Either the client
 * with the buildx plugin, or a client older than 23 with BuildKit built in
 * (Debian 12's /usr/bin/docker). Undefined when there is none.
 */
export async function buildkitClient(): Promise<string | undefined> {
  const ok = async (argv: string[]) =>
    (await run(argv).catch(() => undefined))?.code === 0;
  if (await ok(["docker", "buildx", "version"])) return "docker";
  for (const client of ["docker", "/usr/bin/docker"]) {
    const r = await run([client, "version", "--format", "{{.Client.Version}}"])
      .catch(() => undefined);
    const major = Number(r?.stdout.trim().split(".")[0]);
    if (r?.code === 0 && major > 0 && major < 23) {
      return (await Deno.realPath(
        client.includes("/")
          ? client
          : (await must(["sh", "-c", `command -v ${client}`])).stdout.trim(),
      ));
    }
  }
  return undefined;
}

export interface Compose {
  /** `["docker", "compose"]` or `["docker-compose"]`. */
  argv: string[];
  version: string;
  /** Environment for every Compose call: project, files and the builder. */
  env: Record<string, string>;
  /** The directory holding the stack's files (the project directory). */
  dir: string;
  project: string;
}

/** Compose v2 when the plugin answers, else v1; the env makes both build with BuildKit. */
export async function detectCompose(
  dir: string,
  project: string,
  files: string[],
): Promise<Compose> {
  let argv = ["docker", "compose"];
  let v = await run([...argv, "version", "--short"]).catch(() => undefined);
  if (v?.code !== 0) {
    argv = ["docker-compose"];
    v = await run([...argv, "version", "--short"]).catch(() => undefined);
    if (v?.code !== 0) {
      throw new Error("neither 'docker compose' nor 'docker-compose' works");
    }
  }
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    COMPOSE_PROJECT_NAME: project,
    COMPOSE_FILE: files.join(":"),
    DOCKER_BUILDKIT: "1",
  };
  if (argv[0] === "docker-compose") {
    // v1 builds through the Docker API with the legacy builder unless told to
    // run `docker build`; that `docker` must be one that has BuildKit.
    const client = await buildkitClient();
    if (!client) {
      throw new Error(
        "no docker client that builds with BuildKit (buildx plugin, or a client older than 23)",
      );
    }
    const shim = `${WORK}/bin`;
    await Deno.mkdir(shim, { recursive: true });
    await Deno.remove(`${shim}/docker`).catch(() => {});
    await Deno.symlink(client, `${shim}/docker`);
    env.COMPOSE_DOCKER_CLI_BUILD = "1";
    env.PATH = `${shim}:${env.PATH ?? "/usr/bin:/bin"}`;
  }
  return {
    argv,
    version: v.stdout.trim(),
    env,
    dir,
    project,
  };
}

export function compose(c: Compose, args: string[], timeoutMs = 600_000) {
  return run([...c.argv, ...args], { env: c.env, cwd: c.dir, timeoutMs });
}

export function mustCompose(c: Compose, args: string[], timeoutMs = 600_000) {
  return must([...c.argv, ...args], { env: c.env, cwd: c.dir, timeoutMs });
}

/** Waits until every container of the project (of `services` when given) is healthy, or running without a health check. */
export async function waitHealthy(
  c: Compose,
  timeoutMs: number,
  services?: string[],
): Promise<Record<string, string>> {
  return await waitFor(
    `${services?.join(", ") ?? "every service"} of ${c.project} to be healthy`,
    timeoutMs,
    async () => {
      const ids = services
        ? (await Promise.all(services.map((s) => containersOf(c.project, s))))
          .flat()
        : await containersOf(c.project);
      if (ids.length === 0) return undefined;
      const states: Record<string, string> = {};
      for (const id of ids) {
        const i = await inspect(id);
        states[i.Name.replace(/^\//, "")] = i.State.Running
          ? i.State.Health?.Status ?? "running"
          : i.State.Status;
      }
      return Object.values(states).every((s) =>
          s === "healthy" || s === "running"
        )
        ? states
        : undefined;
    },
    1000,
  );
}

/**
 * A copy of the stack's files in `dir`: the compose file byte for byte, the
 * build context (Dockerfile, .dockerignore, deno.json, the locks, src/,
 * examples/backend/), frontend/, extra files, and a .env made from
 * .env.example with a random database password.
 */
export async function prepareStack(
  dir: string,
  extra: Record<string, string> = {},
) {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  for (
    const f of [
      "docker-compose.yml",
      "Dockerfile",
      ".dockerignore",
      "deno.json",
      "deno.lock",
      "deno.compile.lock",
      "src",
      "examples/backend",
      "frontend",
    ]
  ) {
    await Deno.mkdir(`${dir}/${f.split("/").slice(0, -1).join("/")}`, {
      recursive: true,
    });
    await must(["cp", "-a", `${ROOT}/${f}`, `${dir}/${f}`]);
  }
  // No Python caches or editor files from the checkout in the context.
  await run([
    "find",
    dir,
    "-name",
    "__pycache__",
    "-prune",
    "-exec",
    "rm",
    "-rf",
    "{}",
    "+",
  ]);
  const password = crypto.randomUUID().replaceAll("-", "");
  const env = (await Deno.readTextFile(`${ROOT}/.env.example`)).replace(
    /^POSTGRES_PASSWORD=.*$/m,
    `POSTGRES_PASSWORD=${password}`,
  );
  await Deno.writeTextFile(`${dir}/.env`, env);
  for (const [name, text] of Object.entries(extra)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return { password };
}

/** The host ports the stack publishes; a clear error when one is taken. */
export function assertPortsFree(ports: number[]) {
  const busy: number[] = [];
  for (const port of ports) {
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      l.close();
    } catch {
      busy.push(port);
    }
  }
  if (busy.length) {
    throw new Error(
      `host port(s) ${
        busy.join(", ")
      } on 127.0.0.1 are in use; the stack publishes them (stop what listens there)`,
    );
  }
}

/** `deno run` of this checkout's preflight on the host, with the compile task's permission flags. */
export async function preflightOnHost(
  args: string[],
  opts: RunOptions = {},
): Promise<Result> {
  const { compileFlags } = await import("../scripts/compile_all.ts");
  return await run(
    [Deno.execPath(), "run", ...compileFlags(), `${ROOT}/src/main.ts`, ...args],
    opts,
  );
}
