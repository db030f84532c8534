/**
 * The packaging contract (SPEC "Packaging"): the Dockerfile, docker-compose.yml
 * and .env.example. Each contract point is a check function returning a
 * problem or `undefined`; every test runs its check on the real file (must
 * pass) and on a copy with that one point broken (must fail), so a check that
 * cannot fail is caught too. No Docker engine needed.
 */
import { COMMANDS, defaultFor, envName, OPTIONS } from "../src/cli/options.ts";
import { parse as parseYaml } from "yaml";
import { DockerfileParser, type Flag } from "dockerfile-ast";
import { COMMANDS as HANDLERS } from "../src/commands/mod.ts";
import assert from "node:assert/strict";
import { compileFlags, LAZY_IMPORTS_FLAG } from "../scripts/compile_all.ts";

/** The compile task's permission flags, which the source form's `deno run` takes. */
const COMPILE_PERMISSIONS = compileFlags();

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

// ---------------------------------------------------------------------------
// Dockerfile (read by dockerfile-ast): instructions grouped by stage

/** One instruction: its flags and arguments on one line, as the checks read them. */
interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/**
 * Instructions per stage (split at FROM). The global ARGs (before the first
 * FROM) are not part of any stage: see {@linkcode globalArgs}.
 */
function parseDockerfile(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const i of DockerfileParser.parse(text).getInstructions()) {
    const keyword = i.getKeyword();
    const line = i.getRange().start.line + 1;
    if (keyword === "FROM") stages.push([]);
    if (stages.length === 0) {
      assert(
        keyword === "ARG",
        `Dockerfile line ${line}: ${keyword} before FROM`,
      );
      continue;
    }
    // COPY --from=..., HEALTHCHECK --interval=...: the flags lead the line.
    const flags: Flag[] = "getFlags" in i && typeof i.getFlags === "function"
      ? i.getFlags()
      : [];
    const args = [...flags.map(String), i.getArgumentsContent() ?? ""]
      .join(" ").replace(/\s+/g, " ").trim();
    stages[stages.length - 1].push({ keyword, args, line });
  }
  return stages;
}

/** The global ARGs (before the first FROM) and their defaults. */
function globalArgs(text: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const arg of DockerfileParser.parse(text).getInitialARGs()) {
    const p = arg.getProperty();
    assert(
      p,
      `Dockerfile line ${arg.getRange().start.line + 1}: ARG without a name`,
    );
    out.set(p.getName(), p.getValue() ?? undefined);
  }
  return out;
}

/** A FROM's image with the global ARGs' defaults substituted (what a build without --build-arg uses). */
function resolveFrom(text: string, from: Instruction): string {
  const args = globalArgs(text);
  const image = from.args.split(/\s+/)[0];
  return image.replace(
    /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (_, name) => args.get(name) ?? "",
  );
}

/** The stage named `name` (FROM ... AS name). */
function stageNamed(text: string, name: string): Instruction[] | undefined {
  return parseDockerfile(text).find((st) =>
    new RegExp(`\\s+AS\\s+${name}$`, "i").test(st[0].args)
  );
}

/** The stage a FROM or COPY --from names, following `FROM <stage>` (with ARGs substituted) to the stage that does the work. */
function resolveStage(text: string, name: string): Instruction[] | undefined {
  let stage = stageNamed(text, name);
  for (let hops = 0; stage && stage.length === 1 && hops < 5; hops++) {
    // A stage that is only `FROM other-stage AS name` (the form choice).
    const next = stageNamed(text, resolveFrom(text, stage[0]));
    if (!next) break;
    stage = next;
  }
  return stage;
}

/** The `deno compile` RUN of the stage as argv, and its --output. */
function compileRun(stage: Instruction[] | undefined) {
  const argv = stage?.filter((i) => i.keyword === "RUN")
    .map((i) => execForm(i.args) ?? i.args.split(/\s+/))
    .find((a) => a.includes("deno") && a.includes("compile"));
  const at = argv?.indexOf("--output") ?? -1;
  return { argv, output: at >= 0 ? argv![at + 1] : undefined };
}

