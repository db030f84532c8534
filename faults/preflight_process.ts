/**
 * One real preflight process for a fault row: `deno run` of src/main.ts with
 * the compile task's permissions (as the tests run it), optionally as PID 1
 * of a new PID namespace (`unshare --pid --fork --mount-proc`), as in a
 * container. Output is captured as it comes; every process has a hard limit
 * after which the harness kills it, so a hung product cannot hang the run.
 */
import { preflightArgv } from "../tests/_cli.ts";
import { mask } from "./secrets.ts";

/** How a preflight process ended. */
export interface ProcessExit {
  /** Exit status as the parent saw it (128+N when a signal N killed it). */
  readonly code: number;
  /** The signal that killed the process the harness started, if any. */
  readonly signal: Deno.Signal | null;
  /** Milliseconds from spawn to exit. */
  readonly ms: number;
  /** True when the harness had to kill it at its hard limit. */
  readonly killedByHarness: boolean;
}

/** How {@linkcode PreflightProcess} starts preflight. */
export interface LaunchOptions {
  /** Variables besides PATH, HOME and NO_COLOR=1 (the environment is cleared). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Run as PID 1 of a new PID namespace. */
  readonly pid1?: boolean;
  /** Hard limit before the harness kills the process; default 120 s. */
  readonly limitMs?: number;
  /**
   * A command that runs preflight as its last arguments (e.g. `unshare
   * --net ... sh -c SCRIPT sh`), and how the report shows it.
   */
  readonly wrapper?: {
    readonly argv: readonly string[];
    readonly shown: string;
  };
}

const UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"];

// Processes still running, killed when the harness exits early (Ctrl-C):
// a child outlives its parent otherwise.
const live = new Set<PreflightProcess>();
let unloadHooked = false;

/** SIGKILLs every preflight process still running (synchronous, for exit paths). */
export function killAllProcesses(): void {
  for (const p of live) p.killNow();
}

/** Quotes a word for display the way a POSIX shell would need it. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

/** The command line shown in the report: variables, then `preflight ARGS`. */
export function showCommand(
  args: readonly string[],
  opts: LaunchOptions = {},
): string {
  const vars = Object.entries(opts.env ?? {}).map(([k, v]) =>
    `${k}=${shellWord(v)}`
  );
  const pre = opts.pid1
    ? [...UNSHARE]
    : opts.wrapper
    ? [opts.wrapper.shown]
    : [];
  return mask(
    [...vars, ...pre, "preflight", ...args.map(shellWord)].join(" "),
  );
}

/** A running preflight whose output, exit and PID 1 the row observes. */
export class PreflightProcess implements AsyncDisposable {
  /** The command as shown in the report (secrets masked). */
  readonly command: string;
  /** `performance.now()` at spawn. */
  readonly startedAt: number;
  /** Resolves when the process the harness started has exited. */
  readonly exited: Promise<ProcessExit>;
  readonly #child: Deno.ChildProcess;
  readonly #pid1Mode: boolean;
  readonly #out: string[] = [];
  readonly #err: string[] = [];
  readonly #reading: Promise<void>;
  #pid1?: number;
  #killedByHarness = false;
  #done = false;

