/**
 * The commands, one line each: a literal `import()` of the handler's
 * module, so that a command loads only what it uses and `deno compile`
 * embeds every one by itself. The names are the option table's
 * (cli/options.ts), which the type checks.
 */
import type { CommandName } from "../cli/options.ts";
import type { CommandHandler } from "./context.ts";

/** Each command's handler, loaded on first use. */
export const COMMANDS: Readonly<
  Record<CommandName, () => Promise<CommandHandler>>
> = {
  run: () => import("./run.ts").then((m) => m.run),
  wait: () => import("./wait.ts").then((m) => m.wait),
  migrate: () => import("./migrate.ts").then((m) => m.migrate),
  probe: () => import("./probe.ts").then((m) => m.probe),
  doctor: () => import("./doctor.ts").then((m) => m.doctor),
  restart: () => import("./restart.ts").then((m) => m.restart),
  version: () => import("./version.ts").then((m) => m.version),
  help: () => import("./help.ts").then((m) => m.help),
};

/** Whether `name` is a command. */
export function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}
