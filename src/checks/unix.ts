/**
 * `unix:///path/to.sock`: ready when a connection to the Unix socket is
 * accepted. Nothing is sent: the socket's protocol is not known, and a
 * server that listens on it has, like a TCP port, said it is up.
 *
 * No socket file yet, or one nobody listens on (left by a server that
 * stopped), is transient: the server is expected to (re)create it. A path
 * that exists but is not a socket (a file, a directory, a path through a
 * file) is permanent, and so is permission denied: both are mistakes in
 * the configuration that waiting does not fix.
 */
import { type Check, NotReadyError, PermanentError } from "./check.ts";
import type { TargetKind } from "./kind.ts";
import { raceAbort } from "./connect.ts";
import { abortedError, attemptSignal } from "./attempt_signal.ts";
import { invalidTarget } from "./target.ts";
import { redactUrl } from "../redact.ts";
import type { ServerFacts } from "./server_facts.ts";

const FORM =
  "a unix:///PATH URL with an absolute path, as unix:///run/app.sock";

/** A parsed `unix://` URL. */
export interface UnixTarget {
  /** The URL as given. */
  readonly url: string;
  /** The URL as logged. */
  readonly id: string;
  readonly scheme: "unix";
  /** The socket's absolute path, percent-decoded. */
  readonly socketPath: string;
}

/** Longest socket path the kernel takes (`sun_path` less its final NUL). */
export function maxSocketPath(
  os: typeof Deno.build.os = Deno.build.os,
): number {
  // 104-byte sun_path on the BSDs (macOS included), 108 on Linux.
  return os === "darwin" || os === "freebsd" || os === "netbsd" ? 103 : 107;
}

/**
 * Parses and validates a `unix://` URL; `source` names the option or
 * variable it came from. Throws a `ConfigError` naming both for a host part
 * (`unix://host/path`), a relative path, a query, or a path longer than the
 * kernel accepts.
 */
function parseUnixUrl(text: string, source: string): UnixTarget {
  const id = redactUrl(text);
  const bad = (why: string) => invalidTarget(source, id, why);
  if (!/^unix:/i.test(text)) throw bad(`expected ${FORM}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`expected ${FORM}`);
  }
  if (url.host !== "" || url.username !== "" || url.password !== "") {
    throw bad(
      `a unix:// URL has no host: write three slashes, as unix:///${
        url.host + url.pathname
      }`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw bad(`a unix:// URL has no query or fragment, expected ${FORM}`);
  }
  let socketPath: string;
  try {
    socketPath = decodeURIComponent(url.pathname);
  } catch {
    throw bad(`invalid percent-encoding in the path, expected ${FORM}`);
  }
  if (!socketPath.startsWith("/") || socketPath === "/") {
    throw bad(`the socket path must be absolute, expected ${FORM}`);
  }
  if (socketPath.includes("\0")) throw bad("the socket path contains NUL");
  const bytes = new TextEncoder().encode(socketPath).length;
  if (bytes > maxSocketPath()) {
    throw bad(
      `the socket path is ${bytes} bytes long; the kernel accepts at most ${maxSocketPath()}`,
    );
  }
  return { url: text, id, scheme: "unix", socketPath };
}

/** What a path that refused a connection is, from `stat`. */
async function refusedBecause(path: string): Promise<Error> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    // Removed between the connect and the stat: a server restarting.
    return new NotReadyError(`no socket at ${path} (yet)`);
  }
  if (info.isSocket) {
    return new NotReadyError(
      `nothing accepts connections on ${path} (a socket left by a stopped server?)`,
    );
  }
  const kind = info.isDirectory
    ? "a directory"
    : info.isFile
    ? "a regular file"
    : info.isFifo
    ? "a named pipe"
    : "not a socket";
  return new PermanentError(
    kind === "not a socket"
      ? `${path} is not a socket`
      : `${path} is ${kind}, not a socket`,
  );
}

/** Classifies a failed connect to `path`. */
async function connectFailure(e: unknown, path: string): Promise<Error> {
  const name = (e as Error)?.name;
  const detail = String((e as Error)?.message ?? e).split("\n")[0];
  switch (name) {
    case "NotFound":
      return new NotReadyError(`no socket at ${path} (yet)`);
    case "ConnectionRefused":
      return await refusedBecause(path);
    case "NotADirectory":
      return new PermanentError(
        `${path} cannot be a socket: a parent in the path is not a directory`,
      );
    case "PermissionDenied":
      return new PermanentError(
        `permission denied connecting to ${path}: ${detail}`,
      );
  }
  return new NotReadyError(`cannot connect to ${path}: ${detail}`);
}

/** Connects to the socket and closes at once; rejects as {@linkcode unixCheck} does. */
async function connectOnce(path: string, outer: AbortSignal): Promise<void> {
  const signal = attemptSignal(outer);
  try {
    const conn = await raceAbort(
      Deno.connect({ transport: "unix", path }),
      signal,
      (late) => late.close(),
    );
    conn.close();
  } catch (e) {
    if (signal.aborted) {
      throw abortedError(signal, `accepted connection on ${path}`);
    }
    throw await connectFailure(e, path);
  }
}

/** How logs and reports name a target: "Unix socket /run/app.sock". */
function describeUnixTarget(
  target: Pick<UnixTarget, "socketPath">,
): string {
  return `Unix socket ${target.socketPath}`;
}

/** Builds a Unix socket check: ready when a connection is accepted. */
function unixCheck(target: Pick<UnixTarget, "id" | "socketPath">): Check {
  return {
    id: target.id,
    check: (signal) => connectOnce(target.socketPath, signal),
  };
}

/** What `doctor` reports about a socket: that it accepts, with its owner and permissions. */
async function unixFacts(
  target: Pick<UnixTarget, "id" | "socketPath">,
  signal: AbortSignal,
): Promise<ServerFacts> {
  await connectOnce(target.socketPath, signal);
  const info = await Deno.stat(target.socketPath);
  const mode = info.mode === null
    ? undefined
    : (info.mode & 0o7777).toString(8).padStart(4, "0");
  const data: Record<string, string | number> = { path: target.socketPath };
  if (mode) data.mode = mode;
  if (info.uid !== null) data.uid = info.uid;
  if (info.gid !== null) data.gid = info.gid;
  return {
    summary: `accepts connections${
      mode ? ` (mode ${mode}, owner ${info.uid}:${info.gid})` : ""
    }`,
    value: null,
    data,
  };
}

/** The Unix socket kind: a path, no host or port. */
export const kind: TargetKind<UnixTarget> = {
  schemes: ["unix"],
  defaultPorts: {},
  reference: [[
    "`unix:///path/to.sock`",
    "a connection to the socket is accepted; no socket yet is not ready; a path that is not a socket, or permission denied, is permanent",
  ]],
  parse: parseUnixUrl,
  check: unixCheck,
  describe: describeUnixTarget,
  facts: unixFacts,
};
