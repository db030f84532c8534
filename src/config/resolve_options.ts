/**
 * Precedence in one place: command-line flags, then environment variables,
 * then env files, then defaults. Every value is validated here, before any
 * command acts, and the result is frozen.
 */
import { ConfigError } from "../errors.ts";
import {
  type CommandName,
  defaultFor,
  envName,
  OPTIONS,
  type OptionSpec,
} from "../cli/options.ts";
import type { Invocation } from "../cli/parse_args.ts";
import { durationExpectation, parseDuration } from "./duration.ts";
import { isSecretName, registerSecretsFromEnv } from "../redact.ts";

/**
 * Resolved option values. Durations are in milliseconds; a `timeout` of
 * Infinity is `--timeout 0` (no deadline) for run, wait and migrate.
 */
export interface Options {
  readonly waitFor: readonly string[];
  readonly noDb: boolean;
  readonly noWait: boolean;
  readonly timeout: number;
  readonly onTimeout: "continue" | "fail";
  readonly attemptTimeout: number;
  readonly httpStatus?: readonly number[];
  readonly migrateCmd?: string;
  readonly noMigrate: boolean;
  readonly migrateAttempts: number;
  readonly migrateDelay: number;
  readonly migrateMaxDelay: number;
  readonly onMigrateFailure: "continue" | "fail";
  readonly noMigrateLock: boolean;
  readonly supervise: boolean;
  readonly stopTimeout: number;
  readonly watchdog?: string;
  readonly watchdogInterval: number;
  readonly watchdogFailures: number;
  readonly watchdogStartPeriod: number;
  readonly json: boolean;
  readonly queue: readonly string[];
  readonly versionTable: string;
  readonly healthUrl?: string;
  readonly file: readonly string[];
  readonly projectDirectory?: string;
  readonly noLogs: boolean;
  readonly tailLines: number;
  readonly envFile: readonly string[];
  readonly logFormat: "text" | "json";
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly logPrefix: string;
  readonly help: boolean;
}

/** Everything a command needs from its configuration. */
export interface Config {
  readonly command: CommandName;
  readonly options: Options;
  readonly positionals: readonly string[];
  readonly commandArgv?: readonly string[];
  /** The environment the app and children get: the process's, plus env files. */
  readonly env: Readonly<Record<string, string>>;
  /** Where each option's value came from, for messages. */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * Where each variable of `env` came from: "environment", "--env-file",
   * or (doctor, restart) the `./.env` path; absent: unset (a default applies).
   */
  readonly envOrigin: Readonly<Record<string, string>>;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function shown(source: string, value: string): string {
  return isSecretName(source) ? "***" : value;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off", ""];

function parseStatuses(text: string, source: string): number[] {
  const out: number[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || hi < lo) {
      throw new ConfigError(
        `Invalid ${source} '${text}': expected HTTP status codes 100-599, e.g. 200,204 or 200-399`,
      );
    }
    for (let s = lo; s <= hi; s++) out.push(s);
  }
  if (out.length === 0) {
    throw new ConfigError(
      `Invalid ${source} '${text}': expected HTTP status codes 100-599, e.g. 200,204 or 200-399`,
    );
  }
  return out;
}

/**
 * Parses one raw value of an option; `source` is the flag or variable, for
 * messages. A duration of 0 where `command` reads it as "no limit" is
 * Infinity.
 */
export function parseOptionValue(
  spec: OptionSpec,
  raw: string,
  source: string,
  command?: CommandName,
): unknown {
  const value = raw.trim();
  switch (spec.kind) {
    case "string":
      return raw;
    case "bool": {
      const v = value.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      throw new ConfigError(
        `Invalid ${source} '${
          shown(source, raw)
        }': expected true or false (1/0, yes/no, on/off)`,
      );
    }
    case "duration": {
      const ms = parseDuration(value);
      if (
        ms === 0 && command !== undefined &&
        spec.zeroMeansNone?.includes(command)
      ) return Infinity;
      if (ms === 0 && spec.positive) {
        throw new ConfigError(
          `Invalid ${source} '${
            shown(source, raw)
          }': expected a duration greater than 0, such as 500ms or 10s`,
        );
      }
      if (ms === undefined) {
        throw new ConfigError(
          `Invalid ${source} '${shown(source, raw)}': expected ${
            durationExpectation(value)
          }`,
        );
      }
      return ms;
    }
    case "count": {
      const min = spec.min ?? 0;
      if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 1e6) {
        throw new ConfigError(
          `Invalid ${source} '${
            shown(source, raw)
          }': expected a whole number from ${min} to 1000000`,
        );
      }
      return Number(value);
    }
    case "enum": {
      const choice = value.toLowerCase();
      if (!spec.choices!.includes(choice)) {
        throw new ConfigError(
          `Invalid ${source} '${shown(source, raw)}': expected ${
            spec.choices!.join(" or ")
          }`,
        );
      }
      return choice;
    }
    case "list":
      return value.split(/[\s,]+/).filter(Boolean);
    case "statuses":
      return parseStatuses(value, source);
  }
}

/**
 * Resolves every option of the invocation's command. `fileEnv` holds the
 * variables from env files; `processEnv` wins over it.
 */
export function resolveOptions(
  invocation: Invocation,
  processEnv: Record<string, string>,
  fileEnv: Record<string, string> = {},
): Config {
  const env: Record<string, string> = { ...fileEnv, ...processEnv };
  registerSecretsFromEnv(env);
  const envOrigin: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    envOrigin[name] = name in processEnv ? "environment" : "--env-file";
  }
  const command = invocation.command;
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const spec of OPTIONS) {
    const key = camel(spec.name);
    const applies = spec.commands.includes(command);
    const flag = applies ? invocation.flags.get(spec.name) : undefined;
    const variable = envName(spec);
    let result: unknown;
    if (flag !== undefined) {
      // 1. Flags.
      const parsed = flag.map((raw) =>
        parseOptionValue(spec, raw, `--${spec.name}`, command)
      );
      result = spec.kind === "list" ? parsed.flat() : parsed[parsed.length - 1];
      sources[key] = `--${spec.name}`;
    } else if (
      variable !== undefined && env[variable] !== undefined && applies
    ) {
      // 2. Variables, from the environment or 3. from env files (merged above,
      // the environment winning).
      result = parseOptionValue(spec, env[variable], variable, command);
      sources[key] = variable;
    } else if (!applies) {
      // Not an option of this command: never read, so not parsed (probe
      // runs every few seconds and parses only its own options).
      result = spec.kind === "bool"
        ? false
        : spec.kind === "list"
        ? []
        : undefined;
      sources[key] = "n/a";
    } else {
      // 4. Defaults.
      const def = defaultFor(spec, command);
      result = def === undefined
        ? (spec.kind === "bool" ? false : spec.kind === "list" ? [] : undefined)
        : parseOptionValue(spec, def, `default of --${spec.name}`, command);
      sources[key] = "default";
    }
    values[key] = result;
  }
  return Object.freeze({
    command,
    options: Object.freeze(values) as unknown as Options,
    positionals: invocation.positionals,
    commandArgv: invocation.commandArgv,
    env: Object.freeze(env),
    sources: Object.freeze(sources),
    envOrigin: Object.freeze(envOrigin),
  });
}
