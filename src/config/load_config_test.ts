import assert from "node:assert/strict";
import { loadConfig } from "./load_config.ts";
import { envWithoutDotenv } from "./resolve_options.ts";
import { clearSecrets, scrub } from "../redact.ts";
import { ConfigError } from "../errors.ts";

/** Runs `fn` with a temporary directory holding `files`. */
async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
    clearSecrets();
  }
}

Deno.test("doctor reads ./.env only where the environment does not set a variable, and registers its secrets", async () => {
  await withFiles({
    ".env":
      "DB_HOST=localhost\nDB_PORT=6543\nPOSTGRES_PASSWORD=from-dotenv-pw\n",
  }, async (dir) => {
    const c = await loadConfig(["doctor"], { DB_PORT: "5432" }, {
      dotenv: `${dir}/.env`,
    });
    assert.equal(c.env.DB_HOST, "localhost");
    assert.equal(c.env.DB_PORT, "5432");
    assert.equal(c.envOrigin.DB_HOST, `${dir}/.env`);
    assert.equal(c.envOrigin.DB_PORT, "environment");
    assert.equal(scrub("pw=from-dotenv-pw"), "pw=***");
    // Compose reads the project's .env itself.
    assert.deepEqual(envWithoutDotenv(c), { DB_PORT: "5432" });
  });
});

Deno.test("precedence in one function: flag, environment, --env-file, ./.env, default", async () => {
  await withFiles({
    "extra.env": "PREFLIGHT_TIMEOUT=3s\nPREFLIGHT_QUEUE=from-file\n",
    ".env":
      "PREFLIGHT_TIMEOUT=2s\nPREFLIGHT_QUEUE=from-dotenv\nPREFLIGHT_VERSION_TABLE=dotenv_version\nPREFLIGHT_HEALTH_URL=http://127.0.0.1:1/dotenv\n",
  }, async (dir) => {
    const load = (args: string[], env: Record<string, string>) =>
      loadConfig(["doctor", ...args], env, { dotenv: `${dir}/.env` });
    const c = await load(
      ["--timeout", "7s", "--env-file", `${dir}/extra.env`],
      {
        PREFLIGHT_QUEUE: "from-env",
      },
    );
    assert.equal(c.options.timeout, 7000);
    assert.equal(c.sources.timeout, "--timeout");
    assert.deepEqual(c.options.queue, ["from-env"]);
    assert.equal(c.sources.queue, "PREFLIGHT_QUEUE");
    assert.equal(c.options.versionTable, "dotenv_version");
    assert.equal(
      c.sources.versionTable,
      `PREFLIGHT_VERSION_TABLE in ${dir}/.env`,
    );
    const files = await load(["--env-file", `${dir}/extra.env`], {});
    assert.equal(files.options.timeout, 3000);
    assert.deepEqual(files.options.queue, ["from-file"]);
    assert.equal(files.envOrigin.PREFLIGHT_QUEUE, "--env-file");
    const plain = await load([], {});
    assert.equal(plain.options.timeout, 2000);
    assert.equal(plain.options.healthUrl, "http://127.0.0.1:1/dotenv");
    const none = await loadConfig(["doctor"], {}, {
      dotenv: `${dir}/missing.env`,
    });
    assert.equal(none.options.timeout, 5000);
    assert.equal(none.sources.timeout, "default");
    assert.equal(none.dotenv, undefined);
  });
});

Deno.test("./.env sets no env files and no log options: the host's lines stay as the host asks", async () => {
  await withFiles({
    ".env":
      "PREFLIGHT_LOG_FORMAT=json\nPREFLIGHT_LOG_PREFIX=[x] \nPREFLIGHT_ENV_FILE=/nonexistent\n",
  }, async (dir) => {
    const c = await loadConfig(["restart"], {}, { dotenv: `${dir}/.env` });
    assert.equal(c.options.logFormat, "text");
    assert.equal(c.options.logPrefix, "");
    assert.deepEqual(c.options.envFile, []);
    // Still variables of the environment.
    assert.equal(c.env.PREFLIGHT_LOG_FORMAT, "json");
  });
});

Deno.test("only doctor and restart read ./.env", async () => {
  await withFiles(
    { ".env": "PREFLIGHT_TIMEOUT=2s\nDB_HOST=dotenv\n" },
    async (dir) => {
      for (const command of ["run", "wait", "migrate", "probe"]) {
        const c = await loadConfig([command], {}, { dotenv: `${dir}/.env` });
        assert.equal(c.env.DB_HOST, undefined, command);
        assert.notEqual(c.options.timeout, 2000, command);
      }
    },
  );
});

Deno.test("an invalid option value in ./.env is a configuration error naming the file", async () => {
  await withFiles({ ".env": "PREFLIGHT_TIMEOUT=soon\n" }, async (dir) => {
    await assert.rejects(
      loadConfig(["doctor"], {}, { dotenv: `${dir}/.env` }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message ===
          `Invalid PREFLIGHT_TIMEOUT in ${dir}/.env 'soon': expected a duration such as 500ms, 10s, 2m, 1m30s or a number of seconds`,
    );
  });
});

Deno.test("without ./.env the configuration is the environment's alone", async () => {
  const c = await loadConfig(["doctor"], { DB_HOST: "db" }, {
    dotenv: "/nonexistent/dir/.env",
  });
  assert.deepEqual(c.env, { DB_HOST: "db" });
  assert.deepEqual(c.envOrigin, { DB_HOST: "environment" });
});
