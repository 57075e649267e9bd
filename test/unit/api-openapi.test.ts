import { describe, expect, it } from 'vitest';
import { apiRoutes } from '#api/api';
import { buildOpenApiDocument } from '#api/openapi';
import { json, localApi, request } from './api-fixtures.ts';

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

describe('the OpenAPI document', () => {
  it('lists exactly the routes the router serves', () => {
    // Prepare
    const api = localApi();

    // Act
    const documented = Object.entries(api.openapi().paths ?? {})
      .flatMap(([path, item]) => Object.keys(item).filter((k) => methods.includes(k)).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();

    // Assess
    const served = api.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(documented).toEqual(served);
  });

  it('is built from the same list the API serves by default', () => {
    const api = localApi();

    expect(api.routes).toBe(apiRoutes);
  });

  it('is an OpenAPI 3.1 document with paths, schemas and security schemes', () => {
    const document = buildOpenApiDocument(apiRoutes);

    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.components?.schemas ?? {})).toEqual(expect.arrayContaining(['Error', 'Upload', 'UploadPage']));
    expect(Object.keys(document.components?.securitySchemes ?? {})).toEqual(['sigv4', 'bearer']);
    expect(document.paths?.['/uploads/{id}']?.get?.responses?.['404']).toBeDefined();
  });

  it('documents the bounds of the listing limit', () => {
    const document = buildOpenApiDocument(apiRoutes);

    const limit = document.paths?.['/uploads']?.get?.parameters?.find((p) => 'name' in p && p.name === 'limit');

    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } });
  });

  it('marks public routes as needing no credentials and data routes as signed', () => {
    const document = buildOpenApiDocument(apiRoutes);

    expect(document.paths?.['/health']?.get?.security).toEqual([]);
    expect(document.paths?.['/uploads']?.get?.security).toEqual([{ sigv4: [] }, { bearer: [] }]);
  });

  it('is served at GET /openapi.json without credentials', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/openapi.json'));

    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual(JSON.parse(JSON.stringify(api.openapi())));
  });
});

describe('GET /docs', () => {
  it('serves an HTML page that loads openapi.json from its own origin', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/docs'));

    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(result.body).toContain("fetch('openapi.json'");
    expect(result.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('allows only its own inline script by hash', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/docs'));

    expect(result.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+';/);
  });
});
