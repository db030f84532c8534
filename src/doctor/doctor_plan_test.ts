import assert from "node:assert/strict";
import { planDoctor } from "./doctor_plan.ts";
import { loadConfig } from "../config/load_config.ts";
import { clearSecrets } from "../redact.ts";

Deno.test("docker compose gets the environment and env files, not ./.env: Compose reads its project's .env itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      "COMPOSE_PROJECT_NAME=from-dotenv\nDB_HOST=dotenv-db\n",
    );
    await Deno.writeTextFile(`${dir}/extra.env`, "FROM_FILE=1\n");
    const config = await loadConfig(
      ["doctor", "--env-file", `${dir}/extra.env`],
      { PATH: "/usr/bin:/bin", DB_PORT: "6543" },
      { dotenv: `${dir}/.env` },
    );
    const plan = await planDoctor(config);
    assert.deepEqual(plan.compose.env, {
      FROM_FILE: "1",
      PATH: "/usr/bin:/bin",
      DB_PORT: "6543",
    });
    // The checks themselves do read ./.env.
    assert.equal(plan.database.host, "dotenv-db");
    assert.equal(plan.database.port, 6543);
  } finally {
    await Deno.remove(dir, { recursive: true });
    clearSecrets();
  }
});
