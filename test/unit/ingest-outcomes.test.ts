import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type IngestDeps, ingestUpload } from '#ingest/ingest-upload';
import { quarantineKeys, summarizeReport, SUMMARY_COLUMNS } from '#ingest/quarantine';
import type { Store } from '#store/store';
import { specRevision } from '#validation/spec';
import type { ValidationReport } from '#validation/validate';
import {
  allUploads,
  config,
  DATA_BUCKET,
  depsFor,
  INVALID_CSV,
  inputsOf,
  LANDING_BUCKET,
  messageFrom,
  objects,
  OTHER_VALID_CSV,
  resetIds,
  resetS3,
  s3,
  startStore,
  VALID_CSV,
  type TestStore,
} from './ingest-fixtures.ts';

/**
 * What validation decides for an upload, from the message to the stored outcome: valid files
 * become (or match) a version, invalid ones are quarantined with their report, files validation
 * refuses to read are rejected. S3 is intercepted; the table is real (dynalite in process).
 */

let db: TestStore;
let store: Store;

const deps = (overrides: Partial<IngestDeps> = {}) => depsFor(store, overrides);
const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const API_KEY = 'api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W2/readings-2025-01-15.csv';

/** The message of an API upload of `content` under `key`. */
function upload(key: string, content: string | Buffer) {
  objects.set(key, content);
  return messageFrom('object-created-put', key);
}

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
});

afterEach(async () => {
  await db.close();
});

describe('ingestUpload: valid files', () => {
  it('moves the upload to validating before it reads the file', async () => {
    // Prepare
    let statusWhenRead: string | undefined;
    s3.on(GetObjectCommand).callsFake(async () => {
      statusWhenRead = (await allUploads(store))[0]?.status;
      return { Body: (await import('node:stream')).Readable.from([Buffer.from(VALID_CSV)]), ContentLength: VALID_CSV.length };
    });

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(statusWhenRead).toBe('validating');
  });

  it('reads the landing object at the version the message names', async () => {
    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(inputsOf(GetObjectCommand)).toEqual([{ Bucket: LANDING_BUCKET, Key: API_KEY, VersionId: 'Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg' }]);
  });

  it('publishes a valid file as version 1 with its hash, rows, spec revision and profile', async () => {
    // Act
    const outcome = await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(outcome.kind === 'published' && outcome.matched).toBe(false);
    const version = await store.getVersion('readings', 1);
    expect(version).toMatchObject({ sha256: sha(VALID_CSV), bytes: VALID_CSV.length, rows: 2, specRevision: specRevision(config.datasets.readings!) });
    expect(version?.profile.temperature).toMatchObject({ nulls: 1, values: 1, min: 21.5, max: 21.5 });
    expect(await allUploads(store)).toMatchObject([{ status: 'published', version: 1, outcomeKey: 'datasets/readings/v1/readings-2025-01-15.csv' }]);
  });

  it('copies a valid original to datasets/<name>/v<n>/, naming its landing version', async () => {
    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(inputsOf(CopyObjectCommand)).toEqual([
      {
        Bucket: DATA_BUCKET,
        Key: 'datasets/readings/v1/readings-2025-01-15.csv',
        CopySource: `${LANDING_BUCKET}/${API_KEY}?versionId=Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg`,
      },
    ]);
  });

  it('numbers two different valid files 1 and 2', async () => {
    // Prepare
    const first = upload('api/readings/slot-a/a.csv', VALID_CSV);
    const second = upload('api/readings/slot-b/b.csv', OTHER_VALID_CSV);

    // Act
    const outcomes = await Promise.all([ingestUpload(first, deps()), ingestUpload(second, deps())]);

    // Assess
    expect(outcomes.map((o) => (o.kind === 'published' ? o.version.version : o.kind)).sort()).toEqual([1, 2]);
  });

  it('points a second upload of the same bytes at the version the first became', async () => {
    // Prepare
    const first = upload('api/readings/slot-a/a.csv', VALID_CSV);
    const again = upload('api/readings/slot-b/same-again.csv', VALID_CSV);
    await ingestUpload(first, deps());

    // Act
    const outcome = await ingestUpload(again, deps());

    // Assess
    expect(outcome.kind === 'published' && { matched: outcome.matched, version: outcome.version.version }).toEqual({ matched: true, version: 1 });
    expect((await store.listVersions('readings')).items).toHaveLength(1);
    expect((await allUploads(store)).map((u) => [u.status, u.version])).toEqual([
      ['published', 1],
      ['published', 1],
    ]);
  });

  it('tells an SFTP sender which version the file became, with its rows and hash', async () => {
    // Prepare
    const message = upload('sftp/alice/readings/day.csv', VALID_CSV);

    // Act
    await ingestUpload(message, deps());

    // Assess
    const result = inputsOf(PutObjectCommand).find((input) => input.Key === 'sftp/alice/readings/day.csv.result.txt');
    expect(result?.Bucket).toBe(LANDING_BUCKET);
    expect(String(result?.Body)).toContain(`Accepted as version 1 of readings (2 rows, sha256 ${sha(VALID_CSV)}).`);
  });
});

