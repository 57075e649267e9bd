import { writeFileSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { globalIndexes, table as tableDefinition, type QueueName } from '#shared/resources';
import { LOCAL_CREDENTIALS } from './clients.ts';
import type { LocalQueue, ResourceNames } from './provision.ts';
import type { RoleTokens } from './tokens.ts';

/**
 * `<dataDir>/endpoints.json`: everything a tool, a test or a person needs to reach the running
 * local runtime (DESIGN.md "Where it runs").
 */
export interface Endpoints {
  /** Base URL of the HTTP API. */
  readonly api: string;
  /** The API's URL that signs a browser in as admin (sets the token cookie). */
  readonly console: string;
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
  /** The local Step Functions face (`aws stepfunctions … --endpoint-url`, `AWS_ENDPOINT_URL_SFN`). */
  readonly stepfunctions: string;
  /** The state machines it runs, by role: `evaluate` runs evaluation requests. */
  readonly stateMachines: { readonly evaluate: string };
  readonly sftp: SftpEndpoint;
  readonly region: string;
  /** The one access key pair every local service accepts. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly buckets: { readonly landing: string; readonly data: string };
  readonly table: {
    readonly name: string;
    readonly indexes: readonly string[];
    /** DynamoDB TTL attribute; dynalite does not expire items, readers check it. */
    readonly ttlAttribute: string;
  };
  readonly queues: Readonly<
    Record<
      QueueName,
      {
        readonly name: string;
        readonly url: string;
        readonly arn: string;
        readonly deadLetterName: string;
        readonly deadLetterUrl: string;
        readonly visibilityTimeoutSeconds: number;
        readonly maxReceiveCount: number;
        readonly batchSize: number;
      }
    >
  >;
  /** Bearer tokens, one per role. */
  readonly tokens: RoleTokens;
  /** The datasets the uploader token may use. */
  readonly uploaderDatasets: readonly string[];
  readonly dataDir: string;
  readonly configFile: string;
  /** The process serving all this. */
  readonly pid: number;
  readonly startedAt: string;
}

/** How to reach the local SFTP server, and the demo user to try it with. */
export interface SftpEndpoint {
  readonly host: string;
  readonly port: number;
  /** The demo user: one whose key pair the runtime generated (`demo` when configured); null when there is none. */
  readonly user: string | null;
  /** The demo user's private key (OpenSSH format, owner-only). */
  readonly privateKeyPath: string | null;
  /** A `known_hosts` file naming the server's host key, so `sftp -b` (batch mode) trusts it. */
  readonly knownHostsPath: string;
  /** An OpenSSH `sftp` command, in batch mode, that uploads `my.csv` as the demo user (bash). */
  readonly command: string | null;
  /** The datasets of the demo user (one folder each). */
  readonly datasets: readonly string[];
}

/** What {@link describeEndpoints} needs to know of the running runtime. */
export interface EndpointsInput {
  readonly urls: { readonly api: string; readonly s3: string; readonly dynamodb: string; readonly sqs: string; readonly stepfunctions: string };
  /** The evaluation state machine's ARN. */
  readonly stateMachineArn: string;
  readonly region: string;
  readonly names: ResourceNames;
  readonly queues: readonly LocalQueue[];
  readonly tokens: RoleTokens;
  readonly uploaderDatasets: readonly string[];
  readonly dataDir: string;
  readonly configFile: string;
  readonly sftp: Omit<SftpEndpoint, 'command'>;
}

/** Describes the running runtime. */
export function describeEndpoints(input: EndpointsInput): Endpoints {
  const { urls, names } = input;
  return {
    api: urls.api,
    console: `${urls.api}/?token=${encodeURIComponent(input.tokens.admin)}`,
    s3: urls.s3,
    dynamodb: urls.dynamodb,
    sqs: urls.sqs,
    stepfunctions: urls.stepfunctions,
    stateMachines: { evaluate: input.stateMachineArn },
    sftp: { ...input.sftp, command: sftpCommand(input.sftp, (file) => file) },
    region: input.region,
    credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey },
    buckets: { landing: names.landingBucket, data: names.dataBucket },
    table: { name: names.table, indexes: globalIndexes.map((i) => i.name), ttlAttribute: tableDefinition.ttlAttribute },
    queues: Object.fromEntries(
      input.queues.map((q) => [
        q.name,
        {
          name: names.queue(q.name),
          url: q.url,
          arn: q.arn,
          deadLetterName: names.deadLetterQueue(q.name),
          deadLetterUrl: q.deadLetterUrl,
          visibilityTimeoutSeconds: q.definition.visibilityTimeoutSeconds,
          maxReceiveCount: q.definition.maxReceiveCount,
          batchSize: q.definition.batchSize,
        },
      ]),
    ) as Endpoints['queues'],
    tokens: input.tokens,
    uploaderDatasets: input.uploaderDatasets,
    dataDir: input.dataDir,
    configFile: input.configFile,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
}

