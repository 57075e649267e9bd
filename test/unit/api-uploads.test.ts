import { describe, expect, it } from 'vitest';
import { bearer, json, localApi, MemoryUploads, request, upload } from './api-fixtures.ts';

describe('GET /uploads', () => {
  it('passes limit and cursor to the store and hands back its cursor', async () => {
    // Prepare
    const store = new MemoryUploads();
    store.nextCursor = 'eyJwayI6IlVQTE9BRCMwMUpIIn0';
    const api = localApi(store);

    // Act
    const result = await api.handle(request('GET', '/uploads?limit=2&cursor=c1&dataset=readings', bearer('admin')));

    // Assess
    expect(store.queries).toEqual([{ limit: 2, cursor: 'c1', dataset: 'readings' }]);
    expect(json(result).cursor).toBe('eyJwayI6IlVQTE9BRCMwMUpIIn0');
  });

  it('asks the store for 25 uploads when no limit is given', async () => {
    const store = new MemoryUploads();
    const api = localApi(store);

    await api.handle(request('GET', '/uploads', bearer('admin')));

    expect(store.queries[0]?.limit).toBe(25);
  });

  it('omits the cursor on the last page', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads', bearer('admin')));

    expect(json(result)).not.toHaveProperty('cursor');
  });
});

describe('GET /uploads/{id}', () => {
  it('shows the upload', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads/01JH2QN2K3M4N5P6Q7R8S9T0V1', bearer('scientist')));

    expect(json(result)).toMatchObject({ uploadId: '01JH2QN2K3M4N5P6Q7R8S9T0V1', status: 'rejected', reason: 'not allowed' });
  });

  it('answers 404 naming the id when no upload has it', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads/01JH2QZZZZZZZZZZZZZZZZZZZZ', bearer('scientist')));

    expect(result.statusCode).toBe(404);
    expect(json(result).error.message).toBe('no upload has the id 01JH2QZZZZZZZZZZZZZZZZZZZZ');
  });

  it('leaves table keys out of what it shows', async () => {
    const stored = { ...upload({ uploadId: '01JH2QK7W3M9XG5V8RZB4TNC6D' }), pk: 'UPLOAD#01JH2QK7W3M9XG5V8RZB4TNC6D', gsi1pk: 'UPLOADS' };
    const api = localApi(new MemoryUploads([stored]));

    const result = await api.handle(request('GET', '/uploads/01JH2QK7W3M9XG5V8RZB4TNC6D', bearer('scientist')));

    expect(Object.keys(json(result))).not.toContain('pk');
    expect(Object.keys(json(result))).not.toContain('gsi1pk');
  });
});

describe('an upload whose key named no dataset', () => {
  it('is shown to a scientist', async () => {
    const stray = upload({ uploadId: '01JH2QP3R4S5T6V7W8X9Y0Z1A2', dataset: undefined, status: 'rejected', reason: 'the key names no dataset' });
    const api = localApi(new MemoryUploads([stray]));

    const result = await api.handle(request('GET', '/uploads/01JH2QP3R4S5T6V7W8X9Y0Z1A2', bearer('scientist')));

    expect(json(result)).not.toHaveProperty('dataset');
    expect(result.statusCode).toBe(200);
  });

  it('is hidden from an uploader, even one that sent it', async () => {
    const stray = upload({ uploadId: '01JH2QP3R4S5T6V7W8X9Y0Z1A2', dataset: undefined, sender: 'field-team', status: 'rejected' });
    const api = localApi(new MemoryUploads([stray]));

    const result = await api.handle(request('GET', '/uploads/01JH2QP3R4S5T6V7W8X9Y0Z1A2', bearer('uploader')));

    expect(result.statusCode).toBe(403);
  });
});
