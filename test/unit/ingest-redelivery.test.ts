import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type IngestDeps, ingestUpload } from '#ingest/ingest-upload';
import { OriginalCopyError } from '#ingest/originals';
import { ContentClaimBusyError } from '#store/errors';
import type { Store } from '#store/store';
import { InputReadError } from '#validation/errors';
import {
  allUploads,
  bodyOf,
  brokenBody,
  depsFor,
  INVALID_CSV,
  inputsOf,
  messageFrom,
  objects,
  resetIds,
  resetS3,
  s3,
  startStore,
  VALID_CSV,
  type TestStore,
} from './ingest-fixtures.ts';

/**
 * Redeliveries and failures: a crash anywhere, followed by a redelivery, ends in exactly one
 * outcome with the original in the data bucket; internal errors are retried, and on the last
 * receive the upload is marked `failed` with its original left untagged in landing; a later
 * delivery (a redrive) resumes it.
 */

let db: TestStore;
let store: Store;

const deps = (overrides: Partial<IngestDeps> = {}) => depsFor(store, { maxReceiveCount: 5, ...overrides });
const API_KEY = 'api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W2/readings-2025-01-15.csv';
const LAST = { receiveCount: 5 } as const;

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
});

afterEach(async () => {
  await db.close();
});

describe('ingestUpload: a redelivery after a crash', () => {
  it('finishes a quarantine that stopped before the report was stored', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);
    const message = messageFrom('object-created-put');
    s3.on(PutObjectCommand).rejectsOnce(new Error('InternalError')).resolves({});
    await expect(ingestUpload(message, deps())).rejects.toThrow('InternalError');

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(outcome.kind).toBe('quarantined');
    const [quarantined] = await allUploads(store);
    expect(quarantined?.status).toBe('quarantined');
    expect(inputsOf(PutObjectCommand).filter((input) => input.Key === `quarantine/${quarantined!.uploadId}/report.json`)).toHaveLength(2);
  });

  it('only tags the landing object when an upload that has its outcome is delivered again', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);
    const message = messageFrom('object-created-put');
    await ingestUpload(message, deps());
    s3.resetHistory();

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(outcome.kind).toBe('duplicate');
    expect(s3.calls().map((call) => (call.args[0] as object).constructor.name)).toEqual(['PutObjectTaggingCommand']);
  });

  it('validates again and publishes when the first attempt lost its input stream', async () => {
    // Prepare
    const message = messageFrom('object-created-put');
    s3.on(GetObjectCommand).callsFakeOnce(brokenBody).callsFake(() => bodyOf(VALID_CSV));
    await expect(ingestUpload(message, deps())).rejects.toBeInstanceOf(InputReadError);

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps({}), { receiveCount: 2 });

    // Assess
    expect(outcome.kind === 'published' && outcome.version.version).toBe(1);
  });

  it('ends in one outcome when the same message is delivered twice at once', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);
    const message = messageFrom('object-created-put');

    // Act
    const outcomes = await Promise.all([ingestUpload(message, deps()), ingestUpload(structuredClone(message), deps())]);

    // Assess
    expect(outcomes.every((o) => o.kind === 'quarantined' || o.kind === 'duplicate')).toBe(true);
    expect((await allUploads(store)).map((u) => u.status)).toEqual(['quarantined']);
  });
});

