import { readFileSync } from 'node:fs';
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArrivalNotFoundError } from '#ingest/errors';
import { ingestUpload } from '#ingest/ingest-upload';
import { type IngestMessage, parseIngestRecord } from '#ingest/messages';
import type { Store } from '#store/store';
import { allUploads, depsFor, inputsOf, resetIds, resetS3, s3, startStore, type TestStore } from './ingest-fixtures.ts';

/**
 * SFTP in AWS: Transfer Family events (upload completed, rename completed, upload failed) carry no
 * S3 version id, so ingest resolves the object with HeadObject and checks the ETag the upload event
 * names; each event is recognised by its id. The three stored events drive these tests.
 */

const LANDING = 'symbiont-dev-storagelanding8a1b2c3d-1q2w3e4r5t6y';

/** The ingest message of a stored Transfer Family event, as the ingest queue delivers it. */
function transferMessage(name: string): IngestMessage {
  const event = JSON.parse(readFileSync(new URL(`../../events/transfer/${name}.json`, import.meta.url), 'utf8')) as unknown;
  const sqs = JSON.parse(readFileSync(new URL('../../events/transfer/sqs-upload-completed.json', import.meta.url), 'utf8')) as SQSEvent;
  const [message] = parseIngestRecord({ ...sqs.Records[0]!, body: JSON.stringify(event) });
  return message!;
}

let db: TestStore;
let store: Store;

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
  // The current version of every key is the one the stored upload event reports.
  s3.on(HeadObjectCommand).resolves({ VersionId: 'v-current', ETag: '"8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e"', ContentLength: 131 });
});

afterEach(async () => {
  await db.close();
});

describe('ingesting Transfer Family uploads', () => {
  it('publishes an upload-completed file at the version HeadObject finds, sent by the event user', async () => {
    // Prepare
    const message = transferMessage('upload-completed');

    // Act
    const outcome = await ingestUpload(message, depsFor(store));

    // Assess
    expect(outcome.kind).toBe('published');
    expect(await allUploads(store)).toMatchObject([
      { bucket: LANDING, key: 'sftp/alice/readings/readings-2025-01-15.csv', versionId: 'v-current', source: 'sftp', sender: 'alice', dataset: 'readings', messageId: message.messageId },
    ]);
  });

  it('reads and copies the named version, not whatever the key holds later', async () => {
    // Prepare
    const message = transferMessage('upload-completed');

    // Act
    await ingestUpload(message, depsFor(store));

    // Assess
    expect(inputsOf(GetObjectCommand)[0]).toMatchObject({ Key: 'sftp/alice/readings/readings-2025-01-15.csv', VersionId: 'v-current' });
    expect(inputsOf(CopyObjectCommand)[0]?.CopySource).toContain('versionId=v-current');
  });

  it('writes the result file beside the upload, in the folder the user sees as /readings', async () => {
    // Prepare
    const message = transferMessage('upload-completed');

    // Act
    await ingestUpload(message, depsFor(store));

    // Assess
    const result = inputsOf(PutObjectCommand).find((input) => input.Key === 'sftp/alice/readings/readings-2025-01-15.csv.result.txt');
    expect(result).toMatchObject({ Bucket: LANDING });
    expect(String(result?.Body)).toMatch(/^PUBLISHED readings-2025-01-15\.csv/);
  });

  it('finds the uploaded version by its ETag when a newer file has replaced it since', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v-newer', ETag: '"00000000000000000000000000000000"', ContentLength: 90 });
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'sftp/alice/readings/readings-2025-01-15.csv', VersionId: 'v-newer', ETag: '"00000000000000000000000000000000"', Size: 90 },
        { Key: 'sftp/alice/readings/readings-2025-01-15.csv', VersionId: 'v-sent', ETag: '"8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e"', Size: 131 },
      ],
    });

    // Act
    const outcome = await ingestUpload(transferMessage('upload-completed'), depsFor(store));

    // Assess
    expect(outcome.kind === 'published' && outcome.upload.versionId).toBe('v-sent');
  });

  it('fails (for the queue to retry) when no version of the key has the event ETag', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v-newer', ETag: '"00000000000000000000000000000000"' });
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [] });

    // Act
    const ingest = ingestUpload(transferMessage('upload-completed'), depsFor(store));

    // Assess
    await expect(ingest).rejects.toBeInstanceOf(ArrivalNotFoundError);
  });

  it('changes nothing when EventBridge delivers the same event again', async () => {
    // Prepare
    const message = transferMessage('upload-completed');
    await ingestUpload(message, depsFor(store));

    // Act
    const again = await ingestUpload(message, depsFor(store));

    // Assess
    expect(again.kind).toBe('duplicate');
    expect(await allUploads(store)).toHaveLength(1);
  });

  it('skips the .filepart upload of a client that renames, without looking the object up', async () => {
    // Prepare
    const message = transferMessage('upload-completed-filepart');

    // Act
    const outcome = await ingestUpload(message, depsFor(store));

    // Assess
    expect(outcome).toMatchObject({ kind: 'skipped', key: 'sftp/alice/readings/week-03.csv.filepart' });
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('ingests the renamed file once, under its final name, with the size HeadObject reports', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v-renamed', ETag: '"b6d81b360a5672d80c27430f39153e2c"', ContentLength: 131 });
    await ingestUpload(transferMessage('upload-completed-filepart'), depsFor(store));

    // Act
    const outcome = await ingestUpload(transferMessage('rename-completed'), depsFor(store));

    // Assess
    expect(outcome.kind).toBe('published');
    expect(await allUploads(store)).toMatchObject([{ key: 'sftp/alice/readings/week-03.csv', file: 'week-03.csv', versionId: 'v-renamed', size: 131 }]);
  });

  it('rejects the file of an upload-failed event as interrupted, without reading it', async () => {
    // Prepare
    const message = transferMessage('upload-failed');

    // Act
    const outcome = await ingestUpload(message, depsFor(store));

    // Assess
    expect(outcome.kind === 'rejected' && outcome.upload.reason).toMatch(/stopped before the whole file arrived/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(inputsOf(PutObjectTaggingCommand)).toHaveLength(1);
  });

  it('skips a file that is gone from landing by the time its event is read', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));

    // Act
    const outcome = await ingestUpload(transferMessage('upload-failed'), depsFor(store));

    // Assess
    expect(outcome).toMatchObject({ kind: 'skipped', key: 'sftp/alice/readings/readings-2025-01-16.csv' });
    expect(await allUploads(store)).toEqual([]);
  });
});
