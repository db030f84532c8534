/**
 * The docs cannot drift from the binary: every `preflight` command shown in
 * docs/*.md and README.md is parsed by preflight's own parser, the ones that
 * need no Docker engine or cluster are run, the Kubernetes manifests are
 * parsed and their commands validated, and the log lines and markers shown
 * are checked against the log calls in src/.
 *
 * Conventions for fenced blocks in docs/*.md:
 *   ```sh            each line runs offline (no server), expected exit 0
 *   ```sh exit=N     same, expected exit N
 *   ```sh stack      each line runs against a throwaway stack started here:
 *                    PostgreSQL (migrated), Redis and the example app, with
 *                    the host's view of `.env` in the environment (DB_HOST,
 *                    DB_PORT, POSTGRES_*, REDIS_URL, PORT), in
 *                    examples/backend (alembic.ini), no `docker` on PATH
 *   ```sh no-run     needs Docker or a cluster: `preflight` lines are only
 *                    parsed (and `docker`/`kubectl` lines are not run)
 *   ```log           a real log excerpt: every `[entrypoint] ` line must
 *                    match a log call of src/
 *   ```yaml          Kubernetes manifests (docs/operations.md)
 * Lines run with `sh -c`, `preflight` being a shim for
 * `deno run <compile flags> src/main.ts` first on PATH. Inline code spans,
 * exec-form arrays (`["preflight", ...]`) and YAML `command:` arrays that
 * call preflight are parsed too. README.md's own `sh` blocks are listed in
 * README_COMMANDS below with what covers each.
 */
import assert from "node:assert/strict";
import { parseArgs } from "../src/cli/parse_args.ts";
import { type Config, resolveOptions } from "../src/config/resolve_options.ts";
import { parseTarget } from "../src/checks/mod.ts";
import { tableCells } from "../scripts/reference.ts";
import { preflightArgv } from "./_cli.ts";
import { freePort, startPostgres } from "./_servers.ts";
import { startRedis } from "./_redis.ts";
import { parseAllDocuments } from "yaml";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const BACKEND = new URL("examples/backend", ROOT).pathname;

function docFiles(): string[] {
  const files = [...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
  assert(files.length >= 2, `expected docs/*.md, found ${files}`);
  return files;
}

// ---------------------------------------------------------------------------
// Markdown

interface Block {
  file: string;
  line: number;
  info: string[];
  body: string;
}

/** The fenced code blocks of a markdown text. */
function fencedBlocks(file: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j].trim() !== fence) {
      body.push(
        lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j],
      );
      j++;
    }
    out.push({
      file,
      line: i + 1,
      info: info.trim().split(/\s+/).filter(Boolean),
      body: body.join("\n"),
    });
    i = j;
  }
  return out;
}

/** Markdown text outside fenced blocks. */
function prose(text: string): string {
  return text.replace(/^(\s*)(`{3,})[^\n]*\n[\s\S]*?^\s*\2\s*$/gm, "");
}

/** Inline code spans of the prose. */
function codeSpans(text: string): string[] {
  return [...prose(text).matchAll(/(?<!`)`([^`\n]+)`(?!`)/g)].map((m) =>
    m[1].replaceAll("\\|", "|")
  );
}

// ---------------------------------------------------------------------------
// Shell lines

/** Words of one shell command line (quotes, `$VAR`), up to the first operator. */
interface ShellCommand {
  assignments: Record<string, string>;
  words: string[];
}

