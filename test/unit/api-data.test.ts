import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { createDataAccess, type SlotStore } from '#api/data-access';
import { EvaluationNotFoundError } from '#evaluation/errors';
import type { EvaluationService } from '#evaluation/service';
import type { UploadPage, UploadRecord, UploadSlot } from '#store/store';
import { bearer, config, json, localAuthenticator, MemoryUploads, request, upload } from './api-fixtures.ts';
import { EVALUATION_ID, evaluationRecord } from './evaluation-record-fixtures.ts';

/**
 * The Data API routes: presigned downloads of versions and upload slots. URLs are signed for real
 * (signing needs no network) against a local S3 endpoint, as the local runtime does.
 */

const S3_URL = 'http://127.0.0.1:45999';
const NOW = new Date('2025-01-07T10:00:00.000Z');
const SLOT_ID = '01JH3AAAAAAAAAAAAAAAAAAAAA';

class MemorySlots implements SlotStore {
  readonly slots = new Map<string, UploadSlot>();
  constructor(private readonly uploads: readonly UploadRecord[] = []) {}
  async createUploadSlot(slot: UploadSlot) {
    this.slots.set(slot.slotId, slot);
    return slot;
  }
  async getUploadSlot(slotId: string) {
    return this.slots.get(slotId);
  }
  async listSlotUploads(slotId: string): Promise<UploadPage> {
    return { items: this.uploads.filter((u) => u.slotId === slotId) };
  }
}

/** An S3 client that signs URLs for the local S3 endpoint (signing needs no network). */
const signingS3 = () => new S3Client({ region: 'eu-west-1', endpoint: S3_URL, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });

/** The Data API's access to S3 and the slots, at NOW, for the local buckets. */
function dataAccess(options: { store?: SlotStore; s3?: S3Client; newId?: () => string } = {}) {
  const { store = new MemorySlots(), s3 = signingS3(), newId } = options;
  return createDataAccess({ store, s3, dataBucket: 'symbiont-dev-data', landingBucket: 'symbiont-dev-landing', now: () => NOW, ...(newId ? { newId } : {}) });
}

/** Two stage runs of one repeat, the second with a space in its name. */
const TWO_STAGES = [
  { repeat: 0, stage: 0, name: 'features', durationMs: 120, exitCode: 0 },
  { repeat: 0, stage: 1, name: 'model run', durationMs: 340, exitCode: 0 },
];

function apiWith(slots = new MemorySlots()) {
  const data = dataAccess({ store: slots, newId: () => SLOT_ID });
  return { api: createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, data }), slots };
}

const post = (path: string, body: unknown, headers: Record<string, string>) =>
  request('POST', path, { ...headers, 'content-type': 'application/json' }, JSON.stringify(body));

