/**
 * CLI spec cases as data (tests/specs/*.jsonc): arguments, environment,
 * expected exit code and output patterns where `[WILDCARD]` matches
 * anything. Every case runs with a migration command and an app that would
 * create a sentinel file, so a case of bad input also proves that nothing
 * ran. `$TMP` is the case's temporary directory (its working directory);
 * `$HTTP_PORT` is a server on 127.0.0.1 answering `GET /health` with 200 and
 * `{"status":"ok"}`, for the success paths.
 */
import assert from "node:assert/strict";
import { runPreflight } from "./_cli.ts";

interface SpecCase {
  name: string;
  args: string[];
  /** Variables for the run; null removes one of the runner's defaults. */
  env?: Record<string, string | null>;
  exitCode: number;
  /** Pattern the whole of standard error must match. */
  stderr?: string;
  stdout?: string;
  /** Texts that must appear nowhere in the output (secrets). */
  never?: string[];
  /** Files to create (relative to a temp dir, available as $TMP in args/env). */
  files?: Record<string, string>;
}

function toRegExp(pattern: string): RegExp {
  const parts = pattern.split("[WILDCARD]").map((p) =>
    p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`);
}

function parseJsonc(text: string): unknown {
  // Strip // comments that stand on their own line.
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, ""));
}

const dir = new URL("./specs/", import.meta.url);
for (const entry of Deno.readDirSync(dir)) {
  if (!entry.name.endsWith(".jsonc")) continue;
  const cases = parseJsonc(
    Deno.readTextFileSync(new URL(entry.name, dir)),
  ) as SpecCase[];
  for (const c of cases) {
    Deno.test(`${entry.name.replace(".jsonc", "")}: ${c.name}`, async () => {
      const tmp = await Deno.makeTempDir({ prefix: "preflight-spec-" });
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        (req) =>
          new URL(req.url).pathname === "/health"
            ? Response.json({ status: "ok" })
            : new Response("not found", { status: 404 }),
      );
      try {
        const sub = (s: string) =>
          s.replaceAll("$TMP", tmp).replaceAll(
            "$HTTP_PORT",
            String(server.addr.port),
          );
        for (const [name, content] of Object.entries(c.files ?? {})) {
          await Deno.writeTextFile(`${tmp}/${name}`, sub(content));
        }
        const sentinel = `${tmp}/ran`;
        const env: Record<string, string> = {
          // Would leave a trace if anything ran; bounded if validation slipped.
          MIGRATE_CMD: `touch ${sentinel}`,
          APP_CMD: `touch ${sentinel}`,
          PREFLIGHT_TIMEOUT: "2s",
          DB_HOST: "127.0.0.1",
          DB_PORT: "1",
        };
        for (const [k, v] of Object.entries(c.env ?? {})) {
          if (v === null) delete env[k];
          else env[k] = sub(v);
        }
        const r = await runPreflight(c.args.map(sub), env, {
          cwd: tmp,
          timeoutMs: 30_000,
        });
        const ctx = `stderr: ${r.stderr}\nstdout: ${r.stdout}`;
        assert.equal(r.code, c.exitCode, ctx);
        if (c.stderr !== undefined) {
          assert(
            toRegExp(sub(c.stderr)).test(r.stderr),
            `stderr did not match ${c.stderr}\n${ctx}`,
          );
        }
        if (c.stdout !== undefined) {
          assert(
            toRegExp(sub(c.stdout)).test(r.stdout),
            `stdout did not match ${c.stdout}\n${ctx}`,
          );
        }
        for (const secret of c.never ?? []) {
          assert(
            !r.stderr.includes(secret) && !r.stdout.includes(secret),
            `secret '${secret}' printed\n${ctx}`,
          );
        }
        let ran = false;
        try {
          await Deno.stat(sentinel);
          ran = true;
        } catch { /* absent: good */ }
        if (c.exitCode === 2) {
          assert(!ran, `something ran despite exit 2\n${ctx}`);
        }
      } finally {
        await server.shutdown();
        await Deno.remove(tmp, { recursive: true });
      }
    });
  }
}