function splitShell(
  line: string,
  env: Record<string, string>,
): ShellCommand {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const add = (s: string) => (word = (word ?? "") + s);
  const expand = (): string => {
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/
      .exec(line.slice(i));
    if (!m) {
      i++;
      return "$";
    }
    i += m[0].length;
    return env[m[1] ?? m[2]] ?? "";
  };
  outer: while (i < line.length) {
    const c = line[i];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      assert(end > 0, `unbalanced ' in: ${line}`);
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      i++;
      add("");
      while (line[i] !== '"') {
        assert(i < line.length, `unbalanced " in: ${line}`);
        if (line[i] === "\\" && /["\\$`]/.test(line[i + 1])) {
          add(line[i + 1]);
          i += 2;
        } else if (line[i] === "$") add(expand());
        else add(line[i++]);
      }
      i++;
    } else if (c === "\\") {
      add(line[i + 1] ?? "");
      i += 2;
    } else if (c === "$") {
      add(expand());
    } else if ("|;&<>".includes(c) || (c === "#" && word === undefined)) {
      break outer;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  const assignments: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const w = words.shift()!;
    assignments[w.slice(0, w.indexOf("="))] = w.slice(w.indexOf("=") + 1);
  }
  return { assignments, words };
}

/** Values the parse-only checks expand `$VAR` with: the host's `.env` view. */
const DOC_ENV: Record<string, string> = {
  DB_HOST: "localhost",
  DB_PORT: "5432",
  POSTGRES_USER: "app",
  POSTGRES_DB: "app",
  REDIS_URL: "redis://localhost:6379/0",
  PORT: "8000",
};

/**
 * Validates one preflight invocation with preflight's own parser and option
 * resolver, plus the targets and URLs it names; throws on any error.
 */
async function validateInvocation(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Config> {
  const config = resolveOptions(parseArgs(args), { ...env });
  const { command, positionals, options } = config;
  if (command === "wait" || command === "probe") {
    for (const t of positionals) await parseTarget(t, "target");
  }
  if (command === "wait") {
    assert(
      positionals.length > 0 || options.waitFor.length > 0,
      `wait without a target: ${args.join(" ")}`,
    );
  }
  if (options.watchdog !== undefined) {
    await parseTarget(options.watchdog, "--watchdog");
  }
  return config;
}

interface Found {
  where: string;
  argv: string[];
  env: Record<string, string>;
  /** Shown as a command that exits 2 (a `sh exit=2` block): it must NOT validate. */
  invalid?: boolean;
  /** A bare `preflight COMMAND` mention in prose, naming the command. */
  name?: boolean;
}

/** A synopsis (`preflight wait TARGET... [-- COMMAND...]`), not a command. */
function isSynopsis(span: string): boolean {
  return /\[|\.\.\.|\||\bOPTIONS\b/.test(span) ||
    span.split(/\s+/).some((w) => /^[A-Z][A-Z_]{2,}$/.test(w));
}

const DENO_PREFIX = "deno run -A src/main.ts ";

/** Every preflight invocation shown in a markdown file. */
function invocationsIn(file: string): Found[] {
  const text = read(file);
  const out: Found[] = [];
  const add = (where: string, line: string, invalid = false) => {
    const { assignments, words } = splitShell(line, {
      ...DOC_ENV,
    });
    if (words[0] === "preflight") {
      out.push({
        where,
        argv: words.slice(1),
        env: assignments,
        invalid,
        name: where.includes("`") && words.length === 2,
      });
    }
  };
  for (const b of fencedBlocks(file, text)) {
    const where = `${file}:${b.line}`;
    if (b.info[0] === "sh") {
      for (const line of b.body.split("\n")) {
        add(where, line, b.info.includes("exit=2"));
      }
    }
    if (b.info[0] === "yaml") {
      for (const doc of yamlDocuments(b.body)) {
        for (const argv of yamlCommands(doc)) {
          if (argv[0] === "preflight") {
            out.push({ where, argv: argv.slice(1), env: {} });
          }
        }
      }
    }
  }
  for (const span of codeSpans(text)) {
    const command = span.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, "");
    if (command.startsWith("preflight ") && !isSynopsis(command)) {
      add(`${file}: \`${span}\``, span);
    } else if (span.startsWith(DENO_PREFIX)) {
      add(
        `${file}: \`${span}\``,
        "preflight " + span.slice(DENO_PREFIX.length),
      );
    }
  }
  // Exec-form arrays: ENTRYPOINT, compose entrypoint:, HEALTHCHECK CMD.
  for (const m of text.matchAll(/\["preflight"(?:,\s*"(?:[^"\\]|\\.)*")*\]/g)) {
    const argv = JSON.parse(m[0]) as string[];
    out.push({ where: `${file}: ${m[0]}`, argv: argv.slice(1), env: {} });
  }
  return out;
}

/** The documents of a YAML text; a syntax error or a duplicate key throws. */
function yamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS();
  });
}

/** `command` (+ `args`) arrays anywhere in a YAML document. */
function yamlCommands(doc: unknown): string[][] {
  const out: string[][] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      const { command: cmd, args } = v as Obj;
      if (Array.isArray(cmd) && cmd.every((w) => typeof w === "string")) {
        out.push([...cmd, ...(Array.isArray(args) ? args as string[] : [])]);
      }
      Object.values(v).forEach(walk);
    }
  };
  walk(doc);
  return out;
}

// ---------------------------------------------------------------------------
// Parse checks

Deno.test("every preflight command shown in docs/ and README.md parses with preflight's own parser", async () => {
  const found = [...docFiles(), "README.md"].flatMap(invocationsIn);
  const errors: string[] = [];
  for (const f of found) {
    try {
      if (f.name) parseArgs(f.argv);
      else await validateInvocation(f.argv, f.env);
      if (f.invalid) {
        errors.push(
          `${f.where}: preflight ${
            f.argv.join(" ")
          }: shown as exiting 2 but valid`,
        );
      }
    } catch (e) {
      if (f.invalid) continue;
      errors.push(
        `${f.where}: preflight ${f.argv.join(" ")}: ${(e as Error).message}`,
      );
    }
  }
  assert(errors.length === 0, errors.join("\n"));
  // Not vacuous: the docs show many commands of every kind.
  assert(found.length >= 40, `only ${found.length} commands found`);
  const commands = new Set(
    found.map((f) => parseArgs(f.argv).command),
  );
  for (const c of ["run", "wait", "migrate", "probe", "doctor", "restart"]) {
    assert(commands.has(c as never), `no '${c}' command found in the docs`);
  }
});