/** The JSON array of an exec-form instruction, or undefined for shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === "string")
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

const finalStage = (df: string) => parseDockerfile(df).at(-1) ?? [];
const lastOf = (stage: Instruction[], keyword: string) =>
  stage.filter((i) => i.keyword === keyword).at(-1);
const same = (a: unknown, b: unknown) =>
  JSON.stringify(a) === JSON.stringify(b);

type Check = (text: string) => string | undefined;

const dockerfileChecks: Record<string, Check> = {
  denoImagePinned(df) {
    const from = parseDockerfile(df)[0]?.[0];
    const image = from ? resolveFrom(df, from) : "";
    return /^denoland\/deno:2\.9\.6(@sha256:[0-9a-f]{64})?$/.test(image)
      ? undefined
      : `build stage is '${image}', expected denoland/deno:2.9.6`;
  },
  finalStageSlimPython(df) {
    const stages = parseDockerfile(df);
    if (stages.length < 2) return "not a multi-stage build";
    const image = resolveFrom(df, stages.at(-1)![0]);
    return /^python:3\.12-slim/.test(image)
      ? undefined
      : `final stage is '${image}', expected python:3.12-slim`;
  },
  baseImagesAreBuildArgs(df) {
    // Every base image that is not a stage or scratch comes from a global
    // ARG, so a build can substitute (e.g. local stand-ins, a mirror).
    const stageNames = new Set(
      parseDockerfile(df).map((st) =>
        /\s+AS\s+(\S+)$/i.exec(st[0].args)?.[1] ?? ""
      ),
    );
    for (const st of parseDockerfile(df)) {
      const image = st[0].args.split(/\s+/)[0];
      if (image === "scratch" || stageNames.has(resolveFrom(df, st[0]))) {
        continue;
      }
      const m = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(image);
      if (!m) {
        return `line ${
          st[0].line
        }: base image '${image}' is not a build argument`;
      }
      const def = globalArgs(df).get(m[1]);
      if (!def || !/^[a-z0-9./-]+:[\w.-]+$/.test(def)) {
        return `ARG ${
          m[1]
        } has no upstream image as its default (got '${def}')`;
      }
    }
    return undefined;
  },
  noSyntaxDirective(df) {
    // `# syntax=` makes BuildKit pull a frontend image before anything else.
    return /^#\s*syntax\s*=/im.test(
        df.split("\n").filter((l) => l.startsWith("#")).join("\n"),
      )
      ? "a '# syntax=' directive (it pulls the frontend image)"
      : undefined;
  },
  binaryCopiedFromBuild(df) {
    // By default (the binary form), the stage `preflight` is the compile
    // stage; the app copies its output tree so the binary lands at
    // /usr/local/bin/preflight.
    const { output } = compileRun(resolveStage(df, "preflight"));
    if (!output) {
      return "the default preflight stage does not deno compile with --output";
    }
    const copy = finalStage(df).find((i) =>
      i.keyword === "COPY" && /--from=preflight\s/.test(i.args)
    );
    if (!copy) return "the final stage has no COPY --from=preflight";
    const [src, dest] = copy.args.split(/\s+/).slice(1);
    const lands = src.endsWith("/") && output.startsWith(src)
      ? dest.replace(/\/$/, "") + "/" + output.slice(src.length)
      : src === output
      ? dest
      : undefined;
    return lands === "/usr/local/bin/preflight"
      ? undefined
      : `COPY takes '${copy.args}', the compiled binary '${output}' lands at '${lands}'`;
  },
  sourceFormSamePath(df) {
    // The source form writes its launcher where the binary form writes the
    // binary, and the launcher execs `deno run` with the compile task's
    // permission flags.
    const source = stageNamed(df, "preflight-source");
    const { output } = compileRun(resolveStage(df, "preflight"));
    if (!source || !output) return "no preflight-source or compile stage";
    const text = source.map((i) => i.args).join("\n");
    if (!text.includes(`>${output}`)) {
      return `the source form does not write its launcher to '${output}'`;
    }
    const launcher = /'(exec [^']*)'/.exec(text)?.[1] ?? "";
    const words = launcher.split(/\s+/);
    if (!/\bdeno run\b/.test(launcher)) return `launcher is '${launcher}'`;
    for (const flag of COMPILE_PERMISSIONS) {
      if (!words.includes(flag)) {
        return `launcher lacks the compile flag ${flag}`;
      }
    }
    // Else every start loads every command's and kind's module first.
    if (!words.includes(LAZY_IMPORTS_FLAG)) {
      return `launcher lacks ${LAZY_IMPORTS_FLAG}`;
    }
    return /src\/main\.ts "\$@"$/.test(launcher)
      ? undefined
      : `launcher does not run src/main.ts with the arguments: '${launcher}'`;
  },
  carrierHoldsOnlyPreflight(df) {
    const carrier = stageNamed(df, "carrier");
    if (!carrier) return "no carrier stage";
    if (!/^scratch\s/.test(carrier[0].args)) {
      return "carrier is not FROM scratch";
    }
    const { output } = compileRun(resolveStage(df, "preflight"));
    const copies = carrier.filter((i) =>
      i.keyword === "COPY" || i.keyword === "ADD"
    );
    const others = carrier.slice(1).filter((i) =>
      !["COPY", "ENTRYPOINT", "LABEL"].includes(i.keyword)
    );
    if (others.length) return `carrier also has ${others[0].keyword}`;
    return copies.length === 1 &&
        copies[0].args === `--from=preflight ${output} /preflight`
      ? undefined
      : `carrier copies '${
        copies.map((c) => c.args).join("; ")
      }', expected --from=preflight ${output} /preflight`;
  },
  entrypointExecRun(df) {
    const ep = lastOf(finalStage(df), "ENTRYPOINT");
    return ep && same(execForm(ep.args), ["preflight", "run", "--"])
      ? undefined
      : `ENTRYPOINT is '${ep?.args}', expected ["preflight", "run", "--"]`;
  },
  cmdExecUvicorn(df) {
    const cmd = lastOf(finalStage(df), "CMD");
    const argv = cmd && execForm(cmd.args);
    return argv && argv[0] === "uvicorn" && argv.includes("app.main:app")
      ? undefined
      : `CMD is '${cmd?.args}', expected exec form running uvicorn app.main:app`;
  },
  healthcheckExecProbe(df) {
    const hc = lastOf(finalStage(df), "HEALTHCHECK");
    const m = hc && /^(.*?)\bCMD\s+(\[.*\])$/.exec(hc.args);
    const argv = m ? execForm(m[2]) : undefined;
    if (!argv || argv[0] !== "preflight" || argv[1] !== "probe") {
      return `HEALTHCHECK is '${hc?.args}', expected CMD ["preflight", "probe"]`;
    }
    for (const opt of ["--interval=", "--timeout=", "--start-period="]) {
      if (!m![1].includes(opt)) return `HEALTHCHECK lacks ${opt}`;
    }
    return undefined;
  },
  nonRootUser(df) {
    const user = lastOf(finalStage(df), "USER");
    const name = user?.args.split(":")[0].trim();
    return name && name !== "root" && name !== "0"
      ? undefined
      : `final stage runs as '${name ?? "root (no USER)"}'`;
  },
  noNetworkTools(df) {
    const tools = /\b(curl|wget|nc|ncat|netcat(-\w+)?|busybox)\b/;
    for (const i of finalStage(df)) {
      if (i.keyword !== "RUN" && i.keyword !== "ADD") continue;
      const text = execForm(i.args)?.join(" ") ?? i.args;
      const m = tools.exec(text);
      if (m) return `line ${i.line} installs or uses '${m[1]}'`;
    }
    return undefined;
  },
  requirementsBeforeCode(df) {
    const stage = finalStage(df);
    const pip = stage.findIndex((i) =>
      i.keyword === "RUN" &&
      /\bpip3?\b.*\binstall\b.*(-r|--requirement)[ =]requirements\.txt\b/
        .test(execForm(i.args)?.join(" ") ?? i.args)
    );
    const code = stage.findIndex((i) =>
      i.keyword === "COPY" && !/--from=/.test(i.args) &&
      /(^|\s|")(examples\/backend\/?|\.)\s/.test(i.args)
    );
    if (pip < 0) return "no RUN pip install -r requirements.txt";
    if (code < 0) return "no COPY of the app code";
    return pip < code ? undefined : "app code is copied before pip install";
  },
  depsCachedBeforeSource(df) {
    const build = parseDockerfile(df)[0];
    const lock = build.findIndex((i) =>
      i.keyword === "COPY" && /\bdeno\.json\b/.test(i.args) &&
      /\bdeno\.lock\b/.test(i.args)
    );
    const src = build.findIndex((i) =>
      i.keyword === "COPY" && /(^|\s)\.?\/?src\/?\s/.test(i.args)
    );
    if (lock < 0 || src < 0) {
      return "build stage lacks COPY deno.json deno.lock or COPY src";
    }
    return lock < src ? undefined : "src is copied before deno.json/deno.lock";
  },
  portAndStopSignal(df) {
    const stage = finalStage(df);
    const has = (kw: string, re: RegExp) =>
      stage.some((i) => i.keyword === kw && re.test(i.args));
    if (!has("ENV", /(^|\s)PORT=8000(\s|$)/)) return "no ENV PORT=8000";
    if (!has("EXPOSE", /^8000(\/tcp)?$/)) return "no EXPOSE 8000";
    if (!has("STOPSIGNAL", /^SIGTERM$/)) return "no STOPSIGNAL SIGTERM";
    return undefined;
  },
};

/** One way to break each Dockerfile point (a text edit that must be caught). */
const dockerfileBreaks: Record<string, (df: string) => string> = {
  denoImagePinned: (df) =>
    df.replace("denoland/deno:2.9.6", "denoland/deno:latest"),
  finalStageSlimPython: (df) =>
    df.replace(/PYTHON_IMAGE=python:3\.12-slim/, "PYTHON_IMAGE=python:3.12"),
  baseImagesAreBuildArgs: (df) =>
    df.replace(
      /^FROM \$\{PYTHON_IMAGE\} AS app$/m,
      "FROM python:3.12-slim AS app",
    ),
  noSyntaxDirective: (df) => "# syntax=docker/dockerfile:1\n" + df,
  binaryCopiedFromBuild: (df) =>
    df.replace(
      '"--output", "/out/usr/local/bin/preflight"',
      '"--output", "/out/usr/bin/preflight"',
    ),
  sourceFormSamePath: (df) => df.replace(" --no-prompt -A ", " --no-prompt "),
  carrierHoldsOnlyPreflight: (df) =>
    df.replace(/^(FROM scratch AS carrier\n)/m, "$1COPY deno.json /\n"),
  entrypointExecRun: (df) =>
    df.replace(/^ENTRYPOINT \["preflight".*$/m, "ENTRYPOINT preflight run --"),
  cmdExecUvicorn: (df) =>
    df.replace(/^CMD .*$/m, "CMD uvicorn app.main:app --host 0.0.0.0"),
  healthcheckExecProbe: (df) =>
    df.replace('CMD ["preflight", "probe"]', "CMD preflight probe || exit 1"),
  nonRootUser: (df) => df.replace(/^USER .*$/m, "USER root"),
  noNetworkTools: (df) =>
    df.replace(
      /^USER /m,
      'RUN ["sh", "-c", "apt-get update && apt-get install -y curl"]\nUSER ',
    ),
  requirementsBeforeCode: (df) => {
    const code = /^COPY examples\/backend\/ \.\/\n/m.exec(df)![0];
    return df.replace(code, "").replace(
      /^COPY examples\/backend\/requirements/m,
      code + "$&",
    );
  },
  depsCachedBeforeSource: (df) => {
    const src = /^COPY src\/ .*\n/m.exec(df)![0];
    return df.replace(src, "").replace(/^COPY deno\.json/m, src + "$&");
  },
  portAndStopSignal: (df) => df.replace(/^STOPSIGNAL .*\n/m, ""),
};

const DOCKERFILE_NAMES: Record<string, string> = {
  denoImagePinned: "Dockerfile builds on the pinned denoland/deno:2.9.6 image",
  finalStageSlimPython: "Dockerfile final stage is python:3.12-slim",
  baseImagesAreBuildArgs:
    "Dockerfile takes its base images as build arguments, upstream images by default",
  noSyntaxDirective: "Dockerfile has no '# syntax=' directive",
  binaryCopiedFromBuild:
    "Dockerfile copies the compiled binary from the build stage to /usr/local/bin/preflight",
  sourceFormSamePath:
    "Dockerfile source form puts a launcher running deno run with the compile flags and lazily loaded imports at the same path",
  carrierHoldsOnlyPreflight:
    "Dockerfile carrier stage is FROM scratch holding only /preflight",
  entrypointExecRun:
    'Dockerfile ENTRYPOINT is exec-form ["preflight", "run", "--"]',
  cmdExecUvicorn: "Dockerfile CMD runs uvicorn in exec form",
  healthcheckExecProbe:
    "Dockerfile HEALTHCHECK runs preflight probe in exec form",
  nonRootUser: "Dockerfile final stage runs as a non-root USER",
  noNetworkTools: "Dockerfile final stage installs no curl, wget or nc",
  requirementsBeforeCode:
    "Dockerfile installs requirements before copying the app code",
  depsCachedBeforeSource:
    "Dockerfile caches Deno dependencies before copying src",
  portAndStopSignal:
    "Dockerfile sets PORT 8000, EXPOSE 8000 and STOPSIGNAL SIGTERM",
};

for (const [key, check] of Object.entries(dockerfileChecks)) {
  Deno.test(DOCKERFILE_NAMES[key], () => {
    const df = read("Dockerfile");
    assert(check(df) === undefined, `Dockerfile: ${check(df)}`);
    const broken = dockerfileBreaks[key](df);
    assert(broken !== df, `the '${key}' break did not change the Dockerfile`);
    assert(
      check(broken) !== undefined,
      `'${key}' did not catch its regression`,
    );
  });
}

// ---------------------------------------------------------------------------
// docker-compose.yml (read by the yaml library)

type Obj = { [key: string]: unknown };
const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
/** The services of a compose file; a syntax error or a duplicate key throws. */
const services = (compose: string) => obj(obj(parseYaml(compose)).services);
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;

const composeChecks: Record<string, Check> = {
  backendWaitsForHealthyDatabaseAndRedis(c) {
    const deps = obj(services(c).backend).depends_on;
    for (const name of ["postgres", "redis"]) {
      if (obj(obj(deps)[name]).condition !== "service_healthy") {
        return `backend does not depend on ${name} with condition service_healthy`;
      }
    }
    return undefined;
  },
  backendHealthcheckIsProbe(c) {
    const test = obj(obj(services(c).backend).healthcheck).test;
    return same(test, ["CMD", "preflight", "probe"])
      ? undefined
      : `backend healthcheck test is ${JSON.stringify(test)}`;
  },
  restartUnlessStopped(c) {
    const s = services(c);
    for (const name of ["backend", "worker", "beat"]) {
      if (obj(s[name]).restart !== "unless-stopped") {
        return `${name} restart is '${
          obj(s[name]).restart
        }', expected unless-stopped`;
      }
    }
    return undefined;
  },
  stopGracePeriodSet(c) {
    const s = services(c);
    for (const name of ["backend", "worker", "beat"]) {
      const v = obj(s[name]).stop_grace_period;
      if (typeof v !== "string" || !DURATION.test(v)) {
        return `${name} has no stop_grace_period duration (got ${
          JSON.stringify(v)
        })`;
      }
    }
    return undefined;
  },
  workerAndBeatSkipMigrations(c) {
    const s = services(c);
    for (const [name, role] of [["worker", "worker"], ["beat", "beat"]]) {
      const svc = obj(s[name]);
      if (!same(svc.entrypoint, ["preflight", "run", "--no-migrate", "--"])) {
        return `${name} entrypoint is ${JSON.stringify(svc.entrypoint)}`;
      }
      const cmd = svc.command;
      if (
        !Array.isArray(cmd) ||
        !same(cmd.slice(0, 4), ["celery", "-A", "app.worker", role])
      ) {
        return `${name} command is ${
          JSON.stringify(cmd)
        }, expected celery -A app.worker ${role}`;
      }
    }
    return undefined;
  },
  workerAndBeatWaitForBackend(c) {
    const s = services(c);
    for (const name of ["worker", "beat"]) {
      const deps = obj(obj(s[name]).depends_on);
      const healthy = (d: string) =>
        obj(deps[d]).condition === "service_healthy";
      if (!healthy("backend") && !(healthy("postgres") && healthy("redis"))) {
        return `${name} starts before the backend (or postgres and redis) is healthy`;
      }
    }
    return undefined;
  },
  workerAndBeatDoNotInheritApiProbe(c) {
    const s = services(c);
    for (const name of ["worker", "beat"]) {
      const hc = obj(obj(s[name]).healthcheck);
      const probesApi = Array.isArray(hc.test) && hc.test[1] === "preflight" &&
        hc.test.length === 3;
      if (!(hc.disable === true || (Array.isArray(hc.test) && !probesApi))) {
        return `${name} keeps the image's API health check, which it cannot pass`;
      }
    }
    return undefined;
  },
  sameImageForAppServices(c) {
    const s = services(c);
    for (const name of ["backend", "worker", "beat"]) {
      const build = s[name] && obj(s[name]).build;
      const context = typeof build === "string" ? build : obj(build).context;
      if (context !== ".") {
        return `${name} does not build the repository's Dockerfile`;
      }
    }
    return undefined;
  },
  postgresHealthcheck(c) {
    const test = obj(obj(services(c).postgres).healthcheck).test;
    return Array.isArray(test) && test.join(" ").includes("pg_isready")
      ? undefined
      : `postgres healthcheck is ${JSON.stringify(test)}, expected pg_isready`;
  },
  redisHealthcheck(c) {
    const test = obj(obj(services(c).redis).healthcheck).test;
    return Array.isArray(test) && /redis-cli.*\bping\b/i.test(test.join(" "))
      ? undefined
      : `redis healthcheck is ${JSON.stringify(test)}, expected redis-cli ping`;
  },
};

/** Replaces the first line matching `re` after the `services.NAME:` line. */
function editService(c: string, name: string, re: RegExp, to: string): string {
  const start = c.search(new RegExp(`^  ${name}:$`, "m"));
  assert(start >= 0, `no service ${name}`);
  return c.slice(0, start) + c.slice(start).replace(re, to);
}

const composeBreaks: Record<string, (c: string) => string> = {
  backendWaitsForHealthyDatabaseAndRedis: (c) =>
    editService(
      c,
      "backend",
      /condition: service_healthy/,
      "condition: service_started",
    ),
  backendHealthcheckIsProbe: (c) =>
    editService(
      c,
      "backend",
      /\["CMD", "preflight", "probe"\]/,
      '["CMD", "true"]',
    ),
  restartUnlessStopped: (c) =>
    editService(c, "beat", /restart: unless-stopped/, "restart: on-failure"),
  stopGracePeriodSet: (c) =>
    editService(c, "worker", /\n {4}stop_grace_period: .*/, ""),
  workerAndBeatSkipMigrations: (c) =>
    editService(c, "beat", /"run", "--no-migrate", "--"/, '"run", "--"'),
  workerAndBeatWaitForBackend: (c) =>
    editService(
      c,
      "worker",
      /condition: service_healthy/,
      "condition: service_started",
    ),
  workerAndBeatDoNotInheritApiProbe: (c) =>
    editService(c, "beat", /\n {4}healthcheck:\n {6}disable: true/, ""),
  sameImageForAppServices: (c) =>
    editService(c, "worker", /context: \./, "context: ./other"),
  postgresHealthcheck: (c) =>
    editService(c, "postgres", /\n {4}healthcheck:\n( {6}.*\n)+/, "\n"),
  redisHealthcheck: (c) =>
    editService(
      c,
      "redis",
      /\["CMD", "redis-cli", "ping"\]/,
      '["CMD", "true"]',
    ),
};

const COMPOSE_NAMES: Record<string, string> = {
  backendWaitsForHealthyDatabaseAndRedis:
    "compose backend depends on postgres and redis being healthy",
  backendHealthcheckIsProbe: "compose backend health check is preflight probe",
  restartUnlessStopped:
    "compose backend, worker and beat restart unless stopped",
  stopGracePeriodSet: "compose backend, worker and beat set stop_grace_period",
  workerAndBeatSkipMigrations:
    "compose worker and beat run celery through preflight run --no-migrate --",
  workerAndBeatWaitForBackend:
    "compose worker and beat wait for healthy dependencies",
  workerAndBeatDoNotInheritApiProbe:
    "compose worker and beat replace the image's API health check",
  sameImageForAppServices:
    "compose backend, worker and beat build the repository's Dockerfile",
  postgresHealthcheck: "compose postgres has a pg_isready health check",
  redisHealthcheck: "compose redis has a redis-cli ping health check",
};

for (const [key, check] of Object.entries(composeChecks)) {
  Deno.test(COMPOSE_NAMES[key], () => {
    const c = read("docker-compose.yml");
    assert(check(c) === undefined, `docker-compose.yml: ${check(c)}`);
    const broken = composeBreaks[key](c);
    assert(
      broken !== c,
      `the '${key}' break did not change docker-compose.yml`,
    );
    assert(
      check(broken) !== undefined,
      `'${key}' did not catch its regression`,
    );
  });
}

// ---------------------------------------------------------------------------
// .env.example

/** `NAME -> value` for every `NAME=value` line, commented out or not. */
function envEntries(
  text: string,
): Map<string, { value: string; commentAbove: boolean }> {
  const out = new Map<string, { value: string; commentAbove: boolean }>();
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    const m = /^#?\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    let value = m[2].trim();
    if (/^".*"$|^'.*'$/.test(value)) value = value.slice(1, -1);
    const above = lines[i - 1] ?? "";
    // A describing comment: "# words", not another commented-out NAME=value.
    const commentAbove = /^#\s+\S/.test(above) &&
      !/^#\s?[A-Z][A-Z0-9_]*=/.test(above);
    if (!out.has(m[1])) out.set(m[1], { value, commentAbove });
  });
  return out;
}

