/**
 * A small wrapper of the `docker` CLI for `doctor` and `restart`: the
 * `docker compose` argv with `-f` and `--project-directory`, every call
 * bounded by a timeout (the child is killed when it runs out), and the JSON
 * outputs parsed. Nothing here talks to the Docker API directly, so it works
 * wherever `docker compose` works: Linux, macOS and Windows, local or remote
 * engines (DOCKER_HOST, contexts).
 */
import { formatDuration } from "../config/duration.ts";
import { scrub } from "../redact.ts";
import { type ComposeContainer, parseComposePs } from "./parse_ps.ts";
import { type ContainerState, parseInspect } from "./parse_inspect.ts";

/** How to reach one Compose project. */
export interface ComposeOptions {
  /** `-f FILE` for each (Compose's own lookup when empty). */
  readonly files: readonly string[];
  /** `--project-directory DIR`. */
  readonly projectDirectory?: string;
  /** Environment of the `docker` process (default: inherited). */
  readonly env?: Readonly<Record<string, string>>;
  /** The executable, default `docker` (found on PATH; `docker.exe` on Windows). */
  readonly docker?: string;
}

/** What one `docker` run printed. */
export interface DockerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** There is no usable `docker compose`: the CLI is missing or has no compose plugin. */
export class ComposeUnavailableError extends Error {
  override name = "ComposeUnavailableError";
}

/** A `docker` command failed (non-zero exit, timeout, unreadable output). */
class DockerCommandError extends Error {
  override name = "DockerCommandError";
}

/** The argv after `docker` for `docker compose [-f F]... [--project-directory D] ARGS`. */
export function composeArgv(
  opts: ComposeOptions,
  args: readonly string[],
): string[] {
  const out = ["compose"];
  for (const f of opts.files) out.push("-f", f);
  if (opts.projectDirectory !== undefined) {
    out.push("--project-directory", opts.projectDirectory);
  }
  return [...out, ...args];
}

/** The first non-empty line of a command's error output, scrubbed. */
function firstLine(text: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "");
  return scrub(line ?? "");
}

/**
 * Runs `docker ARGS`, killing it when `timeoutMs` passes or `signal` aborts.
 * Throws {@linkcode ComposeUnavailableError} when the executable is missing,
 * {@linkcode DockerCommandError} on a timeout; a non-zero exit is returned.
 */