Deno.test("the parse check catches a misspelt option, an unknown command and a malformed target", async () => {
  for (
    const bad of [
      ["run", "--no-migrations"],
      ["restart", "backend", "--tail", "5"],
      ["probe", "--timeout", "3x"],
      ["wait", "postgres//db:5432"],
      ["migrat"],
      ["run", "--watchdog", "nonsense"],
    ]
  ) {
    await assert.rejects(
      () => validateInvocation(bad),
      Error,
      `accepted preflight ${bad.join(" ")}`,
    );
  }
});

// ---------------------------------------------------------------------------
// Running the commands

interface RunBlock {
  where: string;
  stack: boolean;
  exit: number;
  lines: string[];
}

function runBlocks(): RunBlock[] {
  const out: RunBlock[] = [];
  for (const file of docFiles()) {
    for (const b of fencedBlocks(file, read(file))) {
      if (b.info[0] !== "sh") continue;
      const flags = b.info.slice(1);
      for (const f of flags) {
        assert(
          /^(stack|no-run|exit=\d+)$/.test(f),
          `${file}:${b.line}: unknown sh block flag '${f}'`,
        );
      }
      const lines = b.body.split("\n").filter((l) =>
        l.trim() !== "" && !l.trim().startsWith("#")
      );
      if (flags.includes("no-run")) {
        // Only commands that need Docker or a cluster belong here.
        for (const l of lines) {
          assert(
            /^(docker|kubectl|preflight (restart|run)|scripts\/restart-backend)/
              .test(l.trim()),
            `${file}:${b.line}: '${l}' is marked no-run but needs neither Docker nor a cluster`,
          );
        }
        continue;
      }
      out.push({
        where: `${file}:${b.line}`,
        stack: flags.includes("stack"),
        exit: Number(flags.find((f) => f.startsWith("exit="))?.slice(5) ?? 0),
        lines,
      });
    }
  }
  return out;
}

/** A directory with a `preflight` shim (the binary as the tests run it). */
async function shimDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-docs-shim-" });
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  await Deno.writeTextFile(
    `${dir}/preflight`,
    `#!/bin/sh\nexec ${preflightArgv().map(q).join(" ")} "$@"\n`,
    { mode: 0o755 },
  );
  // "No docker on PATH", even where /usr/bin has docker and docker-compose
  // (Debian's docker.io): the stack blocks run outside any Compose project.
  for (const tool of ["docker", "docker-compose"]) {
    await Deno.writeTextFile(
      `${dir}/${tool}`,
      `#!/bin/sh\necho "${tool}: not installed in the docs tests" >&2\nexit 127\n`,
      { mode: 0o755 },
    );
  }
  return dir;
}

async function sh(
  line: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", line],
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 120_000);
  try {
    const r = await child.output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

async function waitHealthy(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, {
        signal: AbortSignal.timeout(2000),
      });
      const body = await res.json();
      if (res.ok && body.status === "ok") return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the example app never became healthy");
}

