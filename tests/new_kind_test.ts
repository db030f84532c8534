/**
 * "A new kind of target is one file and one line" (docs/architecture.md),
 * tested as a contributor would do it: a copy of src/ gets one new file,
 * src/checks/echo.ts, and one new line in src/checks/mod.ts, and nothing
 * else; preflight run from that copy then waits for the new kind, probes
 * it, suggests it for a misspelt scheme and lists it in its help. The kind
 * is a throwaway: `echo://HOST:PORT?says=WORD` is ready when the server's
 * first line is WORD.
 */
import assert from "node:assert/strict";
import { compileFlags } from "../scripts/compile_all.ts";

const ROOT = new URL("../", import.meta.url);

/** The whole of the new kind: its one file. */
const ECHO_KIND =
  `/** \`echo://HOST:PORT?says=WORD\`: ready when the server's first line is WORD. */
import { NotReadyError } from "./check.ts";
import { connectAny } from "./connect.ts";
import { parseEndpointUrl } from "./endpoint_url.ts";
import type { TargetKind } from "./kind.ts";
import { hostPort, type Target } from "./target.ts";

type EchoTarget = Target & { host: string; port: number; says: string };

export const kind: TargetKind<EchoTarget> = {
  schemes: ["echo"],
  defaultPorts: { echo: 7 },
  reference: [["\`echo://HOST[:PORT]?says=WORD\`", "the server's first line is WORD"]],
  parse(text, source) {
    const t = parseEndpointUrl(text, source, {
      defaultPorts: { echo: 7 },
      form: "an echo://HOST[:PORT]?says=WORD URL",
    });
    return { ...t, says: t.params.get("says") ?? "READY" };
  },
  check: (target) => ({
    id: target.id,
    async check(signal) {
      const conn = await connectAny({ ...target, signal });
      try {
        const buf = new Uint8Array(64);
        const n = await conn.read(buf) ?? 0;
        const line = new TextDecoder().decode(buf.subarray(0, n)).trim();
        if (line !== target.says) {
          throw new NotReadyError(
            \`\${hostPort(target)} says '\${line}', not '\${target.says}'\`,
          );
        }
      } finally {
        conn.close();
      }
    },
  }),
  describe: (target) => \`echo server at \${hostPort(target)}\`,
};
`;

/** The one line, as mod.ts lists every kind. */
const ECHO_LINE = `  [["echo"], () => import("./echo.ts")],`;

/** Copies src/, deno.json and deno.lock; adds the file and the line. */
async function copyWithEchoKind(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-new-kind-" });
  const copy = async (from: URL, to: string) => {
    const info = await Deno.stat(from);
    if (info.isDirectory) {
      await Deno.mkdir(to);
      for await (const e of Deno.readDir(from)) {
        await copy(
          new URL(`${e.name}${e.isDirectory ? "/" : ""}`, from),
          `${to}/${e.name}`,
        );
      }
    } else await Deno.copyFile(from, to);
  };
  await copy(new URL("src/", ROOT), `${dir}/src`);
  for (const f of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(new URL(f, ROOT), `${dir}/${f}`);
  }
  await Deno.writeTextFile(`${dir}/src/checks/echo.ts`, ECHO_KIND);
  const mod = `${dir}/src/checks/mod.ts`;
  const text = await Deno.readTextFile(mod);
  const end = text.indexOf("\n];", text.indexOf("export const KINDS"));
  assert.ok(end > 0, "no KINDS list in src/checks/mod.ts");
  await Deno.writeTextFile(
    mod,
    `${text.slice(0, end)}\n${ECHO_LINE}${text.slice(end)}`,
  );
  return dir;
}

/** Files of a tree, relative to it. */
async function files(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    if (e.isDirectory) out.push(...await files(dir, `${rel}${e.name}/`));
    else out.push(`${rel}${e.name}`);
  }
  return out.sort();
}

/** A TCP server that greets every connection with the current word. */
function greeter(first: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let word = first;
  let greeted = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        greeted++;
        for (const w of waiters) if (greeted >= w.n) w.resolve();
        await conn.write(new TextEncoder().encode(`${word}\n`)).catch(() => {});
        conn.close();
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    say(next: string) {
      word = next;
    },
    /** Resolves once `n` connections were greeted. */
    greetedTimes(n: number): Promise<void> {
      return new Promise((resolve) => {
        if (greeted >= n) resolve();
        else waiters.push({ n, resolve });
      });
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
    },
  };
}

Deno.test("a new kind of target is one file and one line: a throwaway echo:// kind added to a copy of src/ is waited for and probed through the CLI", async () => {
  const dir = await copyWithEchoKind();
  try {
    // One file and one line, nothing else.
    const original = await files(new URL("src", ROOT).pathname);
    const copied = await files(`${dir}/src`);
    assert.deepEqual(
      copied.filter((f) => !original.includes(f)),
      ["checks/echo.ts"],
    );
    const before = (await Deno.readTextFile(new URL("src/checks/mod.ts", ROOT)))
      .split("\n");
    const after = (await Deno.readTextFile(`${dir}/src/checks/mod.ts`)).split(
      "\n",
    );
    assert.deepEqual(after.filter((l) => !before.includes(l)), [ECHO_LINE]);
    assert.equal(after.length, before.length + 1);

    const preflight = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...compileFlags(),
          "--config",
          `${dir}/deno.json`,
          `${dir}/src/main.ts`,
          ...args,
        ],
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    const run = async (args: string[]) => {
      const out = await preflight(args).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };

    await using server = greeter("WAIT");
    const url = `echo://127.0.0.1:${server.port}?says=READY`;

    // Not ready: the probe says why, from the kind's own message.
    const down = await run(["probe", url]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /says 'WAIT', not 'READY'/);

    // The wait goes on until the server says the word, then hands over.
    const child = preflight([
      "wait",
      "--timeout",
      "30s",
      "--log-level",
      "debug",
      url,
      "--",
      "true",
    ]).spawn();
    const output = child.output();
    // Acts once the wait has asked (the probe above was the first greeting).
    await server.greetedTimes(2);
    server.say("READY");
    const waited = await output;
    const stderr = new TextDecoder().decode(waited.stderr);
    assert.equal(waited.code, 0, stderr);
    assert.match(stderr, /not ready: 127\.0\.0\.1:\d+ says 'WAIT'/);
    assert.match(stderr, /✓ echo:\/\/127\.0\.0\.1:\d+\?says=READY is ready/);

    const up = await run(["probe", url]);
    assert.deepEqual([up.code, up.stderr], [0, ""]);

    // Routed and suggested like any other kind.
    const typo = await run(["wait", `ehco://127.0.0.1:${server.port}`]);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(
      typo.stderr,
      /unknown scheme 'ehco': did you mean 'echo:\/\/'\?/,
    );
    const help = await run(["help"]);
    assert.match(help.stdout, /^Targets: .*, echo:\/\/$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