const STACK_VARIABLES = [
  "DB_HOST",
  "DB_PORT",
  "POSTGRES_USER",
  "POSTGRES_PASSWORD",
  "POSTGRES_DB",
  "DATABASE_URL",
  "REDIS_URL",
  "PORT",
  "ALEMBIC_CMD",
  "UVICORN_CMD",
  "MIGRATE_CMD",
  "APP_CMD",
];

const envChecks: Record<string, Check> = {
  listsEveryVariable(text) {
    const entries = envEntries(text);
    const wanted = [
      ...STACK_VARIABLES,
      ...OPTIONS.map(envName).filter((n): n is string => n !== undefined),
    ];
    const missing = wanted.filter((n) => !entries.has(n));
    return missing.length ? `missing ${missing.join(", ")}` : undefined;
  },
  everyVariableHasAComment(text) {
    const bare = [...envEntries(text)].filter(([, e]) => !e.commentAbove)
      .map(([n]) => n);
    return bare.length ? `no comment line above ${bare.join(", ")}` : undefined;
  },
  optionDefaultsMatchPreflight(text) {
    const entries = envEntries(text);
    for (const spec of OPTIONS) {
      const name = envName(spec);
      const command = spec.commands.includes("run") ? "run" : spec.commands[0];
      const def = defaultFor(spec, command);
      if (!name || def === undefined) continue;
      const shown = entries.get(name)?.value;
      if (shown !== def) {
        return `${name}=${shown}, but the ${command} default is '${def}'`;
      }
    }
    return undefined;
  },
  preflightOptionsCommentedOut(text) {
    // env_file passes .env to every container: an active PREFLIGHT_TIMEOUT
    // would also change the HEALTHCHECK probe's own deadline.
    const active = text.split("\n").filter((l) => /^PREFLIGHT_/.test(l));
    return active.length
      ? `active option lines: ${active.join("; ")}`
      : undefined;
  },
  passwordIsAPlaceholder(text) {
    const entries = envEntries(text);
    const password = entries.get("POSTGRES_PASSWORD")?.value ?? "";
    const names = ["postgres", "localhost", "redis", "backend", "app"];
    for (const n of ["DB_HOST", "POSTGRES_USER", "POSTGRES_DB"]) {
      names.push(entries.get(n)?.value ?? "");
    }
    if (password.length < 12) {
      return `POSTGRES_PASSWORD '${password}' is too short for a placeholder`;
    }
    if (names.includes(password)) {
      return "POSTGRES_PASSWORD equals a host, user or database name";
    }
    return undefined;
  },
};

