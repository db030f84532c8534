/**
 * The exec hand-over against real processes: a Deno entry script (as
 * main.ts: startup state first, stop listeners, then execApp) is started by
 * tests/fixtures/launch.py with a chosen inherited state, and the app it
 * execs reports its PID, signal state, descriptors and environment.
 */
import assert from "node:assert/strict";

const ENTRY = new URL("./fixtures/exec_entry.ts", import.meta.url).pathname;
const LAUNCH = new URL("./fixtures/launch.py", import.meta.url).pathname;
const DENO = Deno.execPath();
/** New PID namespaces (`unshare --pid`) need root. */
const CAN_UNSHARE = Deno.build.os === "linux" && Deno.uid() === 0;
const PYTHON = "/usr/bin/python3";

/** The app reporting its PID and signal state: cat changes none of it. */
const STATUS = ["/bin/cat", "/proc/self/status"];

/**
 * The app reporting its descriptors: Perl opens none at start, and readlink
 * does not open one (listing /proc/self/fd would). Perl ignores SIGFPE,
 * which is why it does not report signals.
 */
const FDS = [
  "/usr/bin/perl",
  "-e",
  'print "FDS=", join(" ", grep { defined readlink("/proc/self/fd/$_") } ' +
  '0..4095), "\\n";',
];

interface Run {
  code: number;
  pid: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(env ? { env, clearEnv: true } : {}),
  }).spawn();
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    pid: child.pid,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** launch.py [launchOpts] -- deno run -A exec_entry.ts [entryOpts] -- app... */
function launch(launchOpts: string[], entryOpts: string[], app: string[]) {
  return run(PYTHON, [
    LAUNCH,
    ...launchOpts,
    "--",
    DENO,
    "run",
    "-A",
    ENTRY,
    ...entryOpts,
    "--",
    ...app,
  ]);
}

function field(stdout: string, name: string): string {
  const m = stdout.match(new RegExp(`^${name}[=:]\\s*(.*)$`, "m"));
  assert(m, `no ${name} in output:\n${stdout}`);
  return m[1].trim();
}

function signalsOf(hexMask: string): number[] {
  const mask = BigInt(`0x${hexMask}`);
  const out: number[] = [];
  for (let n = 1; n <= 64; n++) if ((mask >> BigInt(n - 1)) & 1n) out.push(n);
  return out;
}

