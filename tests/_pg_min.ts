/**
 * A minimal throwaway PostgreSQL 15 cluster for the example-backend test:
 * `initdb` with a SCRAM password on TCP (so the app's credentials really
 * matter), listening on 127.0.0.1 at a free port, its socket and data in a
 * temporary directory that {@linkcode MiniPostgres.dispose} removes.
 * (`tests/_servers.ts` is the full harness; this one stays independent of it.)
 */

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A running (or stopped) throwaway cluster. */
export interface MiniPostgres extends AsyncDisposable {
  readonly port: number;
  readonly user: string;
  /** The superuser's password: special characters on purpose. */
  readonly password: string;
  /** A `postgresql://` URL with the password percent-encoded. */
  url(database: string): string;
  /** Runs SQL through `psql` on the local socket; returns unaligned rows. */
  psql(database: string, sql: string): Promise<string>;
  /** Stops the server (immediate shutdown), keeping its files. */
  stop(): Promise<void>;
  /** Stops the server if running and removes its directory. */
  dispose(): Promise<void>;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[]): Promise<string> {
  // The server refuses to run as root; as any other user it runs as itself.
  const [file, argv] = Deno.uid() === 0
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
  const out = await new Deno.Command(file, {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C", LANG: "C" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args[0] ?? ""} failed (${out.code}): ${err}`);
  }
  return text;
}

/** Starts a fresh cluster; the caller must `dispose()` it (or `await using`). */
export async function startMiniPostgres(): Promise<MiniPostgres> {
  try {
    await Deno.stat(`${PG_BIN}/initdb`);
  } catch {
    throw new Error(
      `PostgreSQL 15 server binaries not found in '${PG_BIN}': install postgresql-15`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "preflight_pgmin_" });
  const user = "app_owner";
  const password = "Ex4mple p@ss/w%rd:#1";
  const data = `${dir}/data`;
  const port = freePort();
  let running = false;
  const stop = async () => {
    if (!running) return;
    running = false;
    await run(`${PG_BIN}/pg_ctl`, [
      "-D",
      data,
      "-m",
      "immediate",
      "-w",
      "stop",
    ]);
  };
  const dispose = async () => {
    try {
      await stop();
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
  try {
    await Deno.writeTextFile(`${dir}/pwfile`, password + "\n");
    if (Deno.uid() === 0) {
      const chown = await new Deno.Command("chown", {
        args: ["-R", "postgres:postgres", dir],
      }).output();
      if (!chown.success) throw new Error(`Cannot chown '${dir}' to postgres`);
    }
    await run(`${PG_BIN}/initdb`, [
      "-D",
      data,
      "-U",
      user,
      `--pwfile=${dir}/pwfile`,
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
      "--no-locale",
      "-E",
      "UTF8",
    ]);
    await run(`${PG_BIN}/pg_ctl`, [
      "-D",
      data,
      "-w",
      "-t",
      "60",
      "-l",
      `${dir}/server.log`,
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]);
    running = true;
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    port,
    user,
    password,
    url: (database) =>
      `postgresql://${user}:${
        encodeURIComponent(password)
      }@127.0.0.1:${port}/${database}`,
    psql: (database, sql) =>
      run("/usr/bin/psql", [
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        dir,
        "-p",
        String(port),
        "-U",
        user,
        "-d",
        database,
        "-c",
        sql,
      ]),
    stop,
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
