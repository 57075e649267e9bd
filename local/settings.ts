import { parseArgs } from 'node:util';
import type { LocalSettings } from '#config/schema';
import { LocalSettingsError } from './errors.ts';

/**
 * The local services that listen on a port, and the three ways to choose it: the config field,
 * an environment variable and a flag (flag beats env beats config; 0 picks a free port).
 */
export const localServices = {
  api: { label: 'HTTP API', configKey: 'apiPort', envVar: 'SYMBIONT_API_PORT', flag: 'api-port' },
  s3: { label: 'S3', configKey: 's3Port', envVar: 'SYMBIONT_S3_PORT', flag: 's3-port' },
  dynamodb: { label: 'DynamoDB', configKey: 'dynamodbPort', envVar: 'SYMBIONT_DYNAMODB_PORT', flag: 'dynamodb-port' },
  sqs: { label: 'SQS', configKey: 'sqsPort', envVar: 'SYMBIONT_SQS_PORT', flag: 'sqs-port' },
  sftp: { label: 'SFTP', configKey: 'sftpPort', envVar: 'SYMBIONT_SFTP_PORT', flag: 'sftp-port' },
  stepfunctions: { label: 'Step Functions', configKey: 'stepFunctionsPort', envVar: 'SYMBIONT_STEPFUNCTIONS_PORT', flag: 'stepfunctions-port' },
} as const satisfies Record<string, { label: string; configKey: keyof LocalSettings; envVar: string; flag: string }>;

/** A local service that listens on a port: `api`, `s3`, `dynamodb`, `sqs`, `sftp`, `stepfunctions`. */
export type LocalService = keyof typeof localServices;
/** The port of each local service. */
export type LocalPorts = Record<LocalService, number>;

/** Environment variable that overrides `local.dataDir`. */
export const DATA_DIR_ENV = 'SYMBIONT_DATA_DIR';

/** What a person can do about a port that is taken: the message of a `PortInUseError`. */
export function portRemedy(service: LocalService): string {
  const { configKey, envVar, flag } = localServices[service];
  return `choose another with --${flag}, ${envVar} or "local.${configKey}" in symbiont.config.json (0 picks a free port)`;
}

/** What `npm start -- <flags>` was asked for. */
export interface LocalFlags {
  readonly ports: Partial<LocalPorts>;
  readonly dataDir?: string;
  readonly config?: string;
  readonly help: boolean;
}

/** Reads the command-line flags of `npm start`; an unknown flag or a bad port throws with its name. */
export function parseLocalFlags(argv: readonly string[]): LocalFlags {
  const portFlags = Object.fromEntries(
    Object.values(localServices).map((s) => [s.flag, { type: 'string' as const }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { ...portFlags, 'data-dir': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new LocalSettingsError(`${(error as Error).message} (try --help)`, { cause: error });
  }
  const ports: Partial<LocalPorts> = {};
  for (const [service, { flag }] of Object.entries(localServices) as [LocalService, (typeof localServices)[LocalService]][]) {
    const value = values[flag];
    if (typeof value === 'string') ports[service] = parsePort(value, `--${flag}`);
  }
  return {
    ports,
    dataDir: typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined,
    config: typeof values.config === 'string' ? values.config : undefined,
    help: values.help === true,
  };
}

/** The port of each service: flag, else environment variable, else the config's `local` section. */
export function resolvePorts(local: LocalSettings, env: NodeJS.ProcessEnv, flags: Partial<LocalPorts> = {}): LocalPorts {
  const ports = {} as LocalPorts;
  for (const [service, { configKey, envVar }] of Object.entries(localServices) as [LocalService, (typeof localServices)[LocalService]][]) {
    const fromEnv = env[envVar];
    ports[service] = flags[service] ?? (fromEnv !== undefined && fromEnv !== '' ? parsePort(fromEnv, envVar) : local[configKey]);
  }
  return ports;
}

/** `--help` text. */
export function usage(): string {
  const lines = Object.values(localServices).map(
    (s) => `  --${s.flag} <port>`.padEnd(26) + `${s.label} port (env ${s.envVar}; config local.${s.configKey}; 0 = free port)`,
  );
  return [
    'Usage: npm start -- [options]',
    '',
    'Boots the local Symbiont runtime (S3, DynamoDB, SQS, the S3 bridge, queue pollers, the HTTP API,',
    'the SFTP server) in one process and writes <dataDir>/endpoints.json.',
    '',
    ...lines,
    `  --data-dir <dir>`.padEnd(26) + `where data persists (env ${DATA_DIR_ENV}; config local.dataDir; default .symbiont)`,
    `  --config <file>`.padEnd(26) + 'config file (env SYMBIONT_CONFIG; default symbiont.config.json)',
    `  -h, --help`.padEnd(26) + 'this text',
  ].join('\n');
}

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new LocalSettingsError(`${source}: "${text}" is not a port (0–65535; 0 picks a free port)`);
  }
  return port;
}