Deno.test("exec keeps the PID and gives the app no ignored or blocked signal", async () => {
  const r = await launch([], [], STATUS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(Number(field(r.stdout, "Pid")), r.pid);
  assert.deepStrictEqual(signalsOf(field(r.stdout, "SigIgn")), []);
  assert.deepStrictEqual(signalsOf(field(r.stdout, "SigBlk")), []);
});

Deno.test("exec gives the app only fds 0-2 when preflight inherited only those", async () => {
  const r = await launch([], [], FDS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(field(r.stdout, "FDS"), "0 1 2");
});

Deno.test("exec restores the signals ignored at start: SIGINT stays ignored, SIGPIPE goes back to default", async () => {
  const r = await launch(["--ignore", "INT,PIPE,HUP"], [], STATUS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  // The entry listens for SIGINT and SIGHUP, which replaced SIG_IGN in it.
  assert.deepStrictEqual(signalsOf(field(r.stdout, "SigIgn")), [1, 2]);
});

Deno.test("exec empties a signal mask inherited from the parent", async () => {
  const r = await launch(["--block", "USR1,TERM,CHLD"], [], STATUS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(signalsOf(field(r.stdout, "SigBlk")), []);
});

Deno.test("exec passes on inherited fds but not those preflight opened, even without close-on-exec", async () => {
  const r = await launch(["--fd", "5", "--fd", "7"], ["--dup"], FDS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(field(r.stdout, "FDS"), "0 1 2 5 7");
});

Deno.test("exec does not pass on an inherited fd number reused for another file", async () => {
  const r = await launch(["--fd", "5"], ["--replace-fd", "5"], FDS);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(field(r.stdout, "FDS"), "0 1 2");
});

Deno.test("exec gives the app exactly the environment passed", async () => {
  const env = { A: "1", B: "two words", PATH: "/usr/bin:/bin", HOME: "/root" };
  const r = await run(DENO, ["run", "-A", ENTRY, "--", "env"], env);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(r.stdout.trim().split("\n").sort(), [
    "A=1",
    "B=two words",
    "HOME=/root",
    "PATH=/usr/bin:/bin",
  ]);
});

Deno.test("exec finds the app on PATH and passes argv[0] as given", async () => {
  const r = await launch([], [], ["sh", "-c", 'echo "$0|$1"', "zero", "one"]);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(r.stdout, "zero|one\n");
});

Deno.test("exec runs an executable script without #! with /bin/sh, as execvp does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/script`, 'echo "script $1 $$"\n');
    await Deno.chmod(`${dir}/script`, 0o755);
    const r = await launch([], [], [`${dir}/script`, "arg"]);
    assert.deepStrictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout, `script arg ${r.pid}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec of a missing app exits 127 and of a non-executable file or a directory 126", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/plain`, "echo hi\n");
    const missing = await launch([], [], ["no-such-app-x1"]);
    assert.deepStrictEqual(missing.code, 127);
    assert.match(missing.stderr, /Command not found: 'no-such-app-x1'/);
    const plain = await launch([], [], [`${dir}/plain`]);
    assert.deepStrictEqual(plain.code, 126);
    assert.match(plain.stderr, /Command not executable: '.*plain'/);
    const directory = await launch([], [], [dir]);
    assert.deepStrictEqual(directory.code, 126);
    assert.match(directory.stderr, /is a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec as PID 1 keeps PID 1", { ignore: !CAN_UNSHARE }, async () => {
  const r = await run("unshare", [
    "--pid",
    "--fork",
    "--mount-proc",
    DENO,
    "run",
    "-A",
    ENTRY,
    "--",
    ...STATUS,
  ]);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(field(r.stdout, "Pid"), "1");
});

Deno.test(
  "exec as PID 1 does not pass zombies of earlier children to the app",
  { ignore: !CAN_UNSHARE },
  async () => {
    const children = [
      "/usr/bin/perl",
      "-e",
      'print "KIDS=", join(" ", map { open(my $f, "<", $_); <$f> } ' +
      'glob("/proc/self/task/*/children")), "\\n";',
    ];
    const r = await run("unshare", [
      "--pid",
      "--fork",
      "--mount-proc",
      DENO,
      "run",
      "-A",
      ENTRY,
      "--orphan",
      "--",
      ...children,
    ]);
    assert.deepStrictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(field(r.stdout, "KIDS"), "");
  },
);

// An exec prepared before the wait (validateHandOver) runs after it: what
// changed in between must count, not what was true when it was prepared.

Deno.test("a prepared exec judges the fds at the exec: one inherited fd replaced after preparing is not passed on, another is", async () => {
  const r = await launch(
    ["--fd", "5", "--fd", "7"],
    ["--prepare", "--dup", "--replace-fd", "7"],
    FDS,
  );
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(field(r.stdout, "FDS"), "0 1 2 5");
});

Deno.test("a prepared exec gives the app the environment passed at the exec, with variables changed and added since", async () => {
  const env = { A: "1", B: "two", PATH: "/usr/bin:/bin", HOME: "/root" };
  const r = await run(DENO, [
    "run",
    "-A",
    ENTRY,
    "--prepare",
    "--set",
    "B=changed",
    "--set",
    "C=new",
    "--",
    "env",
  ], env);
  assert.deepStrictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(r.stdout.trim().split("\n").sort(), [
    "A=1",
    "B=changed",
    "C=new",
    "HOME=/root",
    "PATH=/usr/bin:/bin",
  ]);
});

Deno.test("a prepared exec searches PATH again when the app moved since: found later on PATH it runs, gone it exits 127", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [first, second, away] = ["first", "second", "away"].map((d) =>
      `${dir}/${d}`
    );
    for (const d of [first, second, away]) await Deno.mkdir(d);
    const env = { PATH: `${first}:${second}:/usr/bin:/bin`, HOME: "/root" };
    const entry = (to: string) =>
      run(DENO, [
        "run",
        "-A",
        ENTRY,
        "--prepare",
        "--rename",
        `${first}/app-x1`,
        `${to}/app-x1`,
        "--",
        "app-x1",
        "arg",
      ], env);
    await Deno.writeTextFile(`${first}/app-x1`, '#!/bin/sh\necho "ran $1"\n');
    await Deno.chmod(`${first}/app-x1`, 0o755);
    const moved = await entry(second);
    assert.deepStrictEqual(moved.code, 0, moved.stderr);
    assert.deepStrictEqual(moved.stdout, "ran arg\n");

    await Deno.rename(`${second}/app-x1`, `${first}/app-x1`);
    const gone = await entry(away);
    assert.deepStrictEqual(gone.code, 127, gone.stderr);
    assert.match(gone.stderr, /Command not found: 'app-x1'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a prepared exec runs the program an exec resolved now would: one put earlier on PATH since it was prepared", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [first, second, away] = ["first", "second", "away"].map((d) =>
      `${dir}/${d}`
    );
    for (const d of [first, second, away]) await Deno.mkdir(d);
    for (const [d, says] of [[second, "second"], [away, "first"]]) {
      await Deno.writeTextFile(`${d}/app-x2`, `#!/bin/sh\necho "${says}"\n`);
      await Deno.chmod(`${d}/app-x2`, 0o755);
    }
    const env = { PATH: `${first}:${second}:/usr/bin:/bin`, HOME: "/root" };
    // Prepared while only second/ has it; first/ gets one before the exec.
    const r = await run(DENO, [
      "run",
      "-A",
      ENTRY,
      "--prepare",
      "--rename",
      `${away}/app-x2`,
      `${first}/app-x2`,
      "--",
      "app-x2",
    ], env);
    assert.deepStrictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout, "first\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