async function runDocker(
  opts: ComposeOptions,
  args: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DockerResult> {
  const docker = opts.docker ?? "docker";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(docker, {
      args: [...args],
      env: opts.env ? { ...opts.env } : undefined,
      clearEnv: opts.env !== undefined,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ComposeUnavailableError(`'${docker}' was not found on PATH`, {
        cause: e,
      });
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new ComposeUnavailableError(
        `'${docker}' cannot be run (permission denied)`,
        { cause: e },
      );
    }
    throw new ComposeUnavailableError(
      `'${docker}' cannot be run: ${(e as Error).message.split("\n")[0]}`,
      { cause: e },
    );
  }
  let expired: "timeout" | "aborted" | undefined;
  const timers: ReturnType<typeof setTimeout>[] = [];
  let abandon!: () => void;
  const abandoned = new Promise<undefined>((resolve) => {
    abandon = () => resolve(undefined);
  });
  const send = (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch { /* already exited */ }
  };
  const kill = (why: "timeout" | "aborted") => {
    if (expired) return;
    expired = why;
    // Windows has no SIGTERM in older Deno releases; SIGKILL is
    // TerminateProcess there.
    send(Deno.build.os === "windows" ? "SIGKILL" : "SIGTERM");
    // A child that ignores SIGTERM, or a plugin process left holding the
    // pipes, must not hang the caller: escalate, then stop waiting.
    timers.push(setTimeout(() => send("SIGKILL"), 2000));
    timers.push(setTimeout(abandon, 3000));
  };
  timers.push(setTimeout(() => kill("timeout"), Math.max(0, timeoutMs)));
  const onAbort = () => kill("aborted");
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const output = child.output();
  output.catch(() => {});
  try {
    const out = await Promise.race([output, abandoned]);
    if (expired || out === undefined) {
      throw new DockerCommandError(
        `docker ${shortArgs(args)} ${
          expired === "aborted"
            ? "was aborted"
            : `did not finish within ${formatDuration(timeoutMs)}`
        }`,
      );
    }
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** `compose ps` for messages: the subcommand without -f/--project-directory. */
function shortArgs(args: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-f" || args[i] === "--project-directory") i++;
    else out.push(args[i]);
  }
  return out.slice(0, 3).join(" ");
}

/**
 * Which Compose a `ComposeOptions` reaches: the v2 plugin (`docker compose`)
 * or, where only it is installed (Debian 12), the v1 `docker-compose`
 * executable. Found once per options object by {@linkcode composeVersion}.
 */
const composeFlavor = new WeakMap<ComposeOptions, "v2" | "v1">();

/** The `docker-compose` (v1) executable beside `opts.docker`. */
function composeV1(opts: ComposeOptions): ComposeOptions {
  const docker = opts.docker ?? "docker";
  return {
    ...opts,
    docker: docker.replace(/docker(\.exe)?$/i, "docker-compose$1"),
  };
}

/** Runs `docker compose ARGS`, or `docker-compose ARGS` where only v1 exists. */
async function runCompose(
  opts: ComposeOptions,
  args: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DockerResult> {
  if (!composeFlavor.has(opts)) {
    await composeVersion(opts, timeoutMs, signal);
  }
  if (composeFlavor.get(opts) === "v1") {
    return await runDocker(
      composeV1(opts),
      composeArgv(opts, args).slice(1),
      timeoutMs,
      signal,
    );
  }
  return await runDocker(opts, composeArgv(opts, args), timeoutMs, signal);
}

/** Runs a compose subcommand and fails on a non-zero exit. */
async function compose(
  opts: ComposeOptions,
  args: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DockerResult> {
  const res = await runCompose(opts, args, timeoutMs, signal);
  if (res.code !== 0) {
    throw new DockerCommandError(
      `docker compose ${args[0]} failed (exit ${res.code})${
        firstLine(res.stderr) ? `: ${firstLine(res.stderr)}` : ""
      }`,
    );
  }
  return res;
}

/**
 * The Compose version (from `docker compose version`, else from the v1
 * `docker-compose version --short`, then marked "docker-compose v1"), or
 * {@linkcode ComposeUnavailableError} with the reason: no `docker` on PATH,
 * no compose plugin (and no docker-compose), or no answer in time.
 */
export async function composeVersion(
  opts: ComposeOptions,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  let res: DockerResult;
  try {
    res = await runDocker(opts, ["compose", "version"], timeoutMs, signal);
  } catch (e) {
    if (e instanceof ComposeUnavailableError) throw e;
    throw new ComposeUnavailableError((e as Error).message, { cause: e });
  }
  if (res.code !== 0) {
    const why = firstLine(res.stderr) || firstLine(res.stdout) ||
      `docker compose version exited with code ${res.code}`;
    const v1 = await composeV1Version(opts, timeoutMs, signal);
    if (v1 === undefined) throw new ComposeUnavailableError(why);
    composeFlavor.set(opts, "v1");
    return `${v1} (docker-compose v1)`;
  }
  composeFlavor.set(opts, "v2");
  return firstLine(res.stdout).replace(/^Docker Compose version\s+/i, "");
}

/** `docker-compose version --short`, or undefined when it cannot be run. */
async function composeV1Version(
  opts: ComposeOptions,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const res = await runDocker(
      composeV1(opts),
      ["version", "--short"],
      timeoutMs,
      signal,
    );
    const version = firstLine(res.stdout);
    return res.code === 0 && /^\d+\.\d+/.test(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The project's containers (stopped ones included), optionally of one service. */
export async function listContainers(
  opts: ComposeOptions,
  service: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ComposeContainer[]> {
  if (!composeFlavor.has(opts)) {
    await composeVersion(opts, timeoutMs, signal);
  }
  if (composeFlavor.get(opts) === "v1") {
    return await listContainersV1(opts, service, timeoutMs, signal);
  }
  const args = ["ps", "--all", "--format", "json"];
  if (service !== undefined) args.push(service);
  const res = await compose(opts, args, timeoutMs, signal);
  try {
    return parseComposePs(res.stdout);
  } catch (e) {
    throw new DockerCommandError((e as Error).message, { cause: e });
  }
}

/**
 * The same list from Compose v1, which has no `ps --format json`: the IDs
 * from `docker-compose ps --all -q`, then each container's name, service
 * label, state and health from `docker inspect`.
 */
async function listContainersV1(
  opts: ComposeOptions,
  service: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ComposeContainer[]> {
  const args = ["ps", "--all", "-q"];
  if (service !== undefined) args.push(service);
  const res = await compose(opts, args, timeoutMs, signal);
  const ids = res.stdout.split(/\s+/).filter((id) => id !== "");
  if (ids.length === 0) return [];
  const inspected = await runDocker(
    opts,
    ["inspect", "--type", "container", ...ids],
    timeoutMs,
    signal,
  );
  if (inspected.code !== 0) {
    throw new DockerCommandError(
      `docker inspect failed (exit ${inspected.code})${
        firstLine(inspected.stderr) ? `: ${firstLine(inspected.stderr)}` : ""
      }`,
    );
  }
  try {
    const states = parseInspect(inspected.stdout);
    const raw = JSON.parse(inspected.stdout) as {
      Config?: { Labels?: Record<string, string> | null };
    }[];
    return states.map((s, i) => {
      // A stopped container keeps its last health status; v2 shows none.
      const health = s.status === "running" ? s.health?.status ?? "" : "";
      return {
        id: s.id,
        name: s.name,
        service: raw[i]?.Config?.Labels?.["com.docker.compose.service"] ?? "",
        state: s.status,
        health,
        status: humanStatus(s.status, health, s.exitCode, s.startedMs),
        exitCode: s.exitCode,
      };
    });
  } catch (e) {
    throw new DockerCommandError((e as Error).message, { cause: e });
  }
}

/** `docker inspect` of containers by ID or name. */
export async function inspectContainers(
  opts: ComposeOptions,
  ids: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ContainerState[]> {
  if (ids.length === 0) return [];
  const res = await runDocker(
    opts,
    ["inspect", "--type", "container", ...ids],
    timeoutMs,
    signal,
  );
  if (res.code !== 0) {
    throw new DockerCommandError(
      `docker inspect failed (exit ${res.code})${
        firstLine(res.stderr) ? `: ${firstLine(res.stderr)}` : ""
      }`,
    );
  }
  try {
    return parseInspect(res.stdout);
  } catch (e) {
    throw new DockerCommandError((e as Error).message, { cause: e });
  }
}

/** `docker compose restart SERVICE`; returns what it printed. */
export async function restartService(
  opts: ComposeOptions,
  service: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DockerResult> {
  return await compose(opts, ["restart", service], timeoutMs, signal);
}

/** The service's log lines since `since` (RFC 3339, daemon clock), the last `tail` of them. */
export async function serviceLogs(
  opts: ComposeOptions,
  service: string,
  since: string,
  tail: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  if (!composeFlavor.has(opts)) {
    await composeVersion(opts, timeoutMs, signal);
  }
  if (composeFlavor.get(opts) === "v1") {
    // v1's `logs` has no --since: each container's own `docker logs`,
    // prefixed with its name as Compose does. Its stdout and stderr both
    // hold log lines; their timestamps put them back in order.
    const out: { at: string; line: string }[] = [];
    for (const c of await listContainersV1(opts, service, timeoutMs, signal)) {
      const res = await runDocker(
        opts,
        [
          "logs",
          "--timestamps",
          "--since",
          since,
          "--tail",
          String(tail),
          c.id,
        ],
        timeoutMs,
        signal,
      );
      for (const text of [res.stdout, res.stderr]) {
        for (const l of text.split(/\r?\n/)) {
          const m = /^(\S+) (.*)$/.exec(l);
          if (m) {
            out.push({ at: sortableTime(m[1]), line: `${c.name}  | ${m[2]}` });
          }
        }
      }
    }
    out.sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
    return out.map((o) => o.line + "\n").join("");
  }
  const res = await compose(
    opts,
    ["logs", "--no-color", "--since", since, "--tail", String(tail), service],
    timeoutMs,
    signal,
  );
  // The lines are on stdout; stderr holds Compose's own warnings.
  return res.stdout;
}

/** An RFC 3339 time with its fraction padded to 9 digits, so that text order is time order. */
function sortableTime(ts: string): string {
  return ts.replace(
    /(\d\d:\d\d:\d\d)(?:\.(\d+))?/,
    (_, hms: string, frac = "") => `${hms}.${frac.padEnd(9, "0")}`,
  );
}

/** Docker's human status ("Up 3 minutes (healthy)", "Exited (1)"), which v1 does not print as JSON. */
function humanStatus(
  state: string,
  health: string,
  exitCode: number,
  startedMs: number,
): string {
  if (state === "running") {
    const s = Math.max(0, Math.round((Date.now() - startedMs) / 1000));
    const up = s < 60
      ? `${s} seconds`
      : s < 3600
      ? `${Math.round(s / 60)} minutes`
      : `${Math.round(s / 3600)} hours`;
    return `Up ${up}${health ? ` (${health})` : ""}`;
  }
  if (state === "exited" || state === "restarting") {
    return `${state[0].toUpperCase()}${state.slice(1)} (${exitCode})`;
  }
  return state ? `${state[0].toUpperCase()}${state.slice(1)}` : "";
}
