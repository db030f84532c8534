/**
 * The `frontend` service: its Compose contract, and its nginx configuration
 * (frontend/default.conf) run for real by the host's nginx in front of the
 * example app started by `preflight run` after a failed migration, so the
 * proxied /api/health shows the degraded start. Only the listen port, the
 * document root and the backend's address are changed for the test (no
 * Docker here: the service name `backend` cannot resolve).
 */
import assert from "node:assert/strict";
import { freePort, startPostgres } from "./_servers.ts";
import { preflightArgv } from "./_cli.ts";
import { parse as parseYaml } from "yaml";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const BACKEND = new URL("examples/backend", ROOT).pathname;
const PUBLIC = new URL("frontend/public", ROOT).pathname;

type Obj = { [key: string]: unknown };
const obj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};

Deno.test("compose frontend serves the static page read-only from an unprivileged nginx, starts when the backend is healthy and restarts unless stopped", () => {
  const compose = parseYaml(read("docker-compose.yml"));
  const fe = obj(obj(obj(compose).services).frontend);
  assert(
    /^nginxinc\/nginx-unprivileged:[\w.-]+$/.test(String(fe.image)),
    `frontend image is ${fe.image}`,
  );
  assert(
    obj(obj(fe.depends_on).backend).condition === "service_healthy",
    "frontend does not wait for a healthy backend",
  );
  assert(fe.restart === "unless-stopped", `restart is ${fe.restart}`);
  const volumes = (fe.volumes ?? []) as string[];
  for (
    const [src, dst] of [
      ["./frontend/public", "/usr/share/nginx/html"],
      ["./frontend/default.conf", "/etc/nginx/conf.d/default.conf"],
    ]
  ) {
    assert(
      volumes.includes(`${src}:${dst}:ro`),
      `frontend does not mount ${src} read-only at ${dst}`,
    );
    Deno.statSync(new URL(src, ROOT));
  }
  const conf = read("frontend/default.conf");
  const listen = /^\s*listen (\d+);/m.exec(conf)?.[1];
  assert(listen === "8080", "nginx-unprivileged listens on 8080");
  assert(
    ((fe.ports ?? []) as string[]).some((p) => p.endsWith(`:${listen}`)),
    "the published port is not nginx's",
  );
  const test = obj(fe.healthcheck).test as string[];
  assert(
    test[0] === "CMD" && test[1] === "wget" &&
      test.at(-1) === `http://127.0.0.1:${listen}/healthz`,
    `frontend healthcheck is ${JSON.stringify(test)}`,
  );
  assert(
    /proxy_pass \$\w+;/.test(conf) &&
      conf.includes("http://backend:8000/health"),
    "default.conf does not proxy to the backend's /health",
  );
});

const hasNginx = (() => {
  try {
    return new Deno.Command("nginx", { args: ["-v"], stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

async function get(
  url: string,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name:
    "the frontend's nginx config serves the page, proxies /api/health to a backend that started degraded, and stays healthy when the backend is down",
  ignore: !hasNginx,
  async fn() {
    const password = "frontend-pw-93b1";
    await using pg = await startPostgres({
      auth: "scram",
      password,
      database: "app",
    });
    const appPort = freePort();
    const webPort = freePort();
    const dir = await Deno.makeTempDir({ prefix: "preflight-frontend-" });
    // The real config, with the three values that differ outside Compose.
    let conf = read("frontend/default.conf");
    for (
      const [from, to] of [
        ["listen 8080;", `listen 127.0.0.1:${webPort};`],
        ["root /usr/share/nginx/html;", `root ${PUBLIC};`],
        ["http://backend:8000/health", `http://127.0.0.1:${appPort}/health`],
      ]
    ) {
      assert(
        conf.split(from).length === 2,
        `'${from}' not once in default.conf`,
      );
      conf = conf.replace(from, to);
    }
    await Deno.writeTextFile(`${dir}/default.conf`, conf);
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/default.conf;
}
`,
    );
    const nginx = new Deno.Command("nginx", {
      args: ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The backend as in the stack, started by preflight: a migration that
    // fails (an unknown revision) makes a degraded start.
    const [cmd, ...pre] = preflightArgv();
    const app = new Deno.Command(cmd, {
      args: [
        ...pre,
        "run",
        "--migrate-attempts",
        "1",
        "--",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        String(appPort),
      ],
      cwd: BACKEND,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        PYTHONDONTWRITEBYTECODE: "1",
        DB_HOST: "127.0.0.1",
        DB_PORT: String(pg.port),
        POSTGRES_USER: "postgres",
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: "app",
        ALEMBIC_CMD: "alembic upgrade 9999",
      },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let appRunning = true;
    const web = `http://127.0.0.1:${webPort}`;
    try {
      const own = await until("nginx", () => get(`${web}/healthz`));
      assert(own.status === 200 && own.body === "ok\n", JSON.stringify(own));

      const page = await get(`${web}/`);
      assert(page?.status === 200, `GET / gave ${page?.status}`);
      assert(
        page.body === read("frontend/public/index.html"),
        "not index.html",
      );
      for (
        const s of ["/api/health", "PREFLIGHT_WAIT", "PREFLIGHT_MIGRATIONS"]
      ) {
        assert(page.body.includes(s), `the page does not mention ${s}`);
      }

      const health = await until("the proxied backend health", async () => {
        const r = await get(`${web}/api/health`);
        return r?.status === 200 ? r : undefined;
      });
      const body = JSON.parse(health.body);
      assert(body.status === "degraded", health.body);
      assert(body.database === "ok", health.body);
      assert(body.wait === "ready", health.body);
      assert(body.migrations === "failed", health.body);

      // Backend gone: the page's API answers 502, nginx itself stays healthy.
      app.kill("SIGTERM");
      await app.status;
      appRunning = false;
      const gone = await get(`${web}/api/health`);
      assert(gone?.status === 502, `with the backend down: ${gone?.status}`);
      assert(
        (await get(`${web}/healthz`))?.status === 200,
        "frontend unhealthy",
      );
    } finally {
      if (appRunning) {
        try {
          app.kill("SIGKILL");
        } catch { /* gone */ }
        await app.status;
      }
      nginx.kill("SIGTERM");
      await nginx.output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