Deno.test("the commands of docs/ run with the exit codes the docs give (offline ones, and the stack ones against real PostgreSQL, Redis and the example app)", async () => {
  const blocks = runBlocks();
  assert(blocks.some((b) => b.stack), "no `sh stack` block in docs/");
  assert(blocks.some((b) => !b.stack), "no offline `sh` block in docs/");
  const shim = await shimDir();
  const base = {
    PATH: `${shim}:/usr/bin:/bin`,
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const password = "docs-pw-4c1d9e";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
  });
  await using redis = await startRedis();
  const port = freePort();
  const stackEnv = {
    ...base,
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: password,
    POSTGRES_DB: "app",
    REDIS_URL: redis.url({ db: 0 }),
    PORT: String(port),
  };
  const migrated = await sh("alembic upgrade head", stackEnv, BACKEND);
  assert(migrated.code === 0, migrated.out);
  const app = new Deno.Command("uvicorn", {
    args: ["app.main:app", "--host", "127.0.0.1", "--port", String(port)],
    cwd: BACKEND,
    env: {
      ...stackEnv,
      PREFLIGHT_WAIT: "ready",
      PREFLIGHT_MIGRATIONS: "applied",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const offlineDir = await Deno.makeTempDir({ prefix: "preflight-docs-run-" });
  try {
    await waitHealthy(port);
    const failures: string[] = [];
    let ran = 0;
    for (const b of blocks) {
      for (const line of b.lines) {
        const r = b.stack
          ? await sh(line, stackEnv, BACKEND)
          : await sh(line, base, offlineDir);
        ran++;
        if (r.code !== b.exit) {
          failures.push(
            `${b.where}: '${line}' exited ${r.code}, the docs say ${b.exit}:\n${r.out}`,
          );
        }
        if (r.out.includes(password)) {
          failures.push(`${b.where}: '${line}' printed the database password`);
        }
      }
    }
    assert(failures.length === 0, failures.join("\n\n"));
    assert(ran >= 10, `only ${ran} commands ran`);
    // The downgrade/upgrade pair of reference.md left the schema at head.
    assert(
      (await pg.psql("select version_num from alembic_version", "app"))
        .trim() ===
        "0002",
      "the documented downgrade and upgrade did not end at head",
    );
  } finally {
    try {
      app.kill("SIGTERM");
    } catch { /* gone */ }
    await app.status;
    await Deno.remove(offlineDir, { recursive: true });
    await Deno.remove(shim, { recursive: true });
  }
});

/**
 * README.md is not annotated with the conventions above; each of its `sh`
 * commands is listed here with what covers it, so a new one fails until it
 * is classified.
 */
const README_COMMANDS: Record<string, string> = {
  "deno task demo": "run end to end by tests/demo_test.ts",
  "deno task test": "the suite this test is part of",
  "docker build -t preflight-example-backend .":
    "the app target, binary form: checked statically by tests/packaging_test.ts (deno compile cannot run here); deno task e2e builds and runs the same target in the source form",
  "docker build --target carrier -t preflight .":
    "the carrier target: checked statically by tests/packaging_test.ts (it holds the compiled binary)",
  "docker build --build-arg PREFLIGHT_FORM=source .":
    "built (through Compose, same build argument) and run on a real engine by deno task e2e",
};

Deno.test("README.md's shell commands are each run by a test or classified", () => {
  const readme = read("README.md");
  const lines = fencedBlocks("README.md", readme)
    .filter((b) => b.info[0] === "sh")
    .flatMap((b) => b.body.split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert(lines.length > 0, "no sh block in README.md");
  for (const l of lines) {
    assert(
      l in README_COMMANDS,
      `README.md shows '${l}': add it to README_COMMANDS in tests/docs_test.ts with what runs it`,
    );
  }
  // The claims above hold.
  const tasks = JSON.parse(read("deno.json")).tasks;
  assert(tasks.demo === "deno run -A scripts/demo.ts", "the demo task moved");
  assert(
    /deno task demo|scripts\/demo\.ts/.test(read("tests/demo_test.ts")),
    "tests/demo_test.ts no longer runs the demo",
  );
  assert(typeof tasks.test === "string", "no test task");
});

// ---------------------------------------------------------------------------
// Log lines and markers against src/

const LOG_SOURCES = [
  "src/main.ts",
  "src/commands/run.ts",
  "src/commands/wait.ts",
  "src/commands/migrate.ts",
  ...["migrate", "wait", "handover", "process"].flatMap((d) =>
    [...Deno.readDirSync(new URL(`src/${d}/`, ROOT))]
      .filter((e) => e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
      .map((e) => `src/${d}/${e.name}`)
  ),
];

/** Reads the string or template literal at `i`; `${...}` becomes `*`. */
function literalAt(src: string, i: number): string | undefined {
  const q = src[i];
  if (q === '"') {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(src.slice(i));
    return m ? JSON.parse(m[0]) : undefined;
  }
  if (q === "'") {
    const m = /^'((?:[^'\\]|\\.)*)'/.exec(src.slice(i));
    return m ? m[1].replaceAll("\\'", "'") : undefined;
  }
  if (q !== "`") return undefined;
  let out = "";
  let j = i + 1;
  while (j < src.length && src[j] !== "`") {
    if (src[j] === "\\") {
      out += src[j + 1];
      j += 2;
    } else if (src[j] === "$" && src[j + 1] === "{") {
      let depth = 1;
      j += 2;
      while (depth > 0 && j < src.length) {
        const c = src[j];
        if (c === '"' || c === "'" || c === "`") {
          const end = src.indexOf(c, j + 1);
          j = end + 1;
          continue;
        }
        if (c === "{") depth++;
        if (c === "}") depth--;
        j++;
      }
      out += "*";
    } else out += src[j++];
  }
  return out;
}

/** The message templates of every log call (and logged error) in the startup code. */
function sourceTemplates(): Set<string> {
  const out = new Set<string>();
  for (const file of LOG_SOURCES) {
    const src = read(file);
    for (const m of src.matchAll(/\b(?:info|warn|error|debug)\(\s*/g)) {
      const at = m.index! + m[0].length;
      let t = literalAt(src, at);
      if (t === undefined) {
        // A constant: `log.info(RULE)`.
        const id = /^[A-Z_]+/.exec(src.slice(at))?.[0];
        const def = id &&
          new RegExp(`const ${id} = "([^"]*)"`).exec(src)?.[1];
        if (def) t = def;
      }
      if (t !== undefined) out.add(t);
    }
    // Errors that main.ts logs as they are. (The lock's reason is logged
    // by migrate_step.ts after its own prefix, a log call found above.)
    for (
      const m of src.matchAll(
        /new (NotReadyInTimeError|MigrationError|TargetFailedError|SpawnError)\(\s*/g,
      )
    ) {
      const t = literalAt(src, m.index! + m[0].length);
      if (t === undefined) continue;
      out.add(t);
    }
  }
  // Templates that are (almost) all placeholder say nothing.
  return new Set(
    [...out].filter((t) => t.replace(/[*\s✗]/g, "").length > 0),
  );
}

function wildcard(template: string): RegExp {
  return new RegExp(
    "^" +
      template.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".+") +
      "$",
    "u",
  );
}

Deno.test("every [entrypoint] line in the docs' log excerpts is produced by a log call in src/", () => {
  const templates = [...sourceTemplates()];
  assert(
    templates.length >= 25,
    `only ${templates.length} templates found in src/`,
  );
  const patterns = templates.map(wildcard);
  const bad: string[] = [];
  let checked = 0;
  for (const file of [...docFiles(), "README.md"]) {
    for (const b of fencedBlocks(file, read(file))) {
      if (b.info[0] !== "log") continue;
      for (const line of b.body.split("\n")) {
        if (!line.startsWith("[entrypoint] ")) continue;
        checked++;
        const msg = line.slice("[entrypoint] ".length);
        if (!patterns.some((p) => p.test(msg))) {
          bad.push(`${file}:${b.line}: ${line}`);
        }
      }
    }
  }
  assert(bad.length === 0, `no log call in src/ prints:\n${bad.join("\n")}`);
  assert(checked >= 50, `only ${checked} log lines checked`);
});

Deno.test("the marker table of docs/operations.md lists every startup log message of src/, and only those", () => {
  const ops = read("docs/operations.md");
  const at = ops.indexOf("## Log markers");
  assert(at >= 0, "docs/operations.md has no '## Log markers' section");
  const section = ops.slice(at, ops.indexOf("\n## ", at + 1));
  const markers = tableCells(section).slice(2).map((row) => {
    const m = /^\**`(.+)`\**$/.exec(row[0]);
    assert(m, `marker cell is not a code span: ${row[0]}`);
    return m[1].replaceAll("\\|", "|").replace(/<[^>]+>/g, "*");
  });
  const templates = sourceTemplates();
  const unknown = markers.filter((m) => !templates.has(m));
  assert(
    unknown.length === 0,
    `markers no log call prints:\n${unknown.join("\n")}`,
  );
  const patterns = markers.map(wildcard);
  const missing = [...templates].filter((t) =>
    !patterns.some((p) => p.test(t))
  );
  assert(
    missing.length === 0,
    `log messages missing from the marker table:\n${missing.join("\n")}`,
  );
});

Deno.test("a degraded start shows exactly the lines docs/operations.md tells a newcomer to look for", async () => {
  const ops = read("docs/operations.md");
  const cause = (line: string) => {
    assert(
      ops.includes(line),
      `docs/operations.md no longer mentions '${line}'`,
    );
    return line;
  };
  const waitWarn = cause(
    "⚠️ Dependencies not ready; continuing (--on-timeout continue).",
  );
  const migWarn = cause("⚠️ Migrations did not complete.");
  cause("✗ Alembic exited with code C.");
  cause("docker compose logs --no-log-prefix backend | grep -F '[entrypoint]'");
  const shim = await shimDir();
  try {
    const closed = String(freePort());
    const args = [
      "run",
      "--timeout",
      "1s",
      "--migrate-attempts",
      "2",
      "--migrate-delay",
      "100ms",
      "--",
      "/bin/sh",
      "-c",
      'echo "status $PREFLIGHT_WAIT $PREFLIGHT_MIGRATIONS"',
    ];
    const env = {
      PATH: `${shim}:/usr/bin:/bin`,
      HOME: Deno.env.get("HOME") ?? "/root",
      PYTHONDONTWRITEBYTECODE: "1",
      DB_HOST: "127.0.0.1",
      DB_PORT: closed,
      ALEMBIC_CMD: "alembic upgrade head",
    };
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const text = await sh(
      `preflight ${args.map(q).join(" ")} 2>&1`,
      env,
      BACKEND,
    );
    assert(text.code === 0, text.out);
    assert(text.out.includes("status timeout failed"), text.out);
    const markers = text.out.split("\n").filter((l) =>
      l.startsWith("[entrypoint] ")
    )
      .map((l) => l.slice(13));
    for (const line of [waitWarn, migWarn]) {
      assert(markers.includes(line), `'${line}' missing from:\n${text.out}`);
    }
    assert(
      markers.some((l) => /^✗ Alembic exited with code \d+\.$/.test(l)),
      text.out,
    );
    assert(
      markers.some((l) => /^Startup: wait .*failed\), handover at/.test(l)),
      `no Startup line with 'failed':\n${text.out}`,
    );
    // In JSON logs: the same lines at level warn, with their phase.
    const json = await sh(
      `preflight ${
        ["run", "--log-format", "json", ...args.slice(1)].map(q).join(" ")
      } 2>&1 >/dev/null`,
      env,
      BACKEND,
    );
    const records = json.out.split("\n").filter((l) => l.startsWith("{")).map((
      l,
    ) => JSON.parse(l));
    const find = (msg: string) => records.find((r) => r.msg === msg);
    assert(
      find(waitWarn)?.level === "warn" && find(waitWarn)?.phase === "wait",
      json.out,
    );
    assert(
      find(migWarn)?.level === "warn" && find(migWarn)?.phase === "migrate",
      json.out,
    );
  } finally {
    await Deno.remove(shim, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// Kubernetes manifests

type Obj = { [key: string]: unknown };
const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
const list = (v: unknown): unknown[] => Array.isArray(v) ? v : [];

function manifests(): Obj[] {
  return fencedBlocks("docs/operations.md", read("docs/operations.md"))
    .filter((b) => b.info[0] === "yaml")
    .flatMap((b) => yamlDocuments(b.body).map(obj));
}

function containerArgv(c: Obj): string[] {
  const cmd = list(c.command) as string[];
  const args = list(c.args) as string[];
  return [...cmd, ...args];
}

Deno.test("the Kubernetes manifests of docs/operations.md are valid: probes run preflight probe within their timeouts, the Job runs preflight migrate", async () => {
  const docs = manifests();
  const job = docs.find((d) => d.kind === "Job");
  const deployment = docs.find((d) => d.kind === "Deployment");
  assert(
    job && deployment,
    `expected a Job and a Deployment, got ${docs.map((d) => d.kind)}`,
  );
  assert(job.apiVersion === "batch/v1", "Job apiVersion");
  assert(deployment.apiVersion === "apps/v1", "Deployment apiVersion");

  // The Job: preflight migrate, never restarted in place so backoffLimit counts.
  const jobPod = obj(obj(obj(job.spec).template).spec);
  assert(
    ["Never", "OnFailure"].includes(jobPod.restartPolicy as string),
    "Job restartPolicy",
  );
  const [migrator] = list(jobPod.containers).map(obj);
  const jobArgv = containerArgv(migrator);
  assert(jobArgv[0] === "preflight", `Job runs ${jobArgv}`);
  const jobConfig = await validateInvocation(jobArgv.slice(1));
  assert(
    jobConfig.command === "migrate",
    `the Job runs 'preflight ${jobConfig.command}'`,
  );

  // The Deployment: the app through preflight run, without migrating (the Job does).
  const spec = obj(deployment.spec);
  assert(
    JSON.stringify(obj(spec.selector).matchLabels) ===
      JSON.stringify(obj(obj(spec.template).metadata).labels),
    "selector does not match the pod labels",
  );
  const pod = obj(obj(spec.template).spec);
  const [app] = list(pod.containers).map(obj);
  const appArgv = containerArgv(app);
  assert(appArgv[0] === "preflight", `the Deployment runs ${appArgv}`);
  const run = await validateInvocation(appArgv.slice(1));
  assert(
    run.command === "run" && run.options.noMigrate,
    "the Deployment must run preflight run --no-migrate",
  );
  assert((run.commandArgv ?? []).length > 0, "no app command after --");

  const probes = ["startupProbe", "readinessProbe", "livenessProbe"];
  for (const name of probes) {
    const probe = obj(app[name]);
    const argv = list(obj(probe.exec).command) as string[];
    assert(argv[0] === "preflight", `${name} runs ${argv}`);
    const config = await validateInvocation(argv.slice(1));
    assert(
      config.command === "probe",
      `${name} runs 'preflight ${config.command}'`,
    );
    // Kubernetes kills an exec probe at timeoutSeconds: preflight's own deadline must come first.
    const k8sTimeout = Number(probe.timeoutSeconds ?? 1) * 1000;
    assert(
      config.options.timeout < k8sTimeout,
      `${name}: preflight probe's --timeout (${config.options.timeout} ms) is not below timeoutSeconds (${k8sTimeout} ms)`,
    );
  }
  // The startup probe covers the whole wait budget, so a slow database does not get the pod killed.
  const startup = obj(app.startupProbe);
  const budget = Number(startup.periodSeconds) *
    Number(startup.failureThreshold) * 1000;
  assert(
    budget > run.options.timeout,
    `startup probe budget ${budget} ms <= wait budget ${run.options.timeout} ms`,
  );
  // Liveness must not fail because a dependency is down (Kubernetes restarts on it).
  const liveness = await validateInvocation(
    (list(obj(obj(app.livenessProbe).exec).command) as string[]).slice(1),
  );
  assert(
    liveness.options.httpStatus?.includes(503),
    "the liveness probe fails on 503: a database outage would restart every pod",
  );
  const readiness = await validateInvocation(
    (list(obj(obj(app.readinessProbe).exec).command) as string[]).slice(1),
  );
  assert(
    !readiness.options.httpStatus?.includes(503),
    "the readiness probe accepts 503",
  );
  // Secrets come from a Secret, and no PREFLIGHT_* variable leaks into the probes.
  for (const e of list(app.env).map(obj)) {
    assert(
      !String(e.name).startsWith("PREFLIGHT_"),
      `${e.name} in env would also change the probes`,
    );
  }
});

// ---------------------------------------------------------------------------
// One place for each table; output order and messages as the code has them

/** The tables of a markdown text: header row and first-column keys. */
function tablesOf(
  file: string,
): { where: string; header: string; keys: string[] }[] {
  const out: { where: string; header: string; keys: string[] }[] = [];
  const text = prose(read(file));
  for (const block of text.split(/\n(?!\|)/)) {
    const rows = tableCells(block);
    if (rows.length < 3) continue;
    out.push({
      where: `${file}: | ${rows[0].join(" | ")} |`,
      header: rows[0].join("|"),
      keys: rows.slice(2).map((r) => r[0]),
    });
  }
  return out;
}

Deno.test("no table is in two places: README.md and docs/*.md share no table (same header, or three rows with the same keys)", () => {
  const tables = [...docFiles(), "README.md"].flatMap(tablesOf);
  assert(tables.length >= 8, `only ${tables.length} tables found`);
  const dupes: string[] = [];
  for (let i = 0; i < tables.length; i++) {
    for (let j = i + 1; j < tables.length; j++) {
      const a = tables[i];
      const b = tables[j];
      const shared = a.keys.filter((k) => b.keys.includes(k));
      if (a.header === b.header || shared.length >= 3) {
        dupes.push(`${a.where}\n  and ${b.where}`);
      }
    }
  }
  assert(dupes.length === 0, `tables in two places:\n${dupes.join("\n")}`);
  // The tables the issue found repeated live in docs/reference.md only.
  const readme = read("README.md");
  for (const header of ["| code |", "| variable | default |"]) {
    assert(
      !prose(readme).replace(/ +\|/g, " |").replace(/\| +/g, "| ").includes(
        header,
      ),
      `README.md has a '${header}' table: it belongs to docs/reference.md`,
    );
  }
});

Deno.test("the caveat that PREFLIGHT_* variables reach every command is written once, in docs/reference.md", () => {
  const caveat = /applies to every command that has the option/;
  const where = [...docFiles(), "README.md"].filter((f) =>
    caveat.test(prose(read(f)).replace(/\s+/g, " "))
  );
  assert(
    JSON.stringify(where) === JSON.stringify(["docs/reference.md"]),
    `the caveat is in ${where.join(", ")}`,
  );
});

/** The `✓ ... is ready (DURATION, ...)` lines of a log excerpt, with their durations in ms. */
function readyLines(body: string): { line: string; ms: number }[] {
  return body.split("\n").flatMap((line) => {
    const m = /^\[entrypoint\] ✓ \S+ is ready \((\d+(?:\.\d+)?)(ms|s), /.exec(
      line,
    );
    return m ? [{ line, ms: Number(m[1]) * (m[2] === "s" ? 1000 : 1) }] : [];
  });
}

Deno.test("the docs' log excerpts show the order the code prints: ✓ lines as each target becomes ready, DB connectivity right after the database's", () => {
  let excerpts = 0;
  for (const file of [...docFiles(), "README.md"]) {
    for (const b of fencedBlocks(file, read(file))) {
      if (b.info[0] !== "log") continue;
      const ready = readyLines(b.body);
      for (let i = 1; i < ready.length; i++) {
        assert(
          ready[i].ms >= ready[i - 1].ms,
          `${file}:${b.line}: '${ready[i].line}' after '${
            ready[i - 1].line
          }': ✓ lines come in the order the targets became ready`,
        );
      }
      const lines = b.body.split("\n");
      const db = /^\[entrypoint\] Waiting for Postgres at (\S+)\.\.\.$/.exec(
        lines.find((l) => l.includes("Waiting for Postgres at")) ?? "",
      )?.[1];
      const complete = lines.indexOf(
        "[entrypoint] ✓ DB connectivity check complete.",
      );
      if (complete >= 0) {
        excerpts++;
        assert(db, `${file}:${b.line}: no 'Waiting for Postgres' line`);
        assert(
          lines[complete - 1]?.includes(`${db} is ready`) ||
            new RegExp(
              `✓ \\S*${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\S* is ready`,
            )
              .test(lines[complete - 1] ?? ""),
          `${file}:${b.line}: '✓ DB connectivity check complete.' must follow the database's ✓ line, not '${
            lines[complete - 1]
          }'`,
        );
      }
    }
  }
  assert(excerpts >= 3, `only ${excerpts} excerpts with the DB marker`);
  // The claim in words, where the docs make it.
  const ops = prose(read("docs/operations.md")).replace(/\s+/g, " ");
  assert(
    ops.includes(
      "in the order they became ready, not the order they were announced",
    ),
    "docs/operations.md no longer says in which order the ✓ lines come",
  );
  assert(!/in the order they were announced[,.]/.test(ops), "stale claim");
});

Deno.test("the order claim holds in a real run: ✓ lines as targets become ready, DB connectivity right after the database's line", async () => {
  await using pg = await startPostgres();
  // Announced in this order: the database, a port that opens late, a port
  // open from the start.
  const late = freePort();
  const early = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const earlyPort = (early.addr as Deno.NetAddr).port;
  let opened: Deno.Listener | undefined;
  const opener = setTimeout(() => {
    opened = Deno.listen({ hostname: "127.0.0.1", port: late });
  }, 700);
  const shim = await shimDir();
  try {
    const r = await sh(
      `preflight run --no-migrate -t 20s --on-timeout fail --wait-for tcp://127.0.0.1:${late} --wait-for tcp://127.0.0.1:${earlyPort} -- true 2>&1`,
      {
        PATH: `${shim}:/usr/bin:/bin`,
        HOME: Deno.env.get("HOME") ?? "/root",
        NO_COLOR: "1",
        DB_HOST: "127.0.0.1",
        DB_PORT: String(pg.port),
      },
      "/",
    );
    assert(r.code === 0, r.out);
    const order = r.out.split("\n").filter((l) => l.includes("✓"))
      .map((l) => l.replace(/ is ready .*/, "").replace(/:\d+$/, ""));
    const expected = [
      "[entrypoint] ✓ tcp://127.0.0.1",
      "[entrypoint] ✓ postgres://127.0.0.1",
      "[entrypoint] ✓ DB connectivity check complete.",
      "[entrypoint] ✓ tcp://127.0.0.1",
    ];
    // The open port and the database are both ready at once: either first.
    const sorted = (a: string[]) =>
      [...a.slice(0, 2)].sort().concat(a.slice(2));
    assert(
      JSON.stringify(sorted(order)) === JSON.stringify(sorted(expected)),
      `${JSON.stringify(order)}\n${r.out}`,
    );
    // The DB marker follows the database's own line, the late port comes last.
    const lines = r.out.split("\n");
    const complete = lines.indexOf(
      "[entrypoint] ✓ DB connectivity check complete.",
    );
    assert(
      lines[complete - 1].includes(
        `✓ postgres://127.0.0.1:${pg.port} is ready`,
      ),
      r.out,
    );
    assert(
      lines[complete + 1].includes(`✓ tcp://127.0.0.1:${late} is ready`),
      r.out,
    );
  } finally {
    clearTimeout(opener);
    opened?.close();
    early.close();
    await Deno.remove(shim, { recursive: true });
  }
});

Deno.test("the troubleshooting table quotes the lines the code prints for exit 2 and exit 127", async () => {
  const ops = read("docs/operations.md");
  const at = ops.indexOf("## Troubleshooting");
  const section = ops.slice(at, ops.indexOf("\n## ", at + 1));
  const rows = tableCells(section);
  const row = (symptom: RegExp) => {
    const r = rows.find((r) => symptom.test(r[0]));
    assert(r, `no troubleshooting row for ${symptom}`);
    return r.join(" | ");
  };
  const shim = await shimDir();
  const env = {
    PATH: `${shim}:/usr/bin:/bin`,
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
  };
  try {
    // Exit 2: one `preflight: Invalid ...` line, no marker.
    const bad = await sh("preflight run --migrate-delay 2x 2>&1", env, "/");
    assert(bad.code === 2, bad.out);
    assert(/^preflight: Invalid --migrate-delay '2x': /.test(bad.out), bad.out);
    assert(row(/exits 2/).includes("`preflight: Invalid ...`"), row(/exits 2/));
    // Exit 127: an `[entrypoint] Command not found: '<program>'` line.
    const missing = await sh(
      "preflight run --no-wait --no-migrate -- no-such-program-4f1 2>&1",
      env,
      "/",
    );
    assert(missing.code === 127, missing.out);
    assert(
      missing.out === "[entrypoint] Command not found: 'no-such-program-4f1'\n",
      missing.out,
    );
    assert(
      row(/exits 127/).includes(
        "`[entrypoint] Command not found: '<program>'`",
      ),
      row(/exits 127/),
    );
    // Every other quoted line of the table is one the code prints.
    const templates = [...sourceTemplates()];
    const patterns = templates.map(wildcard);
    for (const r of rows.slice(2)) {
      for (const span of codeSpans(r.join(" "))) {
        if (!/^(✓|✗|⚠️|Waiting|Still waiting)/u.test(span)) continue;
        // A whole line (with ... for the rest), or a piece of one.
        assert(
          patterns.some((p) =>
            p.test(span) || p.test(span.replaceAll("...", "x"))
          ) || templates.some((t) => t.includes(span)),
          `troubleshooting quotes '${span}', which no log call prints`,
        );
      }
    }
  } finally {
    await Deno.remove(shim, { recursive: true });
  }
});
