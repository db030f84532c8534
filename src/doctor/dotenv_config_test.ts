import { withDotenv } from "./dotenv_config.ts";
import { loadConfig } from "../config/load_config.ts";
import { clearSecrets, scrub } from "../redact.ts";
import { ConfigError } from "../errors.ts";

function assertEquals<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function withFile(
  text: string,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.env`, text);
    await fn(`${dir}/.env`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    clearSecrets();
  }
}

Deno.test("withDotenv adds .env variables only where the environment does not set them", async () => {
  await withFile(
    "DB_HOST=localhost\nDB_PORT=6543\nPOSTGRES_PASSWORD=from-dotenv-pw\n",
    async (path) => {
      const config = await loadConfig(["doctor"], { DB_PORT: "5432" });
      const merged = await withDotenv(config, path);
      assertEquals(merged.env.DB_HOST, "localhost", "DB_HOST from .env");
      assertEquals(merged.env.DB_PORT, "5432", "DB_PORT from the environment");
      assertEquals(scrub("pw=from-dotenv-pw"), "pw=***", "password registered");
    },
  );
});

Deno.test("withDotenv applies PREFLIGHT_ options from .env below flags and the environment", async () => {
  await withFile(
    "PREFLIGHT_QUEUE=celery,emails\nPREFLIGHT_TIMEOUT=2s\n",
    async (path) => {
      const plain = await withDotenv(await loadConfig(["doctor"], {}), path);
      assertEquals(
        plain.options.queue,
        ["celery", "emails"],
        "queue from .env",
      );
      assertEquals(plain.options.timeout, 2000, "timeout from .env");
      const flagged = await withDotenv(
        await loadConfig(["doctor", "--timeout", "7s"], {
          PREFLIGHT_QUEUE: "other",
        }),
        path,
      );
      assertEquals(flagged.options.timeout, 7000, "flag wins");
      assertEquals(flagged.options.queue, ["other"], "environment wins");
    },
  );
});

Deno.test("withDotenv reports an invalid option value in .env as a configuration error naming the file", async () => {
  await withFile("PREFLIGHT_TIMEOUT=soon\n", async (path) => {
    let error: unknown;
    try {
      await withDotenv(await loadConfig(["doctor"], {}), path);
    } catch (e) {
      error = e;
    }
    if (!(error instanceof ConfigError)) throw new Error("no ConfigError");
    if (!error.message.includes(`PREFLIGHT_TIMEOUT in ${path}`)) {
      throw new Error(error.message);
    }
  });
});

Deno.test("withDotenv leaves the configuration as it is without a .env file", async () => {
  const config = await loadConfig(["doctor"], {});
  const same = await withDotenv(config, "/nonexistent/dir/.env");
  if (same !== config) throw new Error("config changed");
});