describe('ingestUpload: invalid files', () => {
  it('copies an invalid original to quarantine/<uploadId>/<file>, naming its landing version', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);

    // Act
    const outcome = await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(outcome.kind).toBe('quarantined');
    const [quarantined] = await allUploads(store);
    expect(inputsOf(CopyObjectCommand)).toEqual([
      {
        Bucket: DATA_BUCKET,
        Key: `quarantine/${quarantined!.uploadId}/readings-2025-01-15.csv`,
        CopySource: `${LANDING_BUCKET}/${API_KEY}?versionId=Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg`,
      },
    ]);
  });

  it('stores the report object as report.json and the report for people as report.txt beside the original', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);

    // Act
    const outcome = await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    const uploadId = outcome.kind === 'quarantined' ? outcome.upload.uploadId : '';
    const puts = new Map(inputsOf(PutObjectCommand).map((input) => [input.Key, input]));
    expect(JSON.parse(String(puts.get(`quarantine/${uploadId}/report.json`)?.Body))).toEqual(outcome.kind === 'quarantined' && outcome.report);
    expect(String(puts.get(`quarantine/${uploadId}/report.txt`)?.Body)).toMatch(/^readings-2025-01-15\.csv: INVALID — 2 problems found in 3 rows\./);
    expect(puts.get(`quarantine/${uploadId}/report.txt`)?.Bucket).toBe(DATA_BUCKET);
  });

  it('records the upload quarantined with the first problem and the counts as its reason', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    const [quarantined] = await allUploads(store);
    expect(quarantined?.status).toBe('quarantined');
    expect(quarantined?.reason).toBe('Row 2, column "temperature": "hot" is not a number. (2 problems in 3 rows: type.number 1, enum 1)');
  });

  it('keeps a summary of the report on the upload: counts by rule and column, the examples, where the full report is', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    const [quarantined] = await allUploads(store);
    const id = quarantined!.uploadId;
    expect(quarantined?.report).toEqual({
      errorCount: 2,
      rows: 3,
      bytes: INVALID_CSV.length,
      sha256: sha(INVALID_CSV),
      specRevision: specRevision(config.datasets.readings!),
      countsByRule: { 'type.number': 1, enum: 1 },
      countsByColumn: { temperature: 1, status: 1 },
      examples: [
        expect.objectContaining({ rule: 'type.number', row: 2, line: 3, column: 'temperature', value: 'hot' }),
        expect.objectContaining({ rule: 'enum', row: 3, line: 4, column: 'status', value: 'sunny' }),
      ],
      jsonKey: `quarantine/${id}/report.json`,
      textKey: `quarantine/${id}/report.txt`,
    });
  });

  it('keeps 20 examples and a small record for a file with a thousand problems', async () => {
    // Prepare
    const rows = Array.from({ length: 500 }, (_, i) => `S${String(i).padStart(4, '0')},2024-01-31T12:00:00Z,hot,fine`);
    objects.set(API_KEY, `sensor_id,taken_at,temperature,status\n${rows.join('\n')}\n`);

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    const [quarantined] = await allUploads(store);
    expect(quarantined?.report?.errorCount).toBe(1000);
    expect(quarantined?.report?.examples).toHaveLength(20);
    expect(quarantined?.report?.countsByRule).toEqual({ 'type.number': 500, enum: 500 });
    expect(JSON.stringify(quarantined).length).toBeLessThan(20_000);
  });

  it('marks the landing object as safe to expire only after the upload is recorded quarantined', async () => {
    // Prepare
    objects.set(API_KEY, INVALID_CSV);
    let statusWhenTagged: string | undefined;
    s3.on(PutObjectTaggingCommand).callsFake(async () => {
      statusWhenTagged = (await allUploads(store))[0]?.status;
      return {};
    });

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps());

    // Assess
    expect(statusWhenTagged).toBe('quarantined');
    expect(inputsOf(PutObjectTaggingCommand)[0]).toMatchObject({ Bucket: LANDING_BUCKET, Key: API_KEY, VersionId: 'Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg' });
  });

  it('tells an SFTP sender beside the file what was wrong, at which row and column, and what to do', async () => {
    // Prepare
    const message = upload('sftp/alice/readings/day.csv', INVALID_CSV);

    // Act
    await ingestUpload(message, deps());

    // Assess
    const result = String(inputsOf(PutObjectCommand).find((input) => input.Key === 'sftp/alice/readings/day.csv.result.txt')?.Body);
    expect(result).toMatch(/^QUARANTINED day\.csv\n/);
    expect(result).toContain('Row 2, column "temperature": "hot" is not a number.');
    expect(result).toContain('Row 3, column "status"');
    expect(result).toContain('Correct the problems listed, then send the whole file again.');
  });

  it('gives an original named like a report file a name that cannot collide with the report', () => {
    // Act
    const keys = quarantineKeys('01JHB40000000000000000000A', 'report.json');

    // Assess
    expect(keys).toEqual({
      original: 'quarantine/01JHB40000000000000000000A/original-report.json',
      json: 'quarantine/01JHB40000000000000000000A/report.json',
      text: 'quarantine/01JHB40000000000000000000A/report.txt',
    });
  });

  it('keeps the counts of the columns with most problems when thousands of columns have problems', () => {
    // Prepare
    const countsByColumn = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`extra_${i}_${'x'.repeat(200)}`, i === 7 ? 5 : 1]));
    const report = { errorCount: 3004, rows: 1, bytes: 1, specRevision: 'r', countsByRule: { 'header.unknown-column': 3004 }, countsByColumn, examples: [] };

    // Act
    const summary = summarizeReport(report as unknown as ValidationReport, { json: 'j', text: 't' });

    // Assess
    expect(Object.keys(summary.countsByColumn)).toHaveLength(SUMMARY_COLUMNS);
    expect(Object.values(summary.countsByColumn)[0]).toBe(5);
    expect(summary.otherColumns).toBe(3000 - SUMMARY_COLUMNS);
    expect(JSON.stringify(summary).length).toBeLessThan(20_000);
  });
});

