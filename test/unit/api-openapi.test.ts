import { describe, expect, it, vi } from 'vitest';
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
  it('serves an HTML page that loads nothing from elsewhere', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/docs'));

    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(result.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  });

  it('allows only its own inline script by hash', async () => {
    const api = localApi();

    const result = await api.handle(request('GET', '/docs'));

    expect(result.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+';/);
  });

  it('renders every route of the document with the page’s own script', async () => {
    // Prepare: a DOM just large enough for the page's script, and fetch answering from the router.
    const api = localApi();
    const page = await api.handle(request('GET', '/docs'));
    const script = /<script>([\s\S]*)<\/script>/.exec(page.body)?.[1] ?? '';
    const document = new FakeDocument();
    const fetched: string[] = [];
    const fetch = async (url: string) => {
      fetched.push(url);
      const event = request('GET', url);
      event.requestContext.stage = 'dev';
      const result = await api.handle(event);
      return { ok: result.statusCode === 200, status: result.statusCode, json: async () => JSON.parse(result.body) };
    };

    // Act: under a named stage, with a trailing slash, the document is still the one beside the page.
    new Function('document', 'fetch', 'Node', 'location', script)(document, fetch, FakeNode, { pathname: '/dev/docs/' });

    // Assess
    await vi.waitFor(() => expect(document.content.text()).toContain('Schemas'));
    expect(fetched).toEqual(['/dev/openapi.json']);
    const text = document.content.text();
    for (const route of api.routes) expect(text).toContain(`${route.method} ${route.path}`);
  });
});

/** The few DOM calls the docs page makes: elements with attributes, children and text. */
class FakeNode {
  readonly children: (FakeNode | string)[] = [];
  readonly attributes: Record<string, string> = {};
  constructor(readonly tag: string) {}
  setAttribute(name: string, value: string) {
    this.attributes[name] = value;
  }
  append(...nodes: (FakeNode | string)[]) {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes: (FakeNode | string)[]) {
    this.children.splice(0, this.children.length, ...nodes);
  }
  text(): string {
    return this.children.map((c) => (typeof c === 'string' ? c : c.text())).join('');
  }
}

class FakeDocument {
  title = '';
  readonly content = new FakeNode('main');
  createElement(tag: string) {
    return new FakeNode(tag);
  }
  createTextNode(text: string) {
    return text;
  }
  getElementById(id: string) {
    return id === 'content' ? this.content : null;
  }
}
