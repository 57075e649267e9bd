import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type GetObjectCommandInput,
} from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '#config/load';
import type { SymbiontConfig } from '#config/schema';
import type { IngestDeps } from '#ingest/ingest-upload';
import { type IngestMessage, parseIngestRecord } from '#ingest/messages';
import { logger } from '#shared/observability';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * Shared by the ingest*.test.ts files: the stored S3 events, the example config, S3 intercepted
 * (GetObject answers the bytes a test puts in {@link objects}), and a real table (dynalite in
 * process, fresh for each test) so that claims, versions and status guards behave as they do in AWS.
 */

// Outcomes are asserted, not read from the log.
logger.setLogLevel('ERROR');

export const DATA_BUCKET = 'symbiont-dev-data';
export const LANDING_BUCKET = 'symbiont-dev-landing';
export const NOW = new Date('2025-01-15T10:20:31.000Z');

export const exampleConfig = parseConfig(JSON.parse(readFileSync(new URL('../../symbiont.config.json', import.meta.url), 'utf8')));

/** The example config with one more dataset: readings that accept at most 100 bytes. */
export const config: Pick<SymbiontConfig, 'datasets'> = {
  datasets: { ...exampleConfig.datasets, tiny: { ...exampleConfig.datasets.readings!, maxBytes: 100 } },
};

export const VALID_CSV = 'sensor_id,taken_at,temperature,status\nS0001,2024-01-31T12:00:00Z,21.5,ok\nS0002,2024-01-31T12:00:00Z,,degraded\n';
export const OTHER_VALID_CSV = 'sensor_id,taken_at,temperature,status\nS0003,2024-02-01T08:00:00Z,-3,ok\n';
export const INVALID_CSV = 'sensor_id,taken_at,temperature,status\nS0001,2024-01-31T12:00:00Z,21.5,ok\nS0002,2024-01-31T12:00:00Z,hot,ok\nS0003,2024-01-31T12:00:00Z,20,sunny\n';

export const s3Client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
export const s3 = mockClient(s3Client);

/** What GetObject answers, by key; keys not listed hold {@link VALID_CSV}. */
export const objects = new Map<string, string | Buffer>();

const events = new Map<string, SQSEvent>();

/** A fresh copy of a stored event from events/s3/, safe to change. */
export function loadEvent(name: string): SQSEvent {
  if (!events.has(name)) events.set(name, JSON.parse(readFileSync(new URL(`../../events/s3/${name}.json`, import.meta.url), 'utf8')));
  return structuredClone(events.get(name)!);
}

/** The ingest message of a stored event, with its key (and so its delivery id) changed when `key` is given. */
export function messageFrom(name: string, key?: string): IngestMessage {
  const [message] = parseIngestRecord(loadEvent(name).Records[0]);
  return { ...message!, ...(key === undefined ? {} : { key, messageId: `${message!.messageId}-${key}` }) };
}

/** Resets the S3 mock: copies, puts and tags succeed; GetObject streams {@link objects}. */
export function resetS3(): void {
  s3.reset();
  objects.clear();
  s3.on(CopyObjectCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(PutObjectTaggingCommand).resolves({});
  s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => bodyOf(objects.get(input.Key ?? '') ?? VALID_CSV));
}

/** A GetObject answer streaming `content`, as the SDK hands out a body in Node. */
export function bodyOf(content: string | Buffer) {
  const bytes = Buffer.from(content);
  return { Body: Readable.from([bytes]) as never, ContentLength: bytes.length };
}

/** A GetObject answer whose stream breaks after its first bytes, as a dropped connection does. */
export function brokenBody() {
  const stream = new Readable({
    read() {
      this.push(Buffer.from('sensor_id,taken_at,temperature,status\n'));
      this.destroy(new Error('socket hang up'));
    },
  });
  return { Body: stream as never, ContentLength: 4096 };
}

/** A fresh table and store for one test. */
export interface TestStore {
  readonly store: Store;
  close(): Promise<void>;
}

export async function startStore(): Promise<TestStore> {
  const table: TestTable = await startTestTable();
  return { store: createStore({ client: table.client, tableName: table.tableName }), close: () => table.close() };
}

let ids = 0;

/** Upload ids start again at …01 (call before each test). */
export function resetIds(): void {
  ids = 0;
}

/** Ingest's dependencies over `store`, with a fixed clock, predictable ids and no real waiting. */
export function depsFor(store: IngestDeps['store'], overrides: Partial<IngestDeps> = {}): IngestDeps {
  return {
    store,
    s3: s3Client,
    config,
    dataBucket: DATA_BUCKET,
    now: () => NOW,
    newId: () => `01JHB4000000000000000000${String(++ids % 100).padStart(2, '0')}`,
    sleep: async () => undefined,
    ...overrides,
  };
}

/** Every upload in the store, oldest first. */
export async function allUploads(store: Store): Promise<UploadRecord[]> {
  return (await store.listUploads({ limit: 100 })).items.reverse();
}

/** The inputs of the S3 calls of one kind. */
export function inputsOf<T extends new (...args: never[]) => unknown>(command: T) {
  return s3.commandCalls(command as never).map((call) => (call.args[0] as { input: Record<string, unknown> }).input);
}
