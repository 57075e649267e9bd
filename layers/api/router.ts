import { z } from 'zod';
import { BadRequestError } from '#shared/errors';
import { logger } from '#shared/observability';
import { authorize, headerValue, type Authenticator } from './auth.ts';
import { describeIssue, errorResponse, fieldProblems, type RequestPart } from './error-mapping.ts';
import { InvalidRequestError, InvalidResponseError, MethodNotAllowedError, RouteNotFoundError } from './errors.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { Reply, type ApiDependencies, type ApiEvent, type ApiResult, type Caller, type OpenApiDocument, type Route, type RouteContext } from './route.ts';

type RouteContextRaw = RouteContext<'public'>['raw'];
import type { FieldProblem } from './schemas.ts';

/** The HTTP API: one function from an HTTP API event to its answer, plus what it serves. */
export interface Router {
  /** The routes served, in declaration order; the OpenAPI document lists exactly these. */
  readonly routes: readonly Route[];
  /** Answers one request; never throws (errors become `{"error": …}` answers). */
  handle(event: ApiEvent): Promise<ApiResult>;
  /** The OpenAPI 3.1 document of {@link routes}, built once on first use. */
  openapi(): OpenApiDocument;
}

/** The routes to serve and what they are served with. */
export interface RouterOptions {
  readonly routes: readonly Route[];
  readonly deps: ApiDependencies;
  readonly authenticator: Authenticator;
}

/** A route declaration the router cannot serve (a programming error, found when the router is built). */
export class RouteDeclarationError extends Error {
  override name = 'RouteDeclarationError';
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly Segment[];
  /** Literal segments before the first parameter: the more, the more specific. */
  readonly specificity: number;
}

type Segment = { readonly literal: string } | { readonly param: string };

/**
 * Builds the router from a route list. Routes are matched on the path template; among templates
 * matching a path, the one with more leading literal segments wins (`/uploads/search` before
 * `/uploads/{id}`). Order of checks: route (404/405), credentials (401), role (403), input (400).
 */
export function createRouter(options: RouterOptions): Router {
  const { routes, deps, authenticator } = options;
  const compiled = compile(routes);
  let document: OpenApiDocument | undefined;
  const openapi = () => (document ??= buildOpenApiDocument(routes));

  return {
    routes,
    openapi,
    async handle(event) {
      const requestId = event.requestContext?.requestId ?? 'unknown';
      const method = (event.requestContext?.http?.method ?? 'GET').toLowerCase();
      const path = routePath(event);
      let caller: Caller | undefined;
      try {
        const { route, params } = match(compiled, method, path);
        if (route.access !== 'public') {
          caller = await authenticator.authenticate(event);
          authorize(route, caller);
        }
        const input = parseInput(route, params, event);
        // `caller` is undefined exactly for public routes, whose context type says so.
        const result = await route.handle(input, { caller: caller as Caller, deps, openapi, requestId, raw: rawRequest(event) });
        const answer = respond(route, result);
        logger.debug('request served', { requestId, method, path, status: answer.statusCode, caller: caller?.name });
        return answer;
      } catch (error) {
        const answer = errorResponse(error, requestId);
        logger.debug('request refused', { requestId, method, path, status: answer.statusCode, caller: caller?.name });
        return answer;
      }
    },
  };
}

function compile(routes: readonly Route[]): CompiledRoute[] {
  const seen = new Set<string>();
  const operationIds = new Set<string>();
  return routes.map((route) => {
    if (!route.path.startsWith('/')) throw new RouteDeclarationError(`route path "${route.path}" must start with "/"`);
    const segments: Segment[] = route.path
      .split('/')
      .slice(1)
      .map((part) => {
        const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(part)?.[1];
        if (param !== undefined) return { param };
        if (part === '' && route.path !== '/') throw new RouteDeclarationError(`route path "${route.path}" has an empty segment`);
        if (/[{}]/.test(part)) throw new RouteDeclarationError(`route path "${route.path}": a parameter must fill a whole segment`);
        return { literal: part };
      });
    const shape = `${route.method} /${segments.map((s) => ('param' in s ? '{}' : s.literal)).join('/')}`;
    if (seen.has(shape)) throw new RouteDeclarationError(`two routes answer ${route.method.toUpperCase()} ${route.path}`);
    seen.add(shape);
    if (operationIds.has(route.operationId)) throw new RouteDeclarationError(`operationId "${route.operationId}" is used twice`);
    operationIds.add(route.operationId);
    const templateParams = segments.flatMap((s) => ('param' in s ? [s.param] : [])).sort();
    const schemaParams = Object.keys(route.request?.params?.shape ?? {}).sort();
    if (templateParams.join() !== schemaParams.join()) {
      throw new RouteDeclarationError(
        `route ${route.method.toUpperCase()} ${route.path}: path parameters {${templateParams.join(', ')}} differ from request.params keys {${schemaParams.join(', ')}}`,
      );
    }
    const firstParam = segments.findIndex((s) => 'param' in s);
    return { route, segments, specificity: firstParam === -1 ? segments.length : firstParam };
  });
}

