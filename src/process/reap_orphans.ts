/**
 * Reaping orphaned zombies, the duty of PID 1: processes the app left behind
 * are re-parented to us when their parent exits, and nobody else will ever
 * wait for them. Only pids that Deno does not track are waited for, by pid,
 * because a blanket `waitpid(-1)` would steal the exit status of a
 * `Deno.Command` child (its `status` then rejects with ECHILD).
 */
import { L, type Libc, libc } from "./_libc.ts";

/** Our child pids, from `/proc/self/task/TID/children` or else a `/proc` scan. */
function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      const text = Deno.readTextFileSync(
        `/proc/self/task/${task.name}/children`,
      );
      for (const p of text.split(" ")) if (p.trim()) pids.push(Number(p));
    }
    return pids;
  } catch {
    // Kernel without CONFIG_PROC_CHILDREN: find children by their parent.
  }
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // The command name may contain spaces and parentheses: parse after ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === Deno.pid) pids.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * Waits (without blocking) for every child that is not in `tracked`;
 * returns how many zombies were reaped. A live child is left alone.
 */
export function reapOrphans(
  tracked: ReadonlySet<number>,
  c: Libc | null = libc(),
): number {
  if (!c) return 0;
  const status = new Int32Array(1);
  let reaped = 0;
  for (const pid of childPids()) {
    if (tracked.has(pid)) continue;
    if (c.waitpid(pid, status, L.WNOHANG) === pid) reaped++;
  }
  return reaped;
}
