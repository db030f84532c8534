import assert from "node:assert/strict";
import { delay } from "./delay.ts";

Deno.test("delay never resolves before the time asked, fractional milliseconds included", async () => {
  for (let i = 0; i < 100; i++) {
    const ms = 1 + Math.random() * 2;
    const t = performance.now();
    await delay(ms);
    const slept = performance.now() - t;
    assert.ok(slept >= ms, `asked ${ms.toFixed(3)} ms, slept ${slept} ms`);
  }
});

Deno.test("delay rejects with the signal's reason when it aborts, and at once when it already has", async () => {
  const ctl = new AbortController();
  const pending = delay(60_000, ctl.signal);
  ctl.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(delay(60_000, ctl.signal), /stop/);
});

/** Runs `code` in a fresh Deno with `delay` imported; its stdout, exit code. */
async function inProcess(code: string) {
  const url = new URL("./delay.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { delay } from "${url}";\n${code}`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A process kept alive by a forgotten 60 s timer would be killed here.
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const out = await child.output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  } finally {
    clearTimeout(kill);
  }
}

Deno.test("a pending delay keeps the process alive until it ends; an aborted one does not", async () => {
  const pending = await inProcess(
    'delay(300).then(() => console.log("slept"));',
  );
  assert.deepStrictEqual(pending, { code: 0, stdout: "slept\n" });
  const aborted = await inProcess(
    "const c = new AbortController();\n" +
      "delay(60_000, c.signal).catch(() => console.log('aborted'));\n" +
      "c.abort();",
  );
  assert.deepStrictEqual(aborted, { code: 0, stdout: "aborted\n" });
});