/** The path the routes are matched on: the raw path without a named stage's prefix or a trailing slash. */
function routePath(event: ApiEvent): string {
  let path = event.rawPath || event.requestContext?.http?.path || '/';
  const stage = event.requestContext?.stage;
  // A named (non-$default) stage arrives as the first segment of rawPath.
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    path = path.slice(stage.length + 1) || '/';
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function match(compiled: readonly CompiledRoute[], method: string, path: string): { route: Route; params: Record<string, string> } {
  const parts = path.split('/').slice(1);
  const candidates: { compiled: CompiledRoute; params: Record<string, string> }[] = [];
  for (const entry of compiled) {
    const params = matchSegments(entry.segments, parts);
    if (params) candidates.push({ compiled: entry, params });
  }
  if (candidates.length === 0) throw new RouteNotFoundError(`no route for ${path}`, { path });
  candidates.sort((a, b) => b.compiled.specificity - a.compiled.specificity);
  const found = candidates.find((c) => c.compiled.route.method === method);
  if (found) return { route: found.compiled.route, params: found.params };
  const allow = [...new Set(candidates.map((c) => c.compiled.route.method.toUpperCase()))];
  throw new MethodNotAllowedError(`${method.toUpperCase()} is not allowed on ${path}; allowed: ${allow.join(', ')}`, allow);
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] ?? '';
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.param] = decodeSegment(part);
    }
  }
  return params;
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new BadRequestError(`malformed percent-encoding in path segment "${part}"`, undefined, { cause: error });
  }
}

function parseInput(route: Route, params: Record<string, string>, event: ApiEvent) {
  const problems: FieldProblem[] = [];
  const parsePart = (schema: z.ZodType | undefined, value: unknown, part: RequestPart) => {
    if (!schema) return undefined;
    const result = schema.safeParse(value, { error: describeIssue });
    if (result.success) return result.data;
    problems.push(...fieldProblems(result.error, part));
    return undefined;
  };
  const input = {
    params: parsePart(route.request?.params, params, 'params'),
    query: parsePart(route.request?.query, queryOf(event), 'query'),
    body: route.request?.body ? parsePart(route.request.body, bodyOf(event), 'body') : undefined,
  };
  if (problems.length > 0) throw new InvalidRequestError(problems);
  // The route's own schemas produced these values; its erased type can no longer say so.
  return input as never;
}

function queryOf(event: ApiEvent): Record<string, string> {
  if (event.queryStringParameters) {
    return Object.fromEntries(Object.entries(event.queryStringParameters).filter((e): e is [string, string] => e[1] !== undefined));
  }
  // Some adapters fill only the raw string; API Gateway joins repeated keys with commas, and so do we.
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(event.rawQueryString ?? '')) {
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  return query;
}

function rawRequest(event: ApiEvent): RouteContextRaw {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    headers,
    body: () => (event.body === undefined || event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')),
  };
}

function bodyOf(event: ApiEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const contentType = headerValue(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new InvalidRequestError([{ field: 'body', message: `expected Content-Type application/json, got "${contentType || 'none'}"` }]);
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError([{ field: 'body', message: `not valid JSON (${(error as Error).message})` }]);
  }
}

function respond(route: Route, result: unknown): ApiResult {
  const reply = result instanceof Reply ? result : new Reply(result);
  const parsed = route.response.schema.safeParse(reply.body);
  if (!parsed.success) {
    throw new InvalidResponseError(`${route.operationId} answered with a body its response schema rejects`, z.treeifyError(parsed.error));
  }
  const contentType = route.response.contentType ?? 'application/json';
  return {
    statusCode: reply.status ?? route.response.status ?? 200,
    headers: {
      'content-type': `${contentType}; charset=utf-8`,
      'cache-control': 'no-store',
      ...reply.headers,
    },
    body: contentType === 'application/json' ? JSON.stringify(parsed.data) : String(parsed.data),
  };
}
