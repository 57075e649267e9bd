import { describe, expect, it } from 'vitest';
import { specRevision } from '#validation/spec';
import { bearer, config, json, localApi, MemoryUploads, request } from './api-fixtures.ts';
import { datasetVersion, MemoryVersions, sampleVersions } from './api-datasets-fixtures.ts';

/** An API whose store holds these versions. */
const apiWith = (versions = new MemoryVersions()) => localApi(new MemoryUploads(undefined, versions));

describe('GET /datasets', () => {
  it('lists the configured datasets by name with format, spec revision and newest version', async () => {
    // Prepare
    const api = apiWith();

    // Act
    const result = await api.handle(request('GET', '/datasets', bearer('scientist')));

    // Assess
    expect(json(result)).toEqual({
      items: [
        { name: 'readings', description: config.datasets.readings!.description, format: 'csv', revision: specRevision(config.datasets.readings!), latestVersion: 3 },
        { name: 'sites', description: config.datasets.sites!.description, format: 'jsonl', revision: specRevision(config.datasets.sites!) },
      ],
    });
  });

  it('lists only the datasets an uploader is bound to', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets', bearer('uploader')));

    expect(json(result).items.map((d: { name: string }) => d.name)).toEqual(['readings']);
  });
});

describe('GET /datasets/{name}', () => {
  it('shows the spec, its revision and the newest version', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings', bearer('admin')));

    expect(json(result)).toMatchObject({
      name: 'readings',
      format: 'csv',
      revision: specRevision(config.datasets.readings!),
      spec: { format: 'csv', columns: [expect.objectContaining({ name: 'sensor_id', pattern: '^S[0-9]{4}$' }), expect.anything(), expect.anything(), expect.anything()], unique: ['sensor_id', 'taken_at'] },
      latest: { version: 3, key: 'datasets/readings/v3/day-3.csv', sha256: sampleVersions[2]!.sha256, createdAt: '2025-01-03T09:00:05.000Z' },
    });
  });

  it('leaves the publishing state and reservation time out of a version it shows', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings', bearer('admin')));

    expect(Object.keys(json(result).latest)).not.toContain('state');
    expect(Object.keys(json(result).latest)).not.toContain('reservedAt');
  });

  it('shows no latest version for a dataset nothing was published to', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/sites', bearer('scientist')));

    expect(result.statusCode).toBe(200);
    expect(json(result)).not.toHaveProperty('latest');
  });

  it('answers 404 naming the known datasets for a name the config lacks', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/weather', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toBe('no dataset is named weather; known datasets: readings, sites');
  });

  it('answers 404 for a name that is only a property of every object', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/constructor', bearer('scientist')));

    expect(result.statusCode).toBe(404);
  });

  it('answers 403 to an uploader asking for a dataset it is not bound to', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/sites', bearer('uploader')));

    expect(result.statusCode).toBe(403);
    expect(json(result).error.message).toBe('uploader field-team is not bound to dataset sites; it may read readings');
  });
});

describe('GET /datasets/{name}/versions', () => {
  it('lists published versions newest first and hands back the store’s cursor', async () => {
    const versions = new MemoryVersions();
    const api = apiWith(versions);

    const result = await api.handle(request('GET', '/datasets/readings/versions?limit=2', bearer('scientist')));

    expect(json(result).items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    expect(json(result).cursor).toBe('o2');
    expect(versions.pages).toEqual([{ dataset: 'readings', limit: 2, cursor: undefined }]);
  });

  it('passes the cursor on and asks for 25 versions when no limit is given', async () => {
    const versions = new MemoryVersions();
    const api = apiWith(versions);

    const result = await api.handle(request('GET', '/datasets/readings/versions?cursor=o2', bearer('scientist')));

    expect(versions.pages).toEqual([{ dataset: 'readings', limit: 25, cursor: 'o2' }]);
    expect(json(result)).toEqual({ items: [expect.objectContaining({ version: 1 })] });
  });

  it('answers 400 for a limit above 100', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions?limit=101', bearer('scientist')));

    expect(result.statusCode).toBe(400);
  });

  it('lets an uploader read the versions of a dataset it is bound to', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions', bearer('uploader')));

    expect(json(result).items).toHaveLength(3);
  });
});

describe('GET /datasets/{name}/versions/{version}', () => {
  it('shows the version with that number', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions/2', bearer('scientist')));

    expect(json(result)).toMatchObject({ dataset: 'readings', version: 2, rows: 20, bytes: 2000, specRevision: 'b'.repeat(64), uploadId: sampleVersions[1]!.uploadId });
  });

  it('shows the newest published version for latest', async () => {
    const api = apiWith(new MemoryVersions([...sampleVersions, datasetVersion(4, { state: 'publishing' })]));

    const result = await api.handle(request('GET', '/datasets/readings/versions/latest', bearer('scientist')));

    expect(json(result).version).toBe(3);
  });

  it('answers 404 naming the latest version for a number past it', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/readings/versions/7', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toBe('dataset readings has no version 7; its latest version is 3');
  });

  it('answers 404 for a version that is still publishing', async () => {
    const api = apiWith(new MemoryVersions([datasetVersion(1, { state: 'publishing' }), datasetVersion(2)]));

    const result = await api.handle(request('GET', '/datasets/readings/versions/1', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toBe('dataset readings has no version 1; it is not published (yet)');
  });

  it('answers 404 for latest when nothing is published', async () => {
    const api = apiWith();

    const result = await api.handle(request('GET', '/datasets/sites/versions/latest', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toBe('dataset sites has no published version yet');
  });

  it.each(['0', '-1', '1.5', 'newest', '0001'])('answers 400 for the version %s', async (version) => {
    const api = apiWith();

    const result = await api.handle(request('GET', `/datasets/readings/versions/${version}`, bearer('scientist')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.details).toEqual([{ field: 'params.version', message: 'expected a version number (1, 2, …) or "latest"' }]);
  });
});

describe('the OpenAPI document', () => {
  it('describes the dataset routes with their version parameter', async () => {
    const api = apiWith();

    const document = api.openapi();

    expect(Object.keys(document.paths ?? {})).toEqual(expect.arrayContaining(['/datasets', '/datasets/{name}', '/datasets/{name}/versions', '/datasets/{name}/versions/{version}']));
    expect(JSON.stringify(document.paths?.['/datasets/{name}/versions/{version}'])).toContain('latest');
  });
});
