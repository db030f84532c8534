import assert from "node:assert/strict";
import { createProgress } from "./progress_line.ts";

Deno.test("progress off a terminal writes a line per state change and every interval, not per update", () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress({
    live: false,
    write: () => {
      throw new Error("no live writes off a terminal");
    },
    line: (s) => lines.push(s),
    everyMs: 10_000,
    now: () => t,
  });
  p.update("starting", "backend: starting", "0s of 2m");
  t = 1000;
  p.update("starting", "backend: starting", "1s of 2m");
  t = 2000;
  p.update("unhealthy", "backend: unhealthy", "2s of 2m");
  t = 12_500;
  p.update("unhealthy", "backend: unhealthy", "12s of 2m");
  p.clear();
  assert.deepEqual(lines, [
    "backend: starting (0s of 2m)",
    "backend: unhealthy (2s of 2m)",
    "backend: unhealthy (12s of 2m)",
  ], "lines");
});

Deno.test("progress on a terminal rewrites one line, clock first, cut to the width, and clears it", () => {
  let out = "";
  const p = createProgress({
    live: true,
    write: (s) => out += s,
    line: () => {
      throw new Error("no log lines on a terminal");
    },
    columns: 30,
  });
  p.update("k", "backend: starting, health check exited 1", "3s of 2m");
  p.clear();
  assert.deepEqual(
    out,
    "\r\x1b[2K⠋ [3s of 2m] backend: starti…\r\x1b[2K",
    "terminal output",
  );
});
