import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArrivalMetadataError } from '#ingest/errors';
import { type IngestDeps, ingestUpload } from '#ingest/ingest-upload';
import { OriginalCopyError } from '#ingest/originals';
import type { Store } from '#store/store';
import { allUploads, DATA_BUCKET, depsFor, messageFrom, resetIds, resetS3, s3, startStore, type TestStore } from './ingest-fixtures.ts';

/**
 * The first steps of every upload: a message becomes an upload record once per arrival; names
 * that are never ingested are skipped; keys naming no dataset are rejected with a reason. What
 * validation decides is in ingest-outcomes.test.ts, redeliveries and failures in
 * ingest-redelivery.test.ts.
 */

let db: TestStore;
let store: Store;

const deps = (overrides: Partial<IngestDeps> = {}) => depsFor(store, overrides);

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
});

afterEach(async () => {
  await db.close();
});

describe('ingestUpload: recording', () => {
  it('records an API upload with what the event says about the object', async () => {
    // Prepare
    const message = messageFrom('object-created-put');

    // Act
    await ingestUpload(message, deps());

    // Assess
    expect(await allUploads(store)).toMatchObject([
      {
        uploadId: '01JHB400000000000000000001',
        dataset: 'readings',
        bucket: 'symbiont-dev-landing',
        key: 'api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W2/readings-2025-01-15.csv',
        versionId: 'Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg',
        etag: '8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e',
        size: 20480,
        file: 'readings-2025-01-15.csv',
        source: 'api',
        slotId: '01JHB3Q4V7K2M9N8P6R5S4T3W2',
        messageId: message.messageId,
        receivedAt: '2025-01-15T10:20:31.000Z',
      },
    ]);
  });

  it('records the SFTP user as the sender of an upload under sftp/', async () => {
    // Prepare
    const message = messageFrom('object-created-put', 'sftp/alice/readings/day.csv');

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind === 'published' && outcome.upload).toMatchObject({ source: 'sftp', sender: 'alice', dataset: 'readings', file: 'day.csv' });
  });

  it('records whoever asked for the slot as the sender of an upload through it, and links it to the slot', async () => {
    // Prepare
    const slotId = '01JHB3Q4V7K2M9N8P6R5S4T3W2';
    await store.createUploadSlot({
      slotId,
      dataset: 'readings',
      file: 'readings-2025-01-15.csv',
      key: `api/readings/${slotId}/readings-2025-01-15.csv`,
      sender: 'field-team',
      createdAt: '2025-01-15T10:00:00.000Z',
      expiresAt: '2025-01-15T10:15:00.000Z',
    });
    const message = messageFrom('object-created-put');

    // Act
    await ingestUpload(message, deps());

    // Assess
    const [recorded] = await allUploads(store);
    expect(recorded).toMatchObject({ source: 'api', slotId, sender: 'field-team' });
    expect((await store.listSlotUploads(slotId)).items.map((u) => u.uploadId)).toEqual([recorded!.uploadId]);
  });

  it('records no sender for an upload under a slot of another dataset', async () => {
    const slotId = '01JHB3Q4V7K2M9N8P6R5S4T3W2';
    await store.createUploadSlot({
      slotId,
      dataset: 'sites',
      file: 'readings-2025-01-15.csv',
      key: `api/sites/${slotId}/readings-2025-01-15.csv`,
      sender: 'field-team',
      createdAt: '2025-01-15T10:00:00.000Z',
      expiresAt: '2025-01-15T10:15:00.000Z',
    });

    await ingestUpload(messageFrom('object-created-put'), deps());

    expect((await allUploads(store))[0]?.sender).toBeUndefined();
  });

  it('records a decoded key and file name for a URL-encoded key', async () => {
    // Prepare
    const message = messageFrom('object-created-encoded-key');

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind === 'published' && outcome.upload.file).toBe('mesures été 2025 + hiver (1).csv');
  });

  it('changes nothing when the same message is delivered again', async () => {
    // Prepare
    const message = messageFrom('object-created-put');
    await ingestUpload(message, deps());
    const before = await allUploads(store);

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(outcome).toEqual({ kind: 'duplicate', uploadId: before[0]!.uploadId });
    expect(await allUploads(store)).toEqual(before);
  });

  it('records and finishes the upload on redelivery when the first delivery stopped after claiming the message', async () => {
    // Prepare
    const message = messageFrom('object-created-put');
    await store.claimMessage(message.messageId, { uploadId: '01JHB4000000000000000000ZZ' });

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('published');
    expect((await allUploads(store)).map((u) => [u.uploadId, u.status])).toEqual([['01JHB4000000000000000000ZZ', 'published']]);
  });
});