  constructor(args: readonly string[], opts: LaunchOptions = {}) {
    if (!unloadHooked) {
      unloadHooked = true;
      globalThis.addEventListener("unload", killAllProcesses);
    }
    this.command = showCommand(args, opts);
    this.#pid1Mode = opts.pid1 ?? false;
    const argv = [
      ...(opts.pid1 ? UNSHARE : opts.wrapper?.argv ?? []),
      ...preflightArgv(),
      ...args,
    ];
    this.startedAt = performance.now();
    this.#child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        NO_COLOR: "1",
        ...opts.env,
      },
      clearEnv: true,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (s: ReadableStream<Uint8Array>, into: string[]) => {
      const dec = new TextDecoder();
      for await (const chunk of s) {
        into.push(dec.decode(chunk, { stream: true }));
      }
    };
    this.#reading = Promise.all([
      read(this.#child.stdout, this.#out),
      read(this.#child.stderr, this.#err),
    ]).then(() => {});
    const limit = setTimeout(async () => {
      this.#killedByHarness = true;
      if (this.#pid1Mode) await this.pid1().catch(() => {});
      this.#killAll();
    }, opts.limitMs ?? 120_000);
    live.add(this);
    this.exited = this.#child.status.then(async (status) => {
      const ms = performance.now() - this.startedAt;
      clearTimeout(limit);
      this.#done = true;
      live.delete(this);
      await this.#reading.catch(() => {});
      return {
        code: status.code,
        signal: status.signal,
        ms,
        killedByHarness: this.#killedByHarness,
      };
    });
  }

  /** Host PID of the process the harness started (unshare in PID 1 mode). */
  get pid(): number {
    return this.#child.pid;
  }

  /** True once the process has exited. */
  get done(): boolean {
    return this.#done;
  }

  /** Standard error so far (secrets masked). */
  get stderr(): string {
    return mask(this.#err.join(""));
  }

  /** Standard output so far (secrets masked). */
  get stdout(): string {
    return mask(this.#out.join(""));
  }

  /** Unmasked output, only to check that no secret leaked. */
  rawOutput(): string {
    return this.#out.join("") + this.#err.join("");
  }

  /**
   * Resolves when standard error matches `pattern`; throws when the process
   * exits first or `ms` passes, with the output so far.
   */
  async waitFor(pattern: string | RegExp, ms = 30_000): Promise<void> {
    const matches = () =>
      typeof pattern === "string"
        ? this.#err.join("").includes(pattern)
        : pattern.test(this.#err.join(""));
    const end = performance.now() + ms;
    while (!matches()) {
      if (this.#done) {
        throw new Error(
          `preflight exited before printing ${pattern}:\n${this.stderr}`,
        );
      }
      if (performance.now() > end) {
        throw new Error(
          `${pattern} not printed within ${ms} ms:\n${this.stderr}`,
        );
      }
      await sleep(20);
    }
  }

  /** In PID 1 mode, the host PID of the namespace's PID 1 (unshare's child). */
  async pid1(): Promise<number> {
    if (!this.#pid1Mode) throw new Error("not started as PID 1");
    if (this.#pid1 !== undefined) return this.#pid1;
    const pid = this.#child.pid;
    for (let i = 0; i < 400; i++) {
      try {
        const kids = (await Deno.readTextFile(
          `/proc/${pid}/task/${pid}/children`,
        )).trim();
        if (kids) return this.#pid1 = Number(kids.split(/\s+/)[0]);
      } catch { /* not yet */ }
      await sleep(25);
    }
    throw new Error("no PID 1 in the namespace");
  }

  /** The command line of the namespace's PID 1 (after exec: the app's). */
  async pid1Cmdline(): Promise<string> {
    const pid = await this.pid1();
    return (await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => ""))
      .replaceAll("\0", " ").trim();
  }

  /**
   * Sends `sig` to preflight (to the namespace's PID 1 in PID 1 mode, as
   * `docker stop` does) and returns `performance.now()` at sending.
   */
  async kill(sig: Deno.Signal): Promise<number> {
    const pid = this.#pid1Mode ? await this.pid1() : this.#child.pid;
    const t = performance.now();
    Deno.kill(pid, sig);
    return t;
  }

  /** SIGKILLs the process (and its namespace's PID 1) at once, synchronously. */
  killNow(): void {
    if (this.#pid1Mode && this.#pid1 === undefined) {
      try {
        const pid = this.#child.pid;
        const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`)
          .trim();
        if (kids) this.#pid1 = Number(kids.split(/\s+/)[0]);
      } catch { /* gone, or no child yet */ }
    }
    this.#killAll();
  }

  #killAll(): void {
    // Killing PID 1 ends the whole namespace; unshare then exits too.
    for (const pid of [this.#pid1, this.#child.pid]) {
      if (pid === undefined) continue;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  }

  /** Kills whatever is left and waits for the exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#done) {
      if (this.#pid1Mode && this.#pid1 === undefined) {
        await this.pid1().catch(() => {});
      }
      this.#killAll();
    }
    await this.exited;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
