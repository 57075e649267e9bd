import { docsPageHeaders, docsPageHtml } from '../docs-page.ts';
import { defineRoute, Reply, type Route } from '../route.ts';
import { docsPageSchema, healthSchema, openApiDocumentSchema } from '../schemas.ts';

/** The public routes that describe the API itself. */
export const metaRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Says the API answers.',
    tags: ['meta'],
    access: 'public',
    response: { description: 'The API is up.', schema: healthSchema },
    handle: () => ({ status: 'ok' as const }),
  }),
  defineRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This API as an OpenAPI 3.1 document.',
    tags: ['meta'],
    access: 'public',
    response: { description: 'The OpenAPI document.', schema: openApiDocumentSchema },
    handle: (_input, { openapi }) => {
      const document = openapi();
      // Copies, because the generator's interface types have no index signature and the schema's do.
      return new Reply({ ...document, info: { ...document.info } }, 200, { 'cache-control': 'no-cache' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/docs',
    operationId: 'getDocs',
    summary: 'A page that renders the OpenAPI document.',
    tags: ['meta'],
    access: 'public',
    response: { description: 'The documentation page.', schema: docsPageSchema, contentType: 'text/html' },
    handle: () => new Reply(docsPageHtml, 200, docsPageHeaders),
  }),
];