describe('ingestUpload: files never ingested', () => {
  it.each([
    ['an unfinished WinSCP transfer', 'sftp/alice/readings/readings-2025-01-15.csv.filepart'],
    ['a temporary file', 'api/readings/slot/readings.csv.tmp'],
    ['a dot-file', 'sftp/alice/readings/.hidden.csv'],
    ['a file in a dot-folder', 'sftp/alice/.cache/readings.csv'],
    ['a result file Symbiont wrote', 'sftp/alice/readings/day.csv.result.txt'],
  ])('skips %s without a record', async (_what, key) => {
    // Prepare
    const message = messageFrom('filepart', key);

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('skipped');
    expect(await allUploads(store)).toEqual([]);
    expect(await store.getMessageClaim(message.messageId)).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('ingestUpload: rejection', () => {
  it('rejects a key naming no configured dataset, saying which datasets exist and where to upload', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('rejected');
    const [upload] = await allUploads(store);
    expect(upload).toMatchObject({ status: 'rejected', dataset: 'weather', outcomeKey: `rejected/${upload!.uploadId}/rain.csv` });
    expect(upload!.reason).toBe(
      'dataset "weather" is not configured; known datasets: readings, sites, tiny; upload to api/<dataset>/<slotId>/<file> with one of them',
    );
  });

  it('copies the rejected original, at its version, to rejected/<uploadId>/ in the data bucket', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');

    // Act
    await ingestUpload(message, deps());

    // Assess
    const [upload] = await allUploads(store);
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: DATA_BUCKET,
      Key: `rejected/${upload!.uploadId}/rain.csv`,
      CopySource: 'symbiont-dev-landing/api/weather/01JHB3S5T6U7V8W9X0Y1Z2A3B4/rain.csv?versionId=Zx5cV0bN3m.QwE8rT2yU6iO9pAs1DfGh',
    });
  });

  it('stores the reason beside the rejected original', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');

    // Act
    await ingestUpload(message, deps());

    // Assess
    const [upload] = await allUploads(store);
    const put = s3.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key === `rejected/${upload!.uploadId}/reason.json`);
    expect(put?.args[0].input.Bucket).toBe(DATA_BUCKET);
    expect(JSON.parse(String(put?.args[0].input.Body))).toMatchObject({
      uploadId: upload!.uploadId,
      status: 'rejected',
      key: 'api/weather/01JHB3S5T6U7V8W9X0Y1Z2A3B4/rain.csv',
      reason: upload!.reason,
      original: `rejected/${upload!.uploadId}/rain.csv`,
    });
  });

  it('marks the landing object as safe to expire only after the outcome is recorded', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');
    let statusWhenTagged: string | undefined;
    s3.on(PutObjectTaggingCommand).callsFake(async () => {
      statusWhenTagged = (await allUploads(store))[0]?.status;
      return {};
    });

    // Act
    await ingestUpload(message, deps());

    // Assess
    expect(statusWhenTagged).toBe('rejected');
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'symbiont-dev-landing',
      Key: 'api/weather/01JHB3S5T6U7V8W9X0Y1Z2A3B4/rain.csv',
      VersionId: 'Zx5cV0bN3m.QwE8rT2yU6iO9pAs1DfGh',
      Tagging: { TagSet: [{ Key: 'symbiont-outcome', Value: 'recorded' }] },
    });
  });

  it('keeps the upload received when the copy fails, so a redelivery can finish the rejection', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');
    s3.on(CopyObjectCommand).rejectsOnce(new Error('SlowDown')).resolves({});

    // Act
    const first = ingestUpload(message, deps());
    await expect(first).rejects.toBeInstanceOf(OriginalCopyError);
    const second = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(second.kind).toBe('rejected');
    expect((await allUploads(store)).map((u) => u.status)).toEqual(['rejected']);
  });

  it('does not copy again when a rejected upload is delivered again', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset');
    await ingestUpload(message, deps());
    s3.resetHistory();

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(outcome.kind).toBe('duplicate');
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('writes the outcome beside the file for an SFTP sender', async () => {
    // Prepare
    const message = messageFrom('unknown-dataset', 'sftp/alice/weather/rain.csv');

    // Act
    await ingestUpload(message, deps());

    // Assess
    const result = s3.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key === 'sftp/alice/weather/rain.csv.result.txt');
    expect(result?.args[0].input.Bucket).toBe('symbiont-dev-landing');
    expect(String(result?.args[0].input.Body)).toContain('upload to sftp/alice/<dataset>/<file>');
  });

  it.each([
    ['too few segments', 'api/readings/readings.csv', /is not where uploads go; upload files to api\/<dataset>\/<slotId>\/<file>/],
    ['an empty file name', 'api/readings/slot-1/', /names no file/],
    ['a sub-folder under the dataset', 'sftp/alice/readings/2025/jan.csv', /upload files to sftp\/alice\/<dataset>\/<file>/],
    ['a key outside api/ and sftp/', 'incoming/readings.csv', /neither under api\/ nor under sftp\//],
  ])('rejects a key with %s, saying where files go', async (_what, key, reason) => {
    // Prepare
    const message = messageFrom('object-created-put', key);

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('rejected');
    expect((await allUploads(store))[0]?.reason).toMatch(reason);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
  });

  it('rejects a transfer reported as broken off, asking for the file again, without validating it', async () => {
    // Prepare
    const message = { ...messageFrom('object-created-put', 'sftp/alice/readings/day.csv'), failed: true };

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('rejected');
    expect((await allUploads(store))[0]?.reason).toMatch(/transfer stopped before the whole file arrived.*send the file again/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('URL-encodes the copy source of a key with spaces and non-ASCII characters', async () => {
    // Prepare
    const message = messageFrom('object-created-encoded-key', 'api/météo/slot 1/a+b.csv');

    // Act
    await ingestUpload(message, deps());

    // Assess
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input.CopySource).toBe(
      'symbiont-dev-landing/api/m%C3%A9t%C3%A9o/slot%201/a%2Bb.csv?versionId=Lm3rT8vXq1.pNa6WbYzCe4Kd7Hf2Jg0S',
    );
  });
});

describe('ingestUpload: local arrivals', () => {
  it('records the key the arrival copy was made from, and reads the bytes from the copy', async () => {
    // Prepare
    const message = messageFrom('local-arrival');
    s3.on(HeadObjectCommand, { Key: '_arrivals/01JHB3T7V8W9X0Y1Z2A3B4C5D6' }).resolves({
      Metadata: { 'original-key': 'sftp/alice/readings/d%C3%A9c.csv' },
      ETag: '"8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e"',
      ContentLength: 20480,
    });

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind === 'published' && outcome.upload).toMatchObject({
      key: 'sftp/alice/readings/déc.csv',
      arrivalKey: '_arrivals/01JHB3T7V8W9X0Y1Z2A3B4C5D6',
      source: 'sftp',
      sender: 'alice',
      dataset: 'readings',
    });
  });

  it('skips an arrival whose original name marks it as unfinished', async () => {
    // Prepare
    const message = messageFrom('local-arrival');
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'original-key': 'sftp/alice/readings/day.csv.filepart' } });

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('skipped');
    expect(await allUploads(store)).toEqual([]);
  });

  it('copies a rejected arrival from the arrival copy, which has no version', async () => {
    // Prepare
    const message = messageFrom('local-arrival');
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'original-key': 'api/weather/slot/rain.csv' } });

    // Act
    await ingestUpload(message, deps());

    // Assess
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input.CopySource).toBe('symbiont-dev-landing/_arrivals/01JHB3T7V8W9X0Y1Z2A3B4C5D6');
  });

  it('rejects an arrival the SFTP server marked as an interrupted transfer, without validating it', async () => {
    // Prepare
    const message = messageFrom('local-arrival');
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'original-key': 'sftp/alice/readings/day.csv', 'transfer-failed': 'interrupted' } });

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind === 'rejected' && outcome.upload.reason).toMatch(/transfer stopped before the whole file arrived/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input.Key).toMatch(/^rejected\/[0-9A-Z]{26}\/day\.csv$/);
  });

  it('fails, naming the metadata, on an arrival copy that does not say where it came from', async () => {
    // Prepare
    const message = messageFrom('local-arrival');
    s3.on(HeadObjectCommand).resolves({ Metadata: {} });

    // Act
    const attempt = ingestUpload(message, deps());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ArrivalMetadataError);
    await expect(attempt).rejects.toThrow(/x-amz-meta-original-key/);
  });
});