describe('ingestUpload: files validation refuses to read', () => {
  it('rejects a file larger than the dataset allows, with the reason and the rule beside the original', async () => {
    // Prepare
    const message = upload('api/tiny/slot-1/big.csv', `${VALID_CSV}${'S0009,2024-01-31T12:00:00Z,1,ok\n'.repeat(5)}`);

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('rejected');
    const [rejected] = await allUploads(store);
    expect(rejected).toMatchObject({ status: 'rejected', outcomeKey: `rejected/${rejected!.uploadId}/big.csv` });
    expect(rejected?.reason).toMatch(/larger than the 100 bytes the dataset "tiny" accepts/);
    const reason = inputsOf(PutObjectCommand).find((input) => input.Key === `rejected/${rejected!.uploadId}/reason.json`);
    expect(JSON.parse(String(reason?.Body))).toMatchObject({ status: 'rejected', rule: 'size.max', reason: rejected!.reason });
  });

  it('rejects a decompression bomb without publishing or quarantining it', async () => {
    // Prepare
    const message = upload('api/readings/slot-1/bomb.csv.gz', gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x61)));

    // Act
    const outcome = await ingestUpload(message, deps());

    // Assess
    expect(outcome.kind).toBe('rejected');
    expect(inputsOf(CopyObjectCommand).map((input) => input.Key)).toEqual([expect.stringMatching(/^rejected\/[0-9A-Z]{26}\/bomb\.csv\.gz$/)]);
    expect((await allUploads(store))[0]?.reason).toMatch(/decompression bomb/);
  });
});
