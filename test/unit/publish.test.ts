import { createHash } from 'node:crypto';
import { CopyObjectCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishVersion, type PublishDeps, type PublishInput, type PublishStore } from '#ingest/publish';
import { ContentClaimBusyError } from '#store/errors';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * Publishing against a real table (dynalite in process) with S3 intercepted: where the original
 * goes, what is recorded, and in which order, including redeliveries and failures half-way.
 */

const DATA_BUCKET = 'symbiont-dev-data';
const LANDING_BUCKET = 'symbiont-dev-landing';
const NOW = new Date('2025-01-07T09:30:00.000Z');

const s3Client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const s3 = mockClient(s3Client);

let db: TestTable;
let store: Store;
let counter = 0;

beforeAll(async () => {
  db = await startTestTable();
  store = createStore({ client: db.client, tableName: db.tableName });
});

afterAll(async () => {
  await db?.close();
});

beforeEach(() => {
  s3.reset();
  s3.on(CopyObjectCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(PutObjectTaggingCommand).resolves({});
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const freshDataset = () => `readings${++counter}`;
const nextUploadId = () => `01JH2QK7W3M9XG5V8RZB4T${String(++counter).padStart(4, '0')}`;

/** An upload recorded and moved to `validating`, as ingest leaves it before publishing. */
async function validatingUpload(dataset: string, overrides: Partial<UploadRecord> = {}): Promise<UploadRecord> {
  const uploadId = overrides.uploadId ?? nextUploadId();
  await store.createUpload({
    uploadId,
    dataset,
    bucket: LANDING_BUCKET,
    key: `api/${dataset}/slot-1/day.csv`,
    versionId: `version-of-${uploadId}`,
    file: 'day.csv',
    source: 'api',
    sender: 'field-team',
    status: 'received',
    receivedAt: '2025-01-07T09:00:00.000Z',
    updatedAt: '2025-01-07T09:00:00.000Z',
    ...overrides,
  });
  return store.setUploadStatus(uploadId, { from: 'received', to: 'validating', at: '2025-01-07T09:00:01.000Z' });
}

function inputFor(upload: UploadRecord, content: string): PublishInput {
  return {
    upload,
    dataset: upload.dataset!,
    file: upload.file!,
    sha256: sha(content),
    bytes: content.length,
    rows: content.split('\n').length - 1,
    specRevision: 'a'.repeat(64),
    profile: { temperature: { nulls: 1, values: 2, min: -3.5, max: 21, distinctEstimate: 2 } },
  };
}

function deps(overrides: Partial<PublishDeps> = {}): PublishDeps {
  return { store, s3: s3Client, dataBucket: DATA_BUCKET, now: () => NOW, ...overrides };
}

describe('publishing a valid upload', () => {
  it('stores the original at datasets/<name>/v1/<file>, naming the landing object version', async () => {
    // Prepare
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);

    // Act
    await publishVersion(inputFor(upload, 'a\n1\n'), deps());

    // Assess
    expect(s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: DATA_BUCKET, Key: `datasets/${dataset}/v1/day.csv`, CopySource: `${LANDING_BUCKET}/api/${dataset}/slot-1/day.csv?versionId=version-of-${upload.uploadId}` },
    ]);
  });

  it('records the version with its number, hash, size, rows, spec revision, profile, upload and sender', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);

    await publishVersion(inputFor(upload, 'a\n1\n2\n'), deps());

    expect(await store.getVersion(dataset, 1)).toEqual({
      dataset,
      version: 1,
      state: 'published',
      sha256: sha('a\n1\n2\n'),
      bytes: 6,
      rows: 3,
      specRevision: 'a'.repeat(64),
      profile: { temperature: { nulls: 1, values: 2, min: -3.5, max: 21, distinctEstimate: 2 } },
      uploadId: upload.uploadId,
      sender: 'field-team',
      file: 'day.csv',
      key: `datasets/${dataset}/v1/day.csv`,
      reservedAt: NOW.toISOString(),
      createdAt: NOW.toISOString(),
    });
  });

  it('sets the upload published with its version and where its original now is', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);

    const outcome = await publishVersion(inputFor(upload, 'b\n1\n'), deps());

    expect(outcome.kind).toBe('published');
    expect(await store.getUpload(upload.uploadId)).toMatchObject({ status: 'published', version: 1, outcomeKey: `datasets/${dataset}/v1/day.csv` });
  });

  it('copies, then records the version and the outcome, and only then tags the landing object version', async () => {
    // Prepare: one log for S3 calls and store writes, in the order they happen.
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);
    const log: string[] = [];
    s3.on(CopyObjectCommand).callsFake(() => void log.push('copy original'));
    s3.on(PutObjectTaggingCommand).callsFake((input) => void log.push(`tag ${input.Key}@${input.VersionId}`));
    const logged: PublishStore = {
      ...store,
      completeVersion: async (...args) => (log.push('version published'), store.completeVersion(...args)),
      setUploadStatus: async (...args) => (log.push(`upload ${args[1].to}`), store.setUploadStatus(...args)),
    };

    // Act
    await publishVersion(inputFor(upload, 'c\n1\n'), deps({ store: logged }));

    // Assess
    expect(log).toEqual(['copy original', 'version published', 'upload published', `tag api/${dataset}/slot-1/day.csv@version-of-${upload.uploadId}`]);
  });

  it('copies a local arrival from its _arrivals copy, which holds the bytes where S3 keeps no versions', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset, { versionId: undefined, arrivalKey: '_arrivals/01JH2QZ0000000000000000000' });

    await publishVersion(inputFor(upload, 'd\n1\n'), deps());

    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input.CopySource).toBe(`${LANDING_BUCKET}/_arrivals/01JH2QZ0000000000000000000`);
    const tagged = s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input;
    expect(tagged?.Key).toBe('_arrivals/01JH2QZ0000000000000000000');
    expect(tagged).not.toHaveProperty('VersionId');
  });

  it('tells an SFTP sender beside the file which version the upload became', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset, { source: 'sftp', key: `sftp/alice/${dataset}/day.csv`, sender: 'alice' });

    await publishVersion(inputFor(upload, 'e\n1\n'), deps());

    const [result] = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(result).toMatchObject({ Bucket: LANDING_BUCKET, Key: `sftp/alice/${dataset}/day.csv.result.txt` });
    expect(String(result?.Body)).toMatch(new RegExp(`^PUBLISHED day.csv\\n[\\s\\S]*Accepted as version 1 of ${dataset} \\(2 rows, sha256 [0-9a-f]{64}\\)`));
  });
});

