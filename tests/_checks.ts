/**
 * Checks of target URLs built as the CLI builds them: parsed by the kind
 * that reads the scheme, through the registry (src/checks/mod.ts).
 */
import type { Check, CheckOptions } from "../src/checks/check.ts";
import { createCheck, parseTarget } from "../src/checks/mod.ts";

/** The check of a target URL. */
export async function checkOf(
  url: string,
  options: CheckOptions = {},
): Promise<Check> {
  return await createCheck(await parseTarget(url, "test"), options);
}