/**
 * The OpenSSH command that uploads `my.csv` to the demo user's first dataset folder, in batch mode
 * (`-b -`: commands from stdin, exit status non-zero when one fails). `path` writes file names
 * (the banner makes them relative). Batch mode never asks whether to trust a host, hence the
 * known_hosts file; `IdentitiesOnly` keeps keys of an ssh-agent from using up the login attempts.
 */
export function sftpCommand(sftp: Omit<SftpEndpoint, 'command'>, path: (file: string) => string): string | null {
  if (sftp.user === null || sftp.privateKeyPath === null) return null;
  const folder = sftp.datasets[0] ?? '';
  return [
    'sftp',
    `-i ${shellWord(path(sftp.privateKeyPath))}`,
    `-o UserKnownHostsFile=${shellWord(path(sftp.knownHostsPath))}`,
    '-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes',
    `-P ${sftp.port}`,
    `-b - ${sftp.user}@${sftp.host}`,
    `<<< 'put my.csv ${folder}/'`,
  ].join(' ');
}

/** A word the shell reads back as itself. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment that points the AWS SDKs, the AWS CLI and the `symbiont` CLI at the local
 * runtime. The checksum settings keep s3rver from storing SDK checksum trailers in the object.
 */
export function localAwsEnv(endpoints: Endpoints): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: endpoints.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoints.credentials.secretAccessKey,
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SFN: endpoints.stepfunctions,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
  };
}

/**
 * Writes `endpoints.json` (owner-only: it holds the tokens) and `env.sh`, the same settings as
 * shell exports. Written to a temporary name and renamed, so a reader never sees half a file.
 */
export function writeEndpoints(dataDir: string, endpoints: Endpoints): { json: string; env: string } {
  const json = join(dataDir, 'endpoints.json');
  const env = join(dataDir, 'env.sh');
  writeAtomically(json, `${JSON.stringify(endpoints, null, 2)}\n`);
  const exports = Object.entries({ ...localAwsEnv(endpoints), SYMBIONT_API_URL: endpoints.api, SYMBIONT_TOKEN: endpoints.tokens.admin })
    .map(([name, value]) => `export ${name}='${value}'`)
    .join('\n');
  writeAtomically(
    env,
    `# Points the AWS CLI, the SDKs and the symbiont CLI at the local runtime (written by npm start).\n# Use: source ${relative(process.cwd(), env) || env}\nunset AWS_PROFILE AWS_SESSION_TOKEN\n${exports}\n`,
  );
  return { json, env };
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The banner `npm start` prints once everything listens. */
export function banner(endpoints: Endpoints, files: { json: string; env: string }, bootMs: number): string {
  const rel = (file: string) => relative(process.cwd(), file) || file;
  const queueNames = Object.values(endpoints.queues).map((q) => q.name).join(', ');
  const dataset = endpoints.uploaderDatasets[0] ?? 'readings';
  const sftpLine = sftpCommand(endpoints.sftp, rel);
  return [
    '',
    `Symbiont is running locally (ready in ${(bootMs / 1000).toFixed(1)} s; data in ${rel(endpoints.dataDir)}/)`,
    '',
    `  API + console  ${endpoints.console}`,
    `  S3             ${endpoints.s3}   buckets ${endpoints.buckets.landing}, ${endpoints.buckets.data}`,
    `  DynamoDB       ${endpoints.dynamodb}   table ${endpoints.table.name}`,
    `  SQS            ${endpoints.sqs}   queues ${queueNames} (each with a DLQ)`,
    `  Step Functions ${endpoints.stepfunctions}   state machine ${endpoints.stateMachines.evaluate.split(':').pop()}`,
    `  SFTP           sftp://${endpoints.sftp.host}:${endpoints.sftp.port}${endpoints.sftp.user ? `   user ${endpoints.sftp.user}, folders ${endpoints.sftp.datasets.join(', ')}` : ''}`,
    `  Everything else (tokens per role, queue URLs, credentials): ${rel(files.json)}`,
    '',
    'Try:',
    `  source ${rel(files.env)}   # points the AWS CLI and SDKs here`,
    `  aws s3 cp my.csv s3://${endpoints.buckets.landing}/api/${dataset}/$(date +%s)/my.csv`,
    `  curl -H 'Authorization: Bearer ${endpoints.tokens.admin}' ${endpoints.api}/uploads`,
    '  npx symbiont uploads list',
    '  node examples/create-repos.mjs && npx symbiont evaluations run forecast --wait   # continuous evaluation, worked example',
    `  aws stepfunctions list-executions --state-machine-arn ${endpoints.stateMachines.evaluate}`,
    ...(sftpLine ? [`  ${sftpLine}`, `      # then 'get ${endpoints.sftp.datasets[0]}/my.csv.result.txt' the same way: the outcome, in plain words`] : []),
    '',
    'Stage commands run with your rights. Ctrl-C stops (data stays).',
    '',
  ].join('\n');
}