describe('the same bytes again', () => {
  it('point another upload at the existing version without a second copy', async () => {
    const dataset = freshDataset();
    const first = await validatingUpload(dataset);
    const second = await validatingUpload(dataset, { key: `api/${dataset}/slot-2/copy.csv`, file: 'copy.csv' });
    await publishVersion(inputFor(first, 'same\n1\n'), deps());

    const outcome = await publishVersion(inputFor(second, 'same\n1\n'), deps());

    expect(outcome).toMatchObject({ kind: 'matched', version: { version: 1, uploadId: first.uploadId } });
    expect(await store.getUpload(second.uploadId)).toMatchObject({ status: 'published', version: 1, outcomeKey: `datasets/${dataset}/v1/day.csv` });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
  });

  it('tag the matching upload’s landing object, whose bytes are stored as that version', async () => {
    const dataset = freshDataset();
    const first = await validatingUpload(dataset);
    const second = await validatingUpload(dataset);
    await publishVersion(inputFor(first, 'same again\n'), deps());

    await publishVersion(inputFor(second, 'same again\n'), deps());

    expect(s3.commandCalls(PutObjectTaggingCommand).map((call) => call.args[0].input.VersionId)).toEqual([
      `version-of-${first.uploadId}`,
      `version-of-${second.uploadId}`,
    ]);
  });

  it('wait while another upload is publishing them, copying nothing and leaving the upload validating', async () => {
    const dataset = freshDataset();
    const holder = await validatingUpload(dataset);
    const waiting = await validatingUpload(dataset);
    await store.claimContent({ dataset, sha256: sha('busy\n'), uploadId: holder.uploadId, leaseMs: 60_000, at: NOW });

    const attempt = publishVersion(inputFor(waiting, 'busy\n'), deps());

    await expect(attempt).rejects.toThrow(ContentClaimBusyError);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect((await store.getUpload(waiting.uploadId))?.status).toBe('validating');
  });
});

