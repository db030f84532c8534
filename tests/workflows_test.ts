/**
 * The GitHub Actions workflows cannot drift from the project: the Deno they
 * install is the pinned one, the release tests the binary `compile:all`
 * writes for linux x64, actions are pinned by major version, and write
 * permissions are granted only to the jobs that publish. (Their syntax,
 * expressions and action inputs are actionlint's: scripts/check-workflows.sh,
 * run by .ci/run and ci.yml.)
 */
import assert from "node:assert/strict";
import { outputFor, TARGETS } from "../scripts/compile_all.ts";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/release.yml"];

/** A job's lines: from `  NAME:` to the next job (jobs are indented by two). */
function job(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`  ${name}:`);
  assert.ok(start >= 0, `job '${name}'`);
  const end = lines.findIndex((l, i) => i > start && /^ {2}[\w-]+:$/.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

/** The `run:` commands of a workflow, one-line and block ones alike. */
function runs(text: string): string {
  return text.split("\n").filter((l) => /^\s+(- )?run:|^\s{10,}\S/.test(l))
    .join("\n");
}

Deno.test("the workflows install the Deno version scripts/install-deps.sh pins", () => {
  const pinned = /DENO_VERSION=(\S+)/.exec(read("scripts/install-deps.sh"))
    ?.[1];
  assert.ok(pinned);
  for (const file of WORKFLOWS) {
    const text = read(file);
    assert.equal(/DENO_VERSION: "([^"]+)"/.exec(text)?.[1], pinned, file);
    const setups = text.match(/uses: denoland\/setup-deno@/g) ?? [];
    const versions = text.match(/deno-version: \$\{\{ env.DENO_VERSION }}/g) ??
      [];
    assert.ok(setups.length > 0, file);
    assert.equal(versions.length, setups.length, `${file}: every setup-deno`);
  }
});

Deno.test("every action is pinned by major version", () => {
  for (const file of WORKFLOWS) {
    const uses = [...read(file).matchAll(/uses: (\S+)/g)].map((m) => m[1]);
    assert.ok(uses.length > 0, file);
    for (const u of uses) {
      assert.match(u, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/, `${file}: ${u}`);
    }
  }
});

Deno.test("ci.yml runs the static checks, actionlint, the compose check, the suite and the e2e tests", () => {
  const commands = runs(read(".github/workflows/ci.yml"));
  for (
    const c of [
      "deno fmt --check",
      "deno lint",
      "deno task check",
      "bash scripts/check-workflows.sh",
      "bash scripts/check-compose.sh",
      "bash scripts/install-deps.sh",
      "deno task test",
      "deno task e2e",
    ]
  ) {
    assert.ok(commands.includes(c), c);
  }
  assert.match(read(".ci/run"), /^bash scripts\/check-workflows\.sh$/m);
});

Deno.test("release.yml builds compile:all's five targets and runs the suite against the linux x64 binary it wrote", () => {
  const text = read(".github/workflows/release.yml");
  assert.match(text, /^on:\n {2}push:\n {4}tags: \["v\*"]$/m);
  assert.equal(TARGETS.length, 5);
  assert.ok(runs(job(text, "binaries")).includes("deno task compile:all"));
  const test = job(text, "test-binary");
  assert.match(test, /needs: binaries/);
  assert.ok(runs(test).includes("deno task test"));
  assert.equal(
    /PREFLIGHT_BIN: (\S+)/.exec(test)?.[1],
    outputFor("x86_64-unknown-linux-gnu"),
  );
  const release = job(text, "github-release");
  assert.match(release, /needs: \[binaries, test-binary]/);
  assert.match(release, /sha256sum preflight-\* > SHA256SUMS/);
  assert.match(release, /dist\/preflight-\* dist\/SHA256SUMS/);
});

Deno.test("release.yml pushes the carrier and the example image for linux/amd64 and linux/arm64", () => {
  const images = job(read(".github/workflows/release.yml"), "images");
  assert.match(images, /needs: test-binary/);
  for (
    const a of [
      "docker/setup-qemu-action@",
      "docker/setup-buildx-action@",
      "docker/login-action@",
    ]
  ) {
    assert.ok(images.includes(`uses: ${a}`), a);
  }
  const builds = images.split("uses: docker/build-push-action@").slice(1);
  assert.equal(builds.length, 2);
  assert.match(builds[0], /target: carrier\n/);
  assert.doesNotMatch(builds[1], /target:/); // the Dockerfile's last stage
  for (const b of builds) {
    assert.match(b, /platforms: linux\/amd64,linux\/arm64\n/);
    assert.match(b, /push: true\n/);
  }
  assert.match(images, /registry: ghcr\.io/);
});

Deno.test("only the publishing jobs may write: the release (contents) and the images (packages)", () => {
  const ci = read(".github/workflows/ci.yml");
  assert.match(ci, /^permissions:\n {2}contents: read$/m);
  assert.doesNotMatch(ci, /: write/);
  const release = read(".github/workflows/release.yml");
  assert.match(release, /^permissions: \{}$/m);
  const writes = [...release.matchAll(/^ {6}([\w-]+): write$/gm)];
  assert.deepEqual(writes.map((m) => m[1]), ["contents", "packages"]);
  assert.match(job(release, "github-release"), / {6}contents: write/);
  assert.match(job(release, "images"), / {6}packages: write/);
  for (const name of ["binaries", "test-binary", "github-release", "images"]) {
    assert.match(job(release, name), /\n {4}permissions:\n/, name);
  }
});
