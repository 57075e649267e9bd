import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createRouter, RouteDeclarationError } from '#api/router';
import { defineRoute, type Route } from '#api/route';
import { BadRequestError } from '#shared/errors';
import { logger } from '#shared/observability';
import { bearer, config, json, localApi, localAuthenticator, MemoryUploads, request } from './api-fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('routing', () => {
  it('answers GET /health without credentials', async () => {
    // Prepare
    const api = localApi();

    // Act
    const result = await api.handle(request('GET', '/health'));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ status: 'ok' });
  });

  it('sends a browser opening / (the banner\'s token URL lands there) to the docs, without credentials', async () => {
    // Prepare
    const api = localApi();

    // Act
    const result = await api.handle(request('GET', '/'));

    // Assess
    expect(result.statusCode).toBe(302);
    expect(result.headers.location).toBe('docs');
  });

  it('answers 404 with the error envelope for an unknown path', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/nowhere', bearer('admin')));

    expect(result.statusCode).toBe(404);
    expect(json(result)).toEqual({ error: { code: 'not_found', message: 'no route for /nowhere', details: { path: '/nowhere' } } });
  });

  it('answers 405 with an Allow header for a known path and another method', async () => {
    const api = localApi();

    const result = await api.handle(request('DELETE', '/uploads', bearer('admin')));

    expect(result.statusCode).toBe(405);
    expect(result.headers.allow).toBe('GET');
    expect(json(result).error.code).toBe('method_not_allowed');
  });

  it('serves a path under a named stage as the same route', async () => {
    const api = localApi();
    const event = request('GET', '/dev/health');
    event.requestContext.stage = 'dev';

    const result = await api.handle(event);

    expect(result.statusCode).toBe(200);
  });

  it('prefers a literal segment over a parameter at the same place', async () => {
    const seen: string[] = [];
    const routes: Route[] = [
      defineRoute({
        method: 'get', path: '/things/{id}', operationId: 'getThing', summary: 'one', access: 'public',
        request: { params: z.object({ id: z.string() }) },
        response: { description: 'ok', schema: z.object({}) },
        handle: ({ params }) => (seen.push(`param:${params.id}`), {}),
      }),
      defineRoute({
        method: 'get', path: '/things/latest', operationId: 'getLatestThing', summary: 'latest', access: 'public',
        response: { description: 'ok', schema: z.object({}) },
        handle: () => (seen.push('literal'), {}),
      }),
    ];
    const router = createRouter({ routes, deps: { store: new MemoryUploads(), config }, authenticator: localAuthenticator });

    await router.handle(request('GET', '/things/latest'));

    expect(seen).toEqual(['literal']);
  });

  it('refuses a route whose path parameters differ from its params schema', () => {
    const routes: Route[] = [
      defineRoute({
        method: 'get', path: '/things/{thingId}', operationId: 'getThing', summary: 'one', access: 'public',
        request: { params: z.object({ id: z.string() }) },
        response: { description: 'ok', schema: z.object({}) },
        handle: () => ({}),
      }),
    ];

    const build = () => createRouter({ routes, deps: { store: new MemoryUploads(), config }, authenticator: localAuthenticator });

    expect(build).toThrow(RouteDeclarationError);
  });
});

describe('invalid requests', () => {
  it('answers 400 naming each bad query field', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads?limit=500&status=lost', bearer('scientist')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.details).toEqual([
      { field: 'query.status', message: 'expected one of "received", "validating", "published", "quarantined", "rejected", "failed"' },
      { field: 'query.limit', message: 'expected a number ≤ 100' },
    ]);
  });

  it('answers 400 for a limit that is not a number', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads?limit=ten', bearer('scientist')));

    expect(json(result).error).toMatchObject({ code: 'bad_request', details: [{ field: 'query.limit', message: 'expected a number' }] });
  });

  it('answers 400 naming a query parameter the route does not know', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads?datset=readings', bearer('scientist')));

    expect(json(result).error.details).toEqual([{ field: 'query.datset', message: 'unknown parameter' }]);
  });

  it('answers 400 for an upload id that is not a ULID', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/uploads/not-an-id', bearer('scientist')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.message).toBe('invalid request: params.id: expected an upload id (a 26-character ULID)');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const routes: Route[] = [
      defineRoute({
        method: 'post', path: '/echo', operationId: 'echo', summary: 'echo', access: 'public',
        request: { body: z.object({ name: z.string() }) },
        response: { description: 'ok', schema: z.object({ name: z.string() }) },
        handle: ({ body }) => body,
      }),
    ];
    const api = localApi(new MemoryUploads(), routes);

    const result = await api.handle(request('POST', '/echo', { 'content-type': 'application/json' }, '{"name":'));

    expect(result.statusCode).toBe(400);
    expect(json(result).error.details[0].field).toBe('body');
  });

  it('answers 400 naming a missing body field', async () => {
    const routes: Route[] = [
      defineRoute({
        method: 'post', path: '/echo', operationId: 'echo', summary: 'echo', access: 'public',
        request: { body: z.object({ name: z.string() }) },
        response: { description: 'ok', schema: z.object({ name: z.string() }) },
        handle: ({ body }) => body,
      }),
    ];
    const api = localApi(new MemoryUploads(), routes);

    const result = await api.handle(request('POST', '/echo', { 'content-type': 'application/json' }, '{}'));

    expect(json(result).error.details).toEqual([{ field: 'body.name', message: 'required' }]);
  });

  it('passes a SymbiontError from the store on with its status and message', async () => {
    const store = new MemoryUploads();
    vi.spyOn(store, 'listUploads').mockRejectedValue(new BadRequestError('cursor was not handed out by this listing'));
    const api = localApi(store);

    const result = await api.handle(request('GET', '/uploads?cursor=forged', bearer('scientist')));

    expect(result.statusCode).toBe(400);
    expect(json(result).error).toEqual({ code: 'bad_request', message: 'cursor was not handed out by this listing' });
  });
});

describe('internal errors', () => {
  it('answers 500 with only the request id when the store fails', async () => {
    const store = new MemoryUploads();
    vi.spyOn(store, 'listUploads').mockRejectedValue(new Error('connect ECONNREFUSED 10.0.3.7:8000 (table symbiont-dev)'));
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const api = localApi(store);
    const event = request('GET', '/uploads', bearer('scientist'));

    const result = await api.handle(event);

    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/ECONNREFUSED|10\.0\.3\.7|symbiont-dev/);
    expect(json(result).error.message).toBe(`internal error; the request id is ${event.requestContext.requestId}`);
  });

  it('logs the real error of a 500', async () => {
    const store = new MemoryUploads();
    const failure = new Error('connect ECONNREFUSED 10.0.3.7:8000');
    vi.spyOn(store, 'getUpload').mockRejectedValue(failure);
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const api = localApi(store);

    await api.handle(request('GET', '/uploads/01JH2QK7W3M9XG5V8RZB4TNC6D', bearer('scientist')));

    expect(logged).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ error: failure }));
  });

  it('answers 500 when a handler returns a body its response schema rejects', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const routes: Route[] = [
      defineRoute({
        method: 'get', path: '/broken', operationId: 'broken', summary: 'broken', access: 'public',
        response: { description: 'ok', schema: z.object({ count: z.number() }) },
        handle: () => ({ count: 'many' }) as never,
      }),
    ];
    const api = localApi(new MemoryUploads(), routes);

    const result = await api.handle(request('GET', '/broken'));

    expect(result.statusCode).toBe(500);
    expect(json(result).error.code).toBe('internal');
  });
});
