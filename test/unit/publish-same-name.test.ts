import { CopyObjectCommand, GetObjectCommand, type GetObjectCommandInput } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestUpload } from '#ingest/ingest-upload';
import { arrivalMessageId, type IngestMessage } from '#ingest/messages';
import type { Store } from '#store/store';
import { bodyOf, depsFor, inputsOf, messageFrom, OTHER_VALID_CSV, resetIds, resetS3, s3, startStore, VALID_CSV, type TestStore } from './ingest-fixtures.ts';

/**
 * DESIGN.md "Storage": an upload is one object version, so a file sent again under the same name
 * while the first is still being validated is a second upload, validated and published from its
 * own bytes. From the real S3 event through ingest to publishing, on a real table (dynalite in
 * process), with S3 answering each object version with its own bytes.
 */

let db: TestStore;
let store: Store;

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
});

afterEach(async () => {
  await db.close();
});

/** The stored event's message, as a later object version of the same key would announce it. */
function arrivalOf(versionId: string): IngestMessage {
  const message = messageFrom('object-created-put');
  return { ...message, versionId, messageId: arrivalMessageId(message.bucket, message.key, versionId) };
}

describe('a file re-uploaded under the same name while the first is being validated', () => {
  it('is its own upload, becomes its own version, and each version is read and copied from its own object version', async () => {
    // Prepare: both object versions arrive before either is published.
    const bytes: Record<string, string> = { 'first-version': VALID_CSV, 'second-version': OTHER_VALID_CSV };
    s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => bodyOf(bytes[input.VersionId ?? '']!));

    // Act
    const [a, b] = await Promise.all([ingestUpload(arrivalOf('first-version'), depsFor(store)), ingestUpload(arrivalOf('second-version'), depsFor(store))]);

    // Assess
    if (a.kind !== 'published' || b.kind !== 'published') throw new Error(`expected two published uploads, got ${a.kind} and ${b.kind}`);
    expect(a.upload.key).toBe(b.upload.key);
    expect(a.upload.uploadId).not.toBe(b.upload.uploadId);
    expect(new Set([a.version.version, b.version.version])).toEqual(new Set([1, 2]));
    expect([a.version.rows, b.version.rows]).toEqual([2, 1]);
    const copies = inputsOf(CopyObjectCommand);
    expect(copies).toContainEqual(expect.objectContaining({ Key: a.version.key, CopySource: expect.stringMatching(/\?versionId=first-version$/) }));
    expect(copies).toContainEqual(expect.objectContaining({ Key: b.version.key, CopySource: expect.stringMatching(/\?versionId=second-version$/) }));
  });
});
