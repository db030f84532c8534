/**
 * Starting a child with inherited stdio: the app when supervised, the
 * migration command. On Linux (glibc) through `posix_spawn`, so arguments
 * and environment reach it byte for byte and it may lead a process group of
 * its own; elsewhere through `Deno.Command`.
 */
import { SpawnError } from "../errors.ts";
import { L, type Libc, libc, SIGNAL_NUMBERS } from "./_libc.ts";
import { posixSpawn } from "./_posix_spawn.ts";
import { argvBytes, environBytes } from "./raw_process.ts";
import { resolveCommand } from "./resolve_command.ts";
import { delay } from "../time/delay.ts";

/** How to start a child. */
export interface SpawnOptions {
  /**
   * Start it as the leader of a new process group: {@linkcode Child.kill}
   * then signals the whole group (a wrapper script and what it started),
   * and {@linkcode Child.allExited} waits for every process of it.
   */
  readonly processGroup?: boolean;
}

/** A running child. */
export interface Child {
  readonly pid: number;
  /** Resolves with the exit code, 128+N when signal N killed it. */
  readonly status: Promise<number>;
  /** Sends a signal to the child, or to its process group when it leads one; never throws. */
  kill(signal: Deno.Signal): void;
  /** Whether a process of the child's group (the child included) is still there. */
  groupAlive(): boolean;
  /**
   * Resolves once the child has exited and, when it leads a process group,
   * no process of the group is left. Where that cannot be observed (no FFI),
   * when the child has exited.
   */
  allExited(): Promise<void>;
}

/** Groups started and not yet seen empty: preflight is a subreaper while any is. */
let openGroups = 0;

/**
 * As a child subreaper, orphans of the migration's processes (a wrapper
 * exits, its migrator runs on) are re-parented to preflight rather than to
 * PID 1, which may never reap them; preflight reaps them, so a dead group
 * is seen as gone rather than as zombies.
 */
function setSubreaper(c: Libc, on: boolean): void {
  c.prctl(L.PR_SET_CHILD_SUBREAPER, on ? 1n : 0n, 0n, 0n, 0n);
}

/** Spawns with posix_spawn: Linux with glibc and FFI allowed. */
function spawnPosix(
  c: Libc,
  argv: readonly string[],
  path: string,
  env: Record<string, string>,
  group: boolean,
): Child {
  if (group && openGroups++ === 0) setSubreaper(c, true);
  let spawned;
  try {
    spawned = posixSpawn(
      c,
      argv[0],
      path,
      argvBytes(argv),
      environBytes(env),
      group,
    );
  } catch (e) {
    if (group && --openGroups === 0) setSubreaper(c, false);
    throw e;
  }
  const { pid, status } = spawned;
  let exited = false;
  status.then(() => exited = true, () => exited = true);
  // kill(-pgid, 0): ESRCH once no process has that group. EPERM means one
  // exists that we may not signal (it changed its user): still there.
  const groupAlive = () => {
    if (!group) return !exited;
    if (!exited) return true;
    // The group's zombies that are ours (the child's orphans, re-parented
    // to us as subreaper) would count as alive: reap them first, by group,
    // now that the child's own status is in.
    const st = new Int32Array(1);
    while (c.waitpid(-pid, st, L.WNOHANG) > 0) { /* reaped one */ }
    return c.kill(-pid, 0) === 0 || errnoIsEperm(c);
  };
  let done: Promise<void> | undefined;
  return {
    pid,
    status,
    kill(signal) {
      const n = SIGNAL_NUMBERS[signal];
      if (n === undefined) return;
      if (group) c.kill(-pid, n);
      else if (!exited) c.kill(pid, n);
    },
    groupAlive,
    allExited() {
      done ??= (async () => {
        await status.catch(() => {});
        // Poll: a group has no exit event. Quickly at first (most groups end
        // with their leader), then every 100 ms.
        for (let wait = 10; groupAlive(); wait = Math.min(100, wait * 2)) {
          await delay(wait);
        }
        if (group && --openGroups === 0) setSubreaper(c, false);
      })();
      return done;
    },
  };
}

function errnoIsEperm(c: Libc): boolean {
  const p = c.__errno_location();
  return p !== null && new Deno.UnsafePointerView(p).getInt32() === L.EPERM;
}

/** Spawns with Deno.Command: no FFI, or not Linux. */
function spawnDeno(
  argv: readonly string[],
  path: string,
  env: Record<string, string>,
  group: boolean,
): Child {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
      // A new session, hence a new process group led by the child.
      detached: group && Deno.build.os !== "windows",
    }).spawn();
  } catch (e) {
    throw new SpawnError(
      `Cannot run '${argv[0]}': ${(e as Error).message}`,
      e instanceof Deno.errors.NotFound ? 127 : 126,
      { cause: e },
    );
  }
  // Deno reports 128+N for a child killed by signal N, as a shell does.
  const status = child.status.then((s) => s.code);
  let exited = false;
  status.then(() => exited = true, () => exited = true);
  const useGroup = group && Deno.build.os !== "windows";
  return {
    pid: child.pid,
    status,
    kill(signal) {
      try {
        if (useGroup) Deno.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already exited: its status is about to resolve.
      }
    },
    groupAlive: () => !exited,
    allExited: () => status.then(() => {}, () => {}),
  };
}

/**
 * Spawns `argv` with exactly `env`, stdio inherited. Throws SpawnError 127
 * (not found) or 126 (not executable, exec format error), as a shell would;
 * a file that is neither a binary nor a `#!` script runs with `/bin/sh`.
 */
export function spawnChild(
  argv: readonly string[],
  env: Record<string, string>,
  opts: SpawnOptions = {},
): Child {
  const path = resolveCommand(argv[0] ?? "", env);
  const c = Deno.build.os === "linux" ? libc() : null;
  return c
    ? spawnPosix(c, argv, path, env, opts.processGroup ?? false)
    : spawnDeno(argv, path, env, opts.processGroup ?? false);
}