describe('ingestUpload: internal errors', () => {
  it('keeps the upload validating when an attempt before the last one fails, for the queue to retry', async () => {
    // Prepare
    s3.on(GetObjectCommand).callsFake(brokenBody);

    // Act
    const attempt = ingestUpload(messageFrom('object-created-put'), deps(), { receiveCount: 4 });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InputReadError);
    expect((await allUploads(store)).map((u) => u.status)).toEqual(['validating']);
  });

  it('marks the upload failed with the reason on the last receive, and still throws for the DLQ', async () => {
    // Prepare
    s3.on(GetObjectCommand).callsFake(brokenBody);

    // Act
    const attempt = ingestUpload(messageFrom('object-created-put'), deps(), LAST);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InputReadError);
    const [failed] = await allUploads(store);
    expect(failed?.status).toBe('failed');
    expect(failed?.reason).toMatch(/^processing failed on all 5 attempts because of an internal error/);
    expect(failed?.reason).toMatch(/kept in landing .* dead-letter queue/);
    expect(failed?.reason).not.toMatch(/socket hang up|InputReadError/);
  });

  it('leaves a failed upload’s original in landing, untagged, and copies nothing', async () => {
    // Prepare
    s3.on(GetObjectCommand).callsFake(brokenBody);

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps(), LAST).catch(() => undefined);

    // Assess
    expect(inputsOf(PutObjectTaggingCommand)).toEqual([]);
    expect(inputsOf(CopyObjectCommand)).toEqual([]);
  });

  it('tells an SFTP sender that a failed file is kept and will be processed again', async () => {
    // Prepare
    s3.on(GetObjectCommand).callsFake(brokenBody);

    // Act
    await ingestUpload(messageFrom('object-created-put', 'sftp/alice/readings/day.csv'), deps(), LAST).catch(() => undefined);

    // Assess
    const result = String(inputsOf(PutObjectCommand).find((input) => input.Key === 'sftp/alice/readings/day.csv.result.txt')?.Body);
    expect(result).toMatch(/^FAILED day\.csv\n[\s\S]*kept and will be processed again/);
  });

  it('resumes a failed upload when its message is delivered again (a redrive), without the old reason', async () => {
    // Prepare
    const message = messageFrom('object-created-put');
    s3.on(GetObjectCommand).callsFakeOnce(brokenBody).callsFake(() => bodyOf(VALID_CSV));
    await ingestUpload(message, deps(), LAST).catch(() => undefined);

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps(), { receiveCount: 1 });

    // Assess
    expect(outcome.kind).toBe('published');
    const [published] = await allUploads(store);
    expect(published).toMatchObject({ status: 'published', version: 1 });
    expect(published).not.toHaveProperty('reason');
  });

  it('publishes under the number it reserved when a copy failed every time and the upload is redriven', async () => {
    // Prepare
    const message = messageFrom('object-created-put');
    s3.on(CopyObjectCommand).rejects(new Error('NoSuchBucket'));
    await expect(ingestUpload(message, deps(), LAST)).rejects.toBeInstanceOf(OriginalCopyError);
    const failed = (await allUploads(store))[0];
    s3.on(CopyObjectCommand).resolves({});

    // Act
    const outcome = await ingestUpload(structuredClone(message), deps());

    // Assess
    expect(failed?.status).toBe('failed');
    expect(outcome.kind === 'published' && outcome.version).toMatchObject({ version: 1, key: 'datasets/readings/v1/readings-2025-01-15.csv' });
    expect((await store.getDatasetHead('readings'))?.allocated).toBe(1);
  });

  it('keeps an outcome recorded before the last attempt failed', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);
    s3.on(PutObjectTaggingCommand).rejects(new Error('SlowDown'));

    // Act
    const attempt = ingestUpload(messageFrom('object-created-put'), deps(), LAST);

    // Assess
    await expect(attempt).rejects.toThrow('SlowDown');
    expect((await allUploads(store)).map((u) => u.status)).toEqual(['quarantined']);
  });
});

describe('ingestUpload: the same bytes being published by another upload', () => {
  it('waits while the other upload publishes them, then matches its version', async () => {
    // Prepare: the first upload of these bytes stops after claiming them (its copy fails).
    const first = messageFrom('object-created-put', 'api/readings/slot-a/a.csv');
    const second = messageFrom('object-created-put', 'api/readings/slot-b/b.csv');
    s3.on(CopyObjectCommand).rejectsOnce(new Error('SlowDown')).resolves({});
    await ingestUpload(first, deps()).catch(() => undefined);
    // While the second waits, the first is delivered again and finishes.
    const sleep = vi.fn(async () => {
      await ingestUpload(structuredClone(first), deps());
    });

    // Act
    const outcome = await ingestUpload(second, deps({ sleep }));

    // Assess
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(outcome.kind === 'published' && { matched: outcome.matched, version: outcome.version.version }).toEqual({ matched: true, version: 1 });
  });

  it('marks the upload failed on the last receive when the other upload holds the bytes all along', async () => {
    // Prepare
    const first = messageFrom('object-created-put', 'api/readings/slot-a/a.csv');
    s3.on(CopyObjectCommand).rejectsOnce(new Error('SlowDown')).resolves({});
    await ingestUpload(first, deps()).catch(() => undefined);

    // Act
    const attempt = ingestUpload(messageFrom('object-created-put', 'api/readings/slot-b/b.csv'), deps(), LAST);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ContentClaimBusyError);
    const statuses = (await allUploads(store)).map((u) => [u.key, u.status]).sort();
    expect(statuses).toEqual([
      ['api/readings/slot-a/a.csv', 'validating'],
      ['api/readings/slot-b/b.csv', 'failed'],
    ]);
  });
});