describe('GET /datasets/{name}/versions/{version}/download', () => {
  it('hands out a 15-minute GET URL of the latest version with its checksum and a download name', async () => {
    // Prepare
    const { api } = apiWith();

    // Act
    const result = await api.handle(request('GET', '/datasets/readings/versions/latest/download', bearer('scientist')));

    // Assess
    expect(result.statusCode).toBe(200);
    const body = json(result);
    expect(body).toMatchObject({ dataset: 'readings', version: 3, file: 'day-3.csv', fileName: 'readings-v3-day-3.csv', bytes: 3000, rows: 30, expiresAt: '2025-01-07T10:15:00.000Z' });
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const url = new URL(body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${S3_URL}/symbiont-dev-data/datasets/readings/v3/day-3.csv`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="readings-v3-day-3.csv"');
  });

  it('signs for the seconds asked for', async () => {
    const { api } = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions/2/download?expiresIn=3600', bearer('admin')));

    expect(new URL(json(result).url).searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(json(result).version).toBe(2);
  });

  it('refuses more than an hour with a 400 naming the limit', async () => {
    const { api } = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions/latest/download?expiresIn=3601', bearer('admin')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.message).toMatch(/expiresIn.*3600/);
  });

  it('lets an uploader download a dataset it is bound to and refuses the others', async () => {
    const { api } = apiWith();

    const bound = await api.handle(request('GET', '/datasets/readings/versions/1/download', bearer('uploader')));
    const other = await api.handle(request('GET', '/datasets/sites/versions/latest/download', bearer('uploader')));

    expect(bound.statusCode).toBe(200);
    expect(other.statusCode).toBe(403);
    expect(json(other).error.message).toMatch(/not bound to dataset sites/);
  });

  it('answers 404 for a version that is not published', async () => {
    const { api } = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions/9/download', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toMatch(/latest version is 3/);
  });
});

describe('POST /datasets/{name}/uploads', () => {
  it('records a slot for the caller and hands out a PUT URL for api/<dataset>/<slotId>/<file>', async () => {
    const { api, slots } = apiWith();

    const result = await api.handle(post('/datasets/readings/uploads', { file: '2025-01-07.csv' }, bearer('uploader')));

    expect(result.statusCode).toBe(201);
    const body = json(result);
    expect(body).toMatchObject({ slotId: SLOT_ID, dataset: 'readings', file: '2025-01-07.csv', key: `api/readings/${SLOT_ID}/2025-01-07.csv`, method: 'PUT', headers: {} });
    const url = new URL(body.url);
    expect(url.pathname).toBe(`/symbiont-dev-landing/api/readings/${SLOT_ID}/2025-01-07.csv`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(slots.slots.get(SLOT_ID)).toMatchObject({ sender: 'field-team', dataset: 'readings', expiresAt: '2025-01-07T10:15:00.000Z' });
  });

  it.each([
    ['.hidden.csv', /hidden/],
    ['day.csv.tmp', /\.tmp are never ingested/],
    ['day.csv.filepart', /\.filepart/],
    ['day.csv.result.txt', /\.result\.txt/],
    ['nested/day.csv', /not a path/],
  ])('refuses the file name %s as ingest would', async (file, message) => {
    const { api, slots } = apiWith();

    const result = await api.handle(post('/datasets/readings/uploads', { file }, bearer('admin')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.message).toMatch(message);
    expect(slots.slots.size).toBe(0);
  });

  it('refuses an uploader a dataset it is not bound to, and an unknown dataset with 404', async () => {
    const { api } = apiWith();

    const unbound = await api.handle(post('/datasets/sites/uploads', { file: 'a.jsonl' }, bearer('uploader')));
    const unknown = await api.handle(post('/datasets/nope/uploads', { file: 'a.csv' }, bearer('scientist')));

    expect(unbound.statusCode).toBe(403);
    expect(unknown.statusCode).toBe(404);
  });
});

describe('GET /uploads?slot=', () => {
  const slot: UploadSlot = {
    slotId: SLOT_ID,
    dataset: 'readings',
    file: 'a.csv',
    key: `api/readings/${SLOT_ID}/a.csv`,
    sender: 'local-scientist',
    createdAt: NOW.toISOString(),
    expiresAt: NOW.toISOString(),
  };
  const arrived = upload({ uploadId: '01JH3BBBBBBBBBBBBBBBBBBBBB', slotId: SLOT_ID, sender: 'local-scientist', status: 'quarantined', reason: 'bad rows' });

  it('lists the uploads made through the slot', async () => {
    const slots = new MemorySlots([arrived, upload({ uploadId: '01JH3CCCCCCCCCCCCCCCCCCCCC', slotId: 'other' })]);
    await slots.createUploadSlot(slot);
    const { api } = apiWith(slots);

    const result = await api.handle(request('GET', `/uploads?slot=${SLOT_ID}`, bearer('scientist')));

    expect(result.statusCode).toBe(200);
    expect(json(result).items.map((u: { uploadId: string }) => u.uploadId)).toEqual([arrived.uploadId]);
  });

  it('narrows the slot’s uploads by status', async () => {
    const slots = new MemorySlots([arrived]);
    await slots.createUploadSlot(slot);
    const { api } = apiWith(slots);

    const result = await api.handle(request('GET', `/uploads?slot=${SLOT_ID}&status=published`, bearer('admin')));

    expect(json(result).items).toEqual([]);
  });

  it('answers 404 for a slot never handed out', async () => {
    const { api } = apiWith();

    const result = await api.handle(request('GET', `/uploads?slot=${SLOT_ID}`, bearer('admin')));

    expect(result.statusCode).toBe(404);
  });

  it('refuses an uploader a slot someone else asked for', async () => {
    const slots = new MemorySlots([arrived]);
    await slots.createUploadSlot(slot);
    const { api } = apiWith(slots);

    const result = await api.handle(request('GET', `/uploads?slot=${SLOT_ID}`, bearer('uploader')));

    expect(result.statusCode).toBe(403);
  });
});

describe('GET /uploads?source=', () => {
  it('passes the source filter to the store', async () => {
    const store = new MemoryUploads();
    const api = createApi({ store, config, authenticator: localAuthenticator });

    const result = await api.handle(request('GET', '/uploads?source=sftp', bearer('admin')));

    expect(result.statusCode).toBe(200);
    expect(store.queries.at(-1)).toMatchObject({ source: 'sftp' });
  });
});

describe('GET /datasets pages', () => {
  it('hands out a page of datasets and a cursor that continues after it', async () => {
    const { api } = apiWith();

    const first = json(await api.handle(request('GET', '/datasets?limit=1', bearer('admin'))));
    const second = json(await api.handle(request('GET', `/datasets?limit=1&cursor=${first.cursor}`, bearer('admin'))));

    expect(first.items.map((d: { name: string }) => d.name)).toEqual(['readings']);
    expect(second.items.map((d: { name: string }) => d.name)).toEqual(['sites']);
    expect(second.cursor).toBeUndefined();
  });

  it('refuses a cursor it did not hand out', async () => {
    const { api } = apiWith();

    const result = await api.handle(request('GET', '/datasets?cursor=%2F%2F%2F', bearer('admin')));

    expect(result.statusCode).toBe(400);
  });
});

describe('GET /evaluations/{id}: the stage logs', () => {
  it('hands out presigned GET URLs of each stage run’s stdout and stderr, shown as text', async () => {
    // Prepare
    const evaluationId = EVALUATION_ID;
    const record = evaluationRecord({ stages: TWO_STAGES });
    const data = dataAccess();
    const evaluations = { getEvaluation: async () => record } as unknown as EvaluationService;
    const api = createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, data, evaluations });

    // Act
    const result = await api.handle(request('GET', `/evaluations/${evaluationId}`, bearer('scientist')));

    // Assess
    expect(result.statusCode).toBe(200);
    const stages = json(result).stages as { name: string; logs: { stdout: string; stderr: string; expiresAt: string } }[];
    const where = (url: string) => `${new URL(url).origin}${new URL(url).pathname}`;
    expect(stages.map((s) => [where(s.logs.stdout), where(s.logs.stderr)])).toEqual([
      [`${S3_URL}/symbiont-dev-data/evaluations/${evaluationId}/r1/1-features/stdout.txt`, `${S3_URL}/symbiont-dev-data/evaluations/${evaluationId}/r1/1-features/stderr.txt`],
      [`${S3_URL}/symbiont-dev-data/evaluations/${evaluationId}/r1/2-model_run/stdout.txt`, `${S3_URL}/symbiont-dev-data/evaluations/${evaluationId}/r1/2-model_run/stderr.txt`],
    ]);
    expect(new URL(stages[0]!.logs.stdout).searchParams.get('response-content-type')).toBe('text/plain; charset=utf-8');
    expect(new URL(stages[0]!.logs.stdout).searchParams.get('X-Amz-Expires')).toBe('900');
    expect(stages[0]!.logs.expiresAt).toBe('2025-01-07T10:15:00.000Z');
  });

  it('refuses to sign anything outside an evaluation’s stage folders', async () => {
    const data = dataAccess();

    await expect(data.stageLogUrls('datasets/readings/v1/', 900)).rejects.toThrow(/not a stage run's folder/);
  });
});

describe('GET /evaluations/artifacts/{id}', () => {
  const evaluationId = EVALUATION_ID;
  const record = evaluationRecord({ stages: TWO_STAGES });

  /** An API over a mocked S3 listing: `folders` maps an output folder to its objects. */
  function artifactsApi(folders: Record<string, { Key: string; Size: number }[]>, truncated: Record<string, boolean> = {}) {
    const s3 = signingS3();
    const listings: { Bucket?: string; Prefix?: string; MaxKeys?: number }[] = [];
    mockClient(s3)
      .on(ListObjectsV2Command)
      .callsFake((input: { Bucket?: string; Prefix?: string; MaxKeys?: number }) => {
        listings.push(input);
        return { Contents: folders[input.Prefix!] ?? [], IsTruncated: truncated[input.Prefix!] ?? false };
      });
    const data = dataAccess({ s3 });
    const evaluations = {
      getEvaluation: async (id: string) => {
        if (id !== evaluationId) throw new EvaluationNotFoundError(`no evaluation has the id ${id}`, { evaluationId: id });
        return record;
      },
    } as unknown as EvaluationService;
    return { api: createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, data, evaluations }), listings };
  }

  const features = `evaluations/${evaluationId}/r1/1-features/output/`;
  const model = `evaluations/${evaluationId}/r1/2-model_run/output/`;

  it('lists each stage run’s output files with their sizes and 15-minute URLs that save them under their names', async () => {
    // Prepare
    const { api, listings } = artifactsApi(
      {
        [features]: [{ Key: `${features}features.csv`, Size: 1234 }],
        [model]: [
          { Key: `${model}forecast.csv`, Size: 567 },
          { Key: `${model}plots/`, Size: 0 },
          { Key: `${model}plots/mae.png`, Size: 89 },
        ],
      },
      { [model]: true },
    );

    // Act
    const result = await api.handle(request('GET', `/evaluations/artifacts/${evaluationId}`, bearer('scientist')));

    // Assess
    expect(result.statusCode).toBe(200);
    const body = json(result) as { evaluationId: string; expiresAt: string; stages: { name: string; prefix: string; truncated: boolean; files: { name: string; size: number; url: string }[] }[] };
    expect(body.evaluationId).toBe(evaluationId);
    expect(body.expiresAt).toBe('2025-01-07T10:15:00.000Z');
    expect(body.stages.map((s) => ({ name: s.name, prefix: s.prefix, truncated: s.truncated, files: s.files.map((f) => [f.name, f.size]) }))).toEqual([
      { name: 'features', prefix: features, truncated: false, files: [['features.csv', 1234]] },
      { name: 'model run', prefix: model, truncated: true, files: [['forecast.csv', 567], ['plots/mae.png', 89]] },
    ]);
    const url = new URL(body.stages[1]!.files[1]!.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${S3_URL}/symbiont-dev-data/${model}plots/mae.png`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="mae.png"');
    // One listing per stage run, of its output folder only, capped.
    expect(listings).toEqual([
      { Bucket: 'symbiont-dev-data', Prefix: features, MaxKeys: 100 },
      { Bucket: 'symbiont-dev-data', Prefix: model, MaxKeys: 100 },
    ]);
  });

  it('answers a stage run that wrote nothing with no files, and GET /evaluations/{id} lists nothing', async () => {
    // Prepare
    const { api, listings } = artifactsApi({});

    // Act
    const artifacts = await api.handle(request('GET', `/evaluations/artifacts/${evaluationId}`, bearer('admin')));
    const evaluation = await api.handle(request('GET', `/evaluations/${evaluationId}`, bearer('admin')));

    // Assess
    expect(artifacts.statusCode).toBe(200);
    expect(json(artifacts).expiresAt).toBeUndefined();
    expect((json(artifacts).stages as { files: unknown[]; truncated: boolean }[]).map((s) => [s.files, s.truncated])).toEqual([
      [[], false],
      [[], false],
    ]);
    expect(evaluation.statusCode).toBe(200);
    expect(listings).toHaveLength(2);
  });

  it('refuses an id that is not a ULID, an evaluation that does not exist, and an uploader', async () => {
    // Prepare
    const { api, listings } = artifactsApi({});

    // Act
    const notUlid = await api.handle(request('GET', '/evaluations/artifacts/not-an-id', bearer('scientist')));
    const missing = await api.handle(request('GET', '/evaluations/artifacts/01JH2QN2K3M4N5P6Q7R8S9T0V9', bearer('scientist')));
    const uploader = await api.handle(request('GET', `/evaluations/artifacts/${evaluationId}`, bearer('uploader')));

    // Assess
    expect(notUlid.statusCode).toBe(400);
    expect(JSON.stringify(json(notUlid))).toContain('expected an evaluation id (a 26-character ULID)');
    expect(missing.statusCode).toBe(404);
    expect(json(missing).error).toMatchObject({ code: 'not_found', message: 'no evaluation has the id 01JH2QN2K3M4N5P6Q7R8S9T0V9' });
    expect(uploader.statusCode).toBe(403);
    expect(listings).toEqual([]);
  });

  it('refuses to list anything outside an evaluation’s stage folders', async () => {
    const data = dataAccess();

    await expect(data.stageArtifacts('datasets/readings/v1/', 900, 100)).rejects.toThrow(/not a stage run's folder/);
  });
});
