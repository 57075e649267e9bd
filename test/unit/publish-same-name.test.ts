import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CopyObjectCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#config/load';
import { ingestUpload } from '#ingest/ingest-upload';
import { arrivalMessageId, parseIngestRecord, type IngestMessage } from '#ingest/messages';
import { publishVersion } from '#ingest/publish';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * DESIGN.md "Storage": an upload is one object version, so a file sent again under the same name
 * while the first is still being validated is a second upload, published from its own bytes.
 * From the real S3 event through ingest to publishing, on a real table (dynalite in process).
 */

const DATA_BUCKET = 'symbiont-dev-data';
const config = parseConfig(JSON.parse(readFileSync(new URL('../../symbiont.config.json', import.meta.url), 'utf8')));
const event = JSON.parse(readFileSync(new URL('../../events/s3/object-created-put.json', import.meta.url), 'utf8')) as SQSEvent;

const s3Client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const s3 = mockClient(s3Client);

let db: TestTable;
let store: Store;

beforeAll(async () => {
  db = await startTestTable();
  store = createStore({ client: db.client, tableName: db.tableName });
  s3.on(CopyObjectCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(PutObjectTaggingCommand).resolves({});
});

afterAll(async () => {
  await db?.close();
});

/** The stored event's message, as a later object version of the same key would announce it. */
function arrivalOf(versionId: string): IngestMessage {
  const [message] = parseIngestRecord(structuredClone(event.Records[0]));
  return { ...message!, versionId, messageId: arrivalMessageId(message!.bucket, message!.key, versionId) };
}

async function validated(upload: UploadRecord, content: string) {
  const validating = await store.setUploadStatus(upload.uploadId, { from: 'received', to: 'validating' });
  return publishVersion(
    {
      upload: validating,
      dataset: validating.dataset!,
      file: validating.file!,
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: content.length,
      rows: 1,
      specRevision: 'c'.repeat(64),
      profile: {},
    },
    { store, s3: s3Client, dataBucket: DATA_BUCKET },
  );
}

describe('a file re-uploaded under the same name while the first is being validated', () => {
  it('is its own upload, becomes its own version, and each version is copied from its own object version', async () => {
    // Prepare: both object versions arrive before either is published.
    const ids = ['01JH2QK7W3M9XG5V8RZB4TSN01', '01JH2QK7W3M9XG5V8RZB4TSN02'];
    const deps = { store, s3: s3Client, config, dataBucket: DATA_BUCKET, newId: () => ids.shift()! };
    const first = await ingestUpload(arrivalOf('first-version'), deps);
    const second = await ingestUpload(arrivalOf('second-version'), deps);
    if (first.kind !== 'received' || second.kind !== 'received') throw new Error(`expected two received uploads, got ${first.kind} and ${second.kind}`);

    // Act
    const [a, b] = await Promise.all([validated(first.upload, 'day,temp\n1,2\n'), validated(second.upload, 'day,temp\n1,3\n')]);

    // Assess
    expect(first.upload.key).toBe(second.upload.key);
    expect([a.upload.uploadId, b.upload.uploadId]).toEqual(['01JH2QK7W3M9XG5V8RZB4TSN01', '01JH2QK7W3M9XG5V8RZB4TSN02']);
    expect(new Set([a.version.version, b.version.version])).toEqual(new Set([1, 2]));
    const copies = s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input);
    expect(copies).toContainEqual(expect.objectContaining({ Key: a.version.key, CopySource: expect.stringMatching(/\?versionId=first-version$/) }));
    expect(copies).toContainEqual(expect.objectContaining({ Key: b.version.key, CopySource: expect.stringMatching(/\?versionId=second-version$/) }));
  });
});
