/**
 * The waiting tools compared: preflight, the old entrypoint's `nc -z` loop,
 * Debian's `wait-for-it` and npm's `wait-on`. Each waits for one TCP port
 * (preflight for a PostgreSQL target) and then runs a command.
 */
import {
  cleanEnv,
  PREFLIGHT_DISPLAY,
  preflightRun,
  runCapture,
  shJoin,
  shQuote,
} from "./proc.ts";

/** One waiting tool. */
export interface Waiter {
  readonly name: string;
  /** The command line that waits for `port` and then runs `cmd`. */
  argv(port: number, cmd: readonly string[]): string[];
  /** The same, as shown in the report, with PORT and CMD placeholders. */
  readonly display: string;
  /**
   * When the tool logged that the target was ready (wall-clock ms), from
   * its standard error; only preflight says so with a timestamp.
   */
  detectedAt?(stderr: string): number | undefined;
}

const PROJECT = new URL("..", import.meta.url).pathname;

/**
 * `preflight wait [--log-format json] TARGET -- CMD` (as {@linkcode preflightRun}
 * runs it), target built by `scheme`; with `login`, a user and password. JSON logs carry a timestamp, which splits the latency
 * into detection and hand-over.
 */
export function preflightWaiter(
  scheme: "postgres" | "tcp",
  jsonLog = false,
  login = false,
): Waiter {
  const log = jsonLog ? ["--log-format", "json"] : [];
  // The test clusters trust every login: the password is not checked.
  const user = login ? "postgres:secret@" : "";
  const db = login ? "/postgres" : "";
  return {
    name: login ? "preflight (login)" : "preflight",
    argv: (port, cmd) => [
      ...preflightRun(),
      "wait",
      ...log,
      `${scheme}://${user}127.0.0.1:${port}${db}`,
      "--",
      ...cmd,
    ],
    display: [
      `${PREFLIGHT_DISPLAY} wait`,
      ...log,
      `${scheme}://${user.replace("secret", "***")}127.0.0.1:PORT${db} -- CMD`,
    ].join(" "),
    detectedAt: jsonLog ? readyLogTime : undefined,
  };
}

/** The `ts` of preflight's JSON "✓ TARGET is ready" line. */
export function readyLogTime(stderr: string): number | undefined {
  for (const line of stderr.split("\n")) {
    try {
      const rec = JSON.parse(line);
      if (/ is ready\b/.test(rec.msg ?? "")) return Date.parse(rec.ts);
    } catch { /* not a JSON line */ }
  }
  return undefined;
}

/** The old entrypoint.sh loop: `nc -z` once a second. */
export const ncLoop: Waiter = {
  name: "nc loop",
  argv: (port, cmd) => [
    "sh",
    "-c",
    `until nc -z 127.0.0.1 ${port}; do sleep 1; done; ${shJoin(cmd)}`,
  ],
  display: "sh -c 'until nc -z 127.0.0.1 PORT; do sleep 1; done; CMD'",
};

/** Debian's `wait-for-it` (bash, 1 s polling). */
export const waitForIt: Waiter = {
  name: "wait-for-it",
  argv: (port, cmd) => [
    "wait-for-it",
    `127.0.0.1:${port}`,
    "-t",
    "60",
    "--",
    ...cmd,
  ],
  display: "wait-for-it 127.0.0.1:PORT -t 60 -- CMD",
};

/** npm's `wait-on` (Node, default 250 ms interval), installed at `bin`. */
export function waitOn(bin: string): Waiter {
  return {
    name: "wait-on",
    argv: (port, cmd) => [
      "sh",
      "-c",
      `${shQuote(bin)} -t 60000 tcp:127.0.0.1:${port} && ${shJoin(cmd)}`,
    ],
    display: "sh -c 'wait-on -t 60000 tcp:127.0.0.1:PORT && CMD'",
  };
}

/**
 * Installs wait-on@8 once into .tmp/bench/ (git-ignored) and returns its
 * executable and version, or the reason it could not be installed.
 */
export async function installWaitOn(): Promise<
  { bin: string; version: string } | { error: string }
> {
  const dir = `${PROJECT}.tmp/bench/wait-on`;
  const bin = `${dir}/node_modules/.bin/wait-on`;
  const pkg = `${dir}/node_modules/wait-on/package.json`;
  const installed = async () => {
    try {
      const { version } = JSON.parse(await Deno.readTextFile(pkg));
      await Deno.stat(bin);
      return String(version);
    } catch {
      return undefined;
    }
  };
  let version = await installed();
  if (version?.startsWith("8.")) return { bin, version };
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/package.json`,
    '{ "private": true }\n',
  );
  const out = await runCapture(
    [
      "npm",
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "wait-on@8",
    ],
    { env: cleanEnv(), cwd: dir, timeoutMs: 180_000 },
  ).catch((e) => ({
    code: -1,
    stdout: "",
    stderr: String(e),
    timedOut: false,
  }));
  version = await installed();
  if (out.code !== 0 || !version) {
    return {
      error: `npm install wait-on@8 failed (code ${out.code}): ${
        (out.stderr || out.stdout).trim().split("\n").slice(-3).join(" ")
      }`,
    };
  }
  return { bin, version };
}
