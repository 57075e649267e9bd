import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuthSettingsError, bearerTokenAuthenticator, iamAuthenticator, parseRoleMap } from '#api/auth';
import { createApi } from '#api/api';
import { defineRoute, type Route } from '#api/route';
import { bearer, config, json, loadEvent, localApi, MemoryUploads, request } from './api-fixtures.ts';

const roleMap = parseRoleMap(
  JSON.stringify({
    'symbiont-dev-admin': 'admin',
    'symbiont-dev-scientist': 'scientist',
    'symbiont-dev-uploader': { role: 'uploader', name: 'field-team', datasets: ['readings'] },
  }),
);

const iamApi = (store = new MemoryUploads()) => createApi({ store, config, authenticator: iamAuthenticator(roleMap) });

describe('bearer tokens (local)', () => {
  it('answers 401 when no credentials are sent', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads'));

    expect(result.statusCode).toBe(401);
    expect(json(result).error.message).toMatch(/Authorization: Bearer/);
  });

  it('answers 401 for a token it does not know', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads', { authorization: 'Bearer not-a-token-of-ours-at-all' }));

    expect(result.statusCode).toBe(401);
    expect(json(result).error).toEqual({ code: 'unauthorized', message: 'unknown token' });
  });

  it('answers 401 for an Authorization header of another scheme', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads', { authorization: 'Basic YWxpY2U6c2VjcmV0' }));

    expect(result.statusCode).toBe(401);
  });

  it('lets a scientist list the uploads of every sender', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads', bearer('scientist')));

    expect(result.statusCode).toBe(200);
    expect(json(result).items.map((u: { sender: string }) => u.sender)).toEqual(['field-team', 'alice', 'field-team']);
  });

  it('refuses an uploader that asks for a dataset it is not bound to', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads?dataset=sites', bearer('uploader')));

    expect(result.statusCode).toBe(403);
    expect(json(result).error.message).toBe('uploader field-team is not bound to dataset sites; it may read dataset readings');
  });

  it('refuses an uploader that asks for the uploads of another sender', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads?sender=alice', bearer('uploader')));

    expect(result.statusCode).toBe(403);
  });

  it('shows an uploader only the uploads it sent to its datasets', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads', bearer('uploader')));

    expect(json(result).items.map((u: { uploadId: string }) => u.uploadId)).toEqual(['01JH2QK7W3M9XG5V8RZB4TNC6D']);
  });

  it('narrows an uploader’s listing to its name and its one dataset in the store query', async () => {
    const store = new MemoryUploads();
    const api = localApi(store);

    await api.handle(request('GET', '/uploads?status=published', bearer('uploader')));

    expect(store.queries).toEqual([{ status: 'published', limit: 25, sender: 'field-team', dataset: 'readings' }]);
  });

  it('refuses an uploader reading an upload another sender made', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads/01JH2QM1A4B5C6D7E8F9G0H1J2', bearer('uploader')));

    expect(result.statusCode).toBe(403);
    expect(json(result).error.message).toBe('uploader field-team may read only the uploads it sent to dataset readings');
  });

  it('answers 403 naming the role a route needs', async () => {
    const routes: Route[] = [
      defineRoute({
        method: 'post', path: '/redrive', operationId: 'redrive', summary: 'redrive', access: ['admin'],
        response: { description: 'ok', schema: z.object({}) },
        handle: () => ({}),
      }),
    ];
    const api = localApi(new MemoryUploads(), routes);

    const result = await api.handle(request('POST', '/redrive', bearer('scientist')));

    expect(result.statusCode).toBe(403);
    expect(json(result).error.message).toBe('POST /redrive needs role admin; local-scientist has role scientist');
  });

  it('refuses a token map with a short token', () => {
    const build = () => bearerTokenAuthenticator({ short: { role: 'admin', name: 'x' } });

    expect(build).toThrow(/at least 16 characters/);
  });
});

describe('IAM principals (AWS)', () => {
  it('maps an assumed scientist role to the scientist app role', async () => {
    const api = iamApi();
    const event = loadEvent('uploads');

    const result = await api.handle(event);

    expect(result.statusCode).toBe(200);
    expect(json(result).items).toHaveLength(2);
  });

  it('names an uploader by its role map entry, not by the session name it chose', async () => {
    const api = iamApi();
    const event = loadEvent('upload');

    const result = await api.handle(event);

    expect(result.statusCode).toBe(200);
    expect(json(result).sender).toBe('field-team');
  });

  it('answers 403 for an assumed role the role map does not name', async () => {
    const api = iamApi();
    const event = loadEvent('uploads');
    event.requestContext.authorizer = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/SomeOtherRole/bob' } };

    const result = await api.handle(event);

    expect(result.statusCode).toBe(403);
    expect(json(result).error.message).toMatch(/has no Symbiont role/);
  });

  it('answers 403 for an IAM user, which maps to no role', async () => {
    const api = iamApi();
    const event = loadEvent('uploads');
    event.requestContext.authorizer = { iam: { userArn: 'arn:aws:iam::123456789012:user/symbiont-dev-scientist' } };

    const result = await api.handle(event);

    expect(result.statusCode).toBe(403);
  });

  it('answers 401 when the event carries no IAM context', async () => {
    const api = iamApi();
    const event = loadEvent('uploads');
    delete event.requestContext.authorizer;

    const result = await api.handle(event);

    expect(result.statusCode).toBe(401);
  });

  it('refuses a role map whose uploader has no datasets', () => {
    const parse = () => parseRoleMap('{"symbiont-dev-uploader": {"role": "uploader"}}');

    expect(parse).toThrow(/ROLE_MAP\.symbiont-dev-uploader/);
  });

  it('refuses a role map that is not JSON', () => {
    const parse = () => parseRoleMap('{admin}');

    expect(parse).toThrow(AuthSettingsError);
  });
});
