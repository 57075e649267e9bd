import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, type SymbiontConfig } from './schema.ts';

export const CONFIG_FILE = 'symbiont.config.json';

/** A config that cannot be used; the message names the file and the JSON path of each bad field. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly problems: readonly { path: string; message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly config: SymbiontConfig;
  /** Absolute path of the file it came from; relative paths in the config are relative to its folder. */
  readonly file: string;
  readonly dir: string;
}

/** The config file to read: `SYMBIONT_CONFIG`, else `symbiont.config.json` in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.SYMBIONT_CONFIG ?? CONFIG_FILE);
}

/** Reads and validates the config file, or throws a {@link ConfigError} naming every bad field. */
export function loadConfig(file = configPath()): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (set SYMBIONT_CONFIG or create ${CONFIG_FILE})`, file, [], { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`, file, [], { cause: error });
  }
  return { config: parseConfig(json, file), file, dir: dirname(file) };
}

/** Validates a config object; `file` only labels the messages. */
export function parseConfig(json: unknown, file = CONFIG_FILE): SymbiontConfig {
  const result = configSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: describe(issue) }));
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  throw new ConfigError(`${file}: invalid configuration\n${lines}`, file, problems);
}

/** `['datasets', 'readings', 'columns', 2, 'type']` → `$.datasets.readings.columns[2].type` */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    const key = String(part);
    return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${out}.${key}` : `${out}[${JSON.stringify(key)}]`;
  }, '$');
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}
