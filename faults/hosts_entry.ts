/**
 * A temporary line in /etc/hosts (the harness runs as root), for the "DNS
 * not yet resolvable" row. The line is removed by `remove()`, on dispose, and
 * when the process unloads, so a failed run leaves no entry behind.
 */

const HOSTS = "/etc/hosts";
const live = new Set<string>();
let unloadHooked = false;

function removeLineSync(line: string): void {
  try {
    const text = Deno.readTextFileSync(HOSTS);
    const kept = text.split("\n").filter((l) => l !== line);
    if (kept.length !== text.split("\n").length) {
      Deno.writeTextFileSync(HOSTS, kept.join("\n"));
    }
  } catch { /* nothing to remove */ }
  live.delete(line);
}

/** A unique host name under the reserved `.test` TLD. */
export function uniqueHostName(): string {
  return `preflight-fault-${crypto.randomUUID().slice(0, 8)}.test`;
}

/** An /etc/hosts line that can be added once and is always removed. */
export interface HostsEntry extends Disposable {
  readonly line: string;
  /** Appends the line to /etc/hosts. */
  add(): void;
  /** Removes the line (idempotent). */
  remove(): void;
}

/** Prepares the line `ADDRESS NAME`; nothing is written before `add()`. */
export function hostsEntry(name: string, address: string): HostsEntry {
  if (!unloadHooked) {
    unloadHooked = true;
    globalThis.addEventListener("unload", () => {
      for (const l of [...live]) removeLineSync(l);
    });
  }
  const line = `${address} ${name}`;
  return {
    line,
    add() {
      live.add(line);
      const text = Deno.readTextFileSync(HOSTS);
      Deno.writeTextFileSync(
        HOSTS,
        `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${line}\n`,
      );
    },
    remove: () => removeLineSync(line),
    [Symbol.dispose]: () => removeLineSync(line),
  };
}

/** Removes every entry still present (for signal handlers of the harness). */
export function removeAllHostsEntries(): void {
  for (const l of [...live]) removeLineSync(l);
}