const envBreaks: Record<string, (t: string) => string> = {
  listsEveryVariable: (t) =>
    t.replace(/^# PREFLIGHT_WATCHDOG_FAILURES=.*\n/m, ""),
  everyVariableHasAComment: (t) => t.replace(/^# PostgreSQL port .*\n/m, ""),
  optionDefaultsMatchPreflight: (t) =>
    t.replace(
      "# PREFLIGHT_MIGRATE_ATTEMPTS=6",
      "# PREFLIGHT_MIGRATE_ATTEMPTS=5",
    ),
  preflightOptionsCommentedOut: (t) =>
    t.replace("# PREFLIGHT_TIMEOUT=", "PREFLIGHT_TIMEOUT="),
  passwordIsAPlaceholder: (t) =>
    t.replace(/^POSTGRES_PASSWORD=.*$/m, "POSTGRES_PASSWORD=postgres"),
};

const ENV_NAMES: Record<string, string> = {
  listsEveryVariable:
    ".env.example lists every stack variable and every PREFLIGHT_* option",
  everyVariableHasAComment:
    ".env.example describes every variable in a comment line",
  optionDefaultsMatchPreflight: ".env.example shows preflight's own defaults",
  preflightOptionsCommentedOut:
    ".env.example leaves PREFLIGHT_* options commented out",
  passwordIsAPlaceholder:
    ".env.example POSTGRES_PASSWORD is a long placeholder, not a host or user name",
};

for (const [key, check] of Object.entries(envChecks)) {
  Deno.test(ENV_NAMES[key], () => {
    const text = read(".env.example");
    assert(check(text) === undefined, `.env.example: ${check(text)}`);
    const broken = envBreaks[key](text);
    assert(broken !== text, `the '${key}' break did not change .env.example`);
    assert(
      check(broken) !== undefined,
      `'${key}' did not catch its regression`,
    );
  });
}

Deno.test("the Dockerfile compiles with the compile task's flags (one place: deno.json)", async () => {
  const { compileTaskFlags } = await import("../scripts/compile_all.ts");
  const df = Deno.readTextFileSync(new URL("../Dockerfile", import.meta.url));
  const compile = compileRun(resolveStage(df, "preflight")).argv;
  assert(compile, "no deno compile in the build stage");
  const flags = compile.slice(compile.indexOf("compile") + 1, -1);
  flags.splice(flags.indexOf("--output"), 2);
  assert.deepEqual(
    flags,
    compileTaskFlags(),
    "the Dockerfile's deno compile flags differ from deno.json's compile task",
  );
  assert.equal(compile.at(-1), "src/main.ts");
});

Deno.test("deno compile needs no module list: no --include in deno.json or the Dockerfile, and no computed import() in src/", () => {
  // deno compile embeds what a literal specifier names, and only that: a
  // module imported by a computed specifier would be missing from the
  // binary unless listed by hand with --include.
  const tasks = (JSON.parse(read("deno.json")) as {
    tasks: Record<string, string>;
  }).tasks;
  for (const [name, task] of Object.entries(tasks)) {
    assert(!task.includes("--include"), `deno.json task ${name}: ${task}`);
  }
  assert(!read("Dockerfile").includes("--include"), "Dockerfile --include");
  const root = new URL("../src/", import.meta.url);
  const offenders: string[] = [];
  const walk = (dir: URL, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        // Comments may say `import()`: only code counts.
        const text = Deno.readTextFileSync(new URL(e.name, dir))
          .replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        for (
          const m of text.matchAll(/(?<![\w.]|typeof\s)import\(\s*([^)]*)\)/g)
        ) {
          const arg = m[1].trim();
          if (!/^["'][^"'`$]+["']$/.test(arg)) {
            offenders.push(`${rel}${e.name}: import(${arg})`);
          }
        }
      }
    }
  };
  walk(root, "");
  assert.deepEqual(offenders, []);
});

Deno.test("src/commands/mod.ts has one line per command of the option table", () => {
  assert.deepEqual(Object.keys(HANDLERS).sort(), [...COMMANDS].sort());
});

Deno.test("every module of src/ is in src/main.ts's module graph (deno info), which deno compile embeds as it is", async () => {
  // What deno compile embeds is the graph deno info shows: the static and
  // the literal dynamic imports. A module outside it would be missing from
  // the binary (or would be dead code).
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "src/main.ts"],
    cwd: new URL(".", ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.code === 0, new TextDecoder().decode(out.stderr));
  const graph = new Set(
    (JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
    }).modules.map((m) => m.specifier),
  );
  const src = new URL("src/", ROOT);
  const missing: string[] = [];
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir));
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        const url = new URL(e.name, dir).href;
        if (!graph.has(url)) missing.push(url.slice(src.href.length));
      }
    }
  };
  walk(src);
  assert.deepEqual(missing, []);
});
