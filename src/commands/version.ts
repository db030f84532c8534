/** `preflight version`: prints the version. */
import type { CommandHandler } from "./context.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The version of this build, from deno.json. */
const VERSION: string = denoJson.version;

/** Prints `preflight VERSION (deno X, OS-ARCH)`. */
export const version: CommandHandler = (ctx) => {
  ctx.stdout.write(
    `preflight ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.os}-${Deno.build.arch})\n`,
  );
  return Promise.resolve(0);
};
