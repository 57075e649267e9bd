import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { OpenApiDocument, Route } from './route.ts';
import { errorResponseSchema, fieldProblemSchema } from './schemas.ts';

/** Version of the API contract, shown in the document; raise it when a route changes shape. */
export const API_VERSION = '0.1.0';

const errorDescriptions: Record<number, string> = {
  400: 'The path, query or body is invalid; `details` lists each bad field.',
  401: 'Credentials are missing or unknown.',
  403: 'The caller’s role may not do this; the message names the role needed.',
  404: 'Nothing has this id.',
  405: 'The path exists for other methods; see the `Allow` header.',
  409: 'The request conflicts with the current state.',
  500: 'Internal error; the message carries only the request id.',
};

/**
 * Builds the OpenAPI 3.1 document from the route list the router serves: the same declarations,
 * so the document lists exactly the routes that exist, with their schemas and roles.
 */
export function buildOpenApiDocument(routes: readonly Route[]): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.register('Error', errorResponseSchema);
  registry.register('FieldProblem', fieldProblemSchema);
  registry.registerComponent('securitySchemes', 'sigv4', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'In AWS: requests signed with AWS Signature Version 4 (service `execute-api`) by a principal of one of the stack’s roles.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  });
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Locally (`npm start`): one token per role, listed in `.symbiont/endpoints.json`.',
  });
  for (const route of routes) registry.registerPath(routeConfig(route));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Symbiont API',
      version: API_VERSION,
      description: 'Validated, versioned datasets and their uploads. Errors are `{"error": {"code", "message", "details"}}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative: the document is served by the API it describes (`npm start`'s, or the stack's `Url` output).
    servers: [{ url: '/', description: 'The API serving this document' }],
  });
}

function routeConfig(route: Route): RouteConfig {
  const isPublic = route.access === 'public';
  const request = route.request ?? {};
  const errorStatuses = new Set<number>([500, ...(route.errors ?? [])]);
  if (request.params || request.query || request.body) errorStatuses.add(400);
  if (!isPublic) {
    errorStatuses.add(401);
    errorStatuses.add(403);
  }
  const responses: Record<string, ResponseConfig> = {
    [route.response.status ?? 200]: {
      description: route.response.description,
      content: { [route.response.contentType ?? 'application/json']: { schema: route.response.schema } },
    },
  };
  for (const status of [...errorStatuses].sort()) {
    responses[status] = {
      description: errorDescriptions[status] ?? 'Error.',
      content: { 'application/json': { schema: errorResponseSchema } },
    };
  }
  const roles = isPublic ? 'Public: no credentials needed.' : `Roles: ${route.access.join(', ')}.`;
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    description: route.description ? `${route.description}\n\n${roles}` : roles,
    ...(route.tags ? { tags: [...route.tags] } : {}),
    security: isPublic ? [] : [{ sigv4: [] }, { bearer: [] }],
    'x-symbiont-access': isPublic ? 'public' : [...route.access],
    request: {
      ...(request.params ? { params: request.params } : {}),
      ...(request.query ? { query: request.query } : {}),
      ...(request.body ? { body: { required: true, content: { 'application/json': { schema: request.body } } } } : {}),
    },
    responses,
  };
}
