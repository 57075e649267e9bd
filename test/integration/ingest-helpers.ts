import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BatchOutcome } from '#local/sqs-poller';
import { startLocal, type LocalRuntime, type StartLocalOptions } from '#local/runtime';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * Shared by the ingest-*.test.ts files: one local runtime per file running the real ingest
 * handler, clients for its S3, SQS and table, and the waits an upload's journey needs.
 */

/** Outcomes an upload ends in; `failed` is one too, but a redrive takes it back. */
export const FINAL = new Set(['published', 'quarantined', 'rejected', 'failed']);

export interface IngestRuntime {
  readonly runtime: LocalRuntime;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly store: Store;
  /** Every handler invocation so far. */
  readonly batches: BatchOutcome[];
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface IngestRuntimeOptions {
  readonly label: string;
  /** A config to boot with instead of the example one (written to a file in the data directory's parent). */
  readonly config?: unknown;
  readonly queueOverrides?: StartLocalOptions['queueOverrides'];
  /** Where the handlers reach S3 and DynamoDB (a fault proxy). */
  readonly interpose?: StartLocalOptions['interpose'];
}

/** Boots a runtime with the real handlers on free ports and a fresh data directory. */
export async function startIngestRuntime(options: IngestRuntimeOptions): Promise<IngestRuntime> {
  const dir = tempDataDir(options.label);
  let configFile = exampleConfig;
  if (options.config !== undefined) {
    configFile = join(dir.path, 'symbiont.config.json');
    writeFileSync(configFile, JSON.stringify(options.config, null, 2));
  }
  const batches: BatchOutcome[] = [];
  // The SFTP server, when the runtime has one, gets a free port too (the cast keeps this
  // compiling against a runtime without it).
  const ports = { ...freePorts, sftp: 0 } as typeof freePorts;
  const runtime = await startLocal({
    configFile,
    dataDir: join(dir.path, 'data'),
    ports,
    queueOverrides: options.queueOverrides,
    ...(options.interpose ? { interpose: options.interpose } : {}),
    onBatch: (outcome) => batches.push(outcome),
  });
  const { endpoints } = runtime;
  const common = { region: endpoints.region, credentials: { ...endpoints.credentials } };
  const s3 = new S3Client({
    ...common,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = createStore({ client: dynamodb, tableName: endpoints.table.name });
  return {
    runtime,
    s3,
    sqs,
    store,
    batches,
    dataDir: dir.path,
    async stop() {
      s3.destroy();
      sqs.destroy();
      dynamodb.destroy();
      await runtime.stop();
      dir.remove();
    },
  };
}

/** PUTs a file into the landing bucket, as a presigned PUT or any S3 client would. */
export async function putLanding(ctx: IngestRuntime, key: string, body: string | Uint8Array): Promise<void> {
  await ctx.s3.send(new PutObjectCommand({ Bucket: ctx.runtime.endpoints.buckets.landing, Key: key, Body: body }));
}

/** The upload made through a slot, once it has an outcome. */
export async function outcomeOfSlot(ctx: IngestRuntime, slotId: string, timeoutMs = 30_000): Promise<UploadRecord> {
  return waitFor(
    `an outcome for the upload in slot ${slotId}`,
    async () => {
      const [upload] = (await ctx.store.listSlotUploads(slotId)).items;
      return upload && FINAL.has(upload.status) ? upload : undefined;
    },
    timeoutMs,
  );
}

/** The bytes of an object, or `undefined` when there is none. */
export async function readObject(ctx: IngestRuntime, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const { Body } = await ctx.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await Body!.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Whether an object exists. */
export async function exists(ctx: IngestRuntime, bucket: string, key: string): Promise<boolean> {
  try {
    await ctx.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

/** The tags of an object, as a record. */
export async function tagsOf(ctx: IngestRuntime, bucket: string, key: string): Promise<Record<string, string>> {
  const { TagSet = [] } = await ctx.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return Object.fromEntries(TagSet.map((tag) => [tag.Key, tag.Value]));
}

const run = promisify(execFile);

/** Runs `symbiont …` (cli/bin/symbiont.mjs) against the runtime's API with the admin token, as a person would. */
export async function symbiont(ctx: IngestRuntime, args: readonly string[]): Promise<string> {
  const { endpoints } = ctx.runtime;
  const { stdout } = await run(process.execPath, [join(repoRoot, 'cli', 'bin', 'symbiont.mjs'), ...args, '--api', endpoints.api, '--token', endpoints.tokens.admin], {
    cwd: ctx.dataDir,
    timeout: 60_000,
  });
  return stdout;
}