describe('a file re-uploaded under the same name while the first is being validated', () => {
  it('is its own upload and becomes its own version, each copied from its own object version', async () => {
    // Prepare: the same landing key, two object versions, both validating at once.
    const dataset = freshDataset();
    const key = `sftp/alice/${dataset}/day.csv`;
    const first = await validatingUpload(dataset, { key, source: 'sftp', versionId: 'v-first' });
    const second = await validatingUpload(dataset, { key, source: 'sftp', versionId: 'v-second' });

    // Act
    const outcomes = await Promise.all([publishVersion(inputFor(first, 'first\n'), deps()), publishVersion(inputFor(second, 'second\n'), deps())]);

    // Assess
    const byUpload = new Map(outcomes.map((o) => [o.upload.uploadId, o.version.version]));
    expect(new Set(byUpload.values())).toEqual(new Set([1, 2]));
    const copies = s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input);
    expect(copies).toHaveLength(2);
    expect(copies).toContainEqual(expect.objectContaining({ Key: `datasets/${dataset}/v${byUpload.get(first.uploadId)}/day.csv`, CopySource: expect.stringMatching(/\?versionId=v-first$/) }));
    expect(copies).toContainEqual(expect.objectContaining({ Key: `datasets/${dataset}/v${byUpload.get(second.uploadId)}/day.csv`, CopySource: expect.stringMatching(/\?versionId=v-second$/) }));
  });
});

describe('a failure half-way', () => {
  it('leaves the upload validating, untagged and without a readable version when the copy fails', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);
    s3.on(CopyObjectCommand).rejects(new Error('S3 is having a moment'));

    await expect(publishVersion(inputFor(upload, 'f\n1\n'), deps())).rejects.toThrow(/could not copy/);

    expect((await store.getUpload(upload.uploadId))?.status).toBe('validating');
    expect(await store.getVersion(dataset, 1)).toBeUndefined();
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
  });

  it('is finished by the redelivery with the same version number and no second one', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);
    s3.on(CopyObjectCommand).rejectsOnce(new Error('S3 is having a moment')).resolves({});
    await publishVersion(inputFor(upload, 'g\n1\n'), deps()).catch(() => undefined);

    const outcome = await publishVersion(inputFor(upload, 'g\n1\n'), deps());

    expect(outcome.version.version).toBe(1);
    expect(await store.getDatasetHead(dataset)).toMatchObject({ latest: 1, allocated: 1 });
    expect((await store.listVersions(dataset)).items).toHaveLength(1);
  });

  it('after the copy is finished by the redelivery copying to the same key again', async () => {
    // Prepare: the first attempt dies after the copy, before the version is marked published.
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);
    const crashing: PublishStore = {
      ...store,
      completeVersion: async () => {
        throw new Error('the function timed out');
      },
    };
    await publishVersion(inputFor(upload, 'h\n1\n'), deps({ store: crashing })).catch(() => undefined);

    // Act
    const outcome = await publishVersion(inputFor(upload, 'h\n1\n'), deps());

    // Assess
    expect(outcome.version.version).toBe(1);
    expect(new Set(s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input.Key))).toEqual(new Set([`datasets/${dataset}/v1/day.csv`]));
  });

  it('after the outcome is recorded is finished by the redelivery, which only tags', async () => {
    const dataset = freshDataset();
    const upload = await validatingUpload(dataset);
    s3.on(PutObjectTaggingCommand).rejectsOnce(new Error('throttled')).resolves({});
    await publishVersion(inputFor(upload, 'i\n1\n'), deps()).catch(() => undefined);
    const recorded = (await store.getUpload(upload.uploadId))!;

    const outcome = await publishVersion(inputFor(recorded, 'i\n1\n'), deps());

    expect(outcome).toMatchObject({ kind: 'published', version: { version: 1 } });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(2);
  });
});
