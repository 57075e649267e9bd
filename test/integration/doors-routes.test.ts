import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes, bearerTokenAuthenticator, createApi } from '#api/api';
import type { Route } from '#api/route';
import { appRoles, type AppRole } from '#api/schemas';
import { createHttpAdapter } from '../../local/http-adapter.ts';
import { browserTokens, tokenMap, TOKEN_COOKIE, type RoleTokens } from '../../local/tokens.ts';
import { config, MemoryUploads } from '../unit/api-fixtures.ts';

/**
 * Doors of the HTTP API, generated from the router's own route list (`apiRoutes`): every route that
 * is not public is tried without credentials and with wrong ones (401), with every role its
 * `access` leaves out (403), and every dataset-scoped route with an uploader naming a dataset it
 * is not bound to (403). Public routes are tried without credentials and must not ask for any.
 * A route added later is tried the same way without touching this file. The API is served as the
 * local runtime serves it: the local HTTP adapter (with its browser-cookie sign-in) on loopback,
 * the runtime's token map and the bearer authenticator.
 */

const tokens: RoleTokens = {
  admin: 'doors-admin-token-0123456789abcdef',
  scientist: 'doors-scientist-token-0123456789abcdef',
  uploader: 'doors-uploader-token-0123456789abcdef',
};
/** The uploader is bound to `readings` only; the example config also has `sites`. */
const boundDataset = 'readings';
const otherDataset = 'sites';

/** Sample values for path parameters; the router checks credentials and roles before it reads them. */
const samples: Record<string, string> = {
  name: boundDataset,
  version: '1',
  id: '01JH2QK7W3M9XG5V8RZB4TNC6D',
  queue: 'ingest',
};

const pathOf = (route: Route, params: Record<string, string> = {}) =>
  route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? samples[name] ?? 'sample'));
const label = (route: Route) => `${route.method.toUpperCase()} ${route.path}`;
const isPublic = (route: Route) => route.access === 'public';
const protectedRoutes = apiRoutes.filter((route) => !isPublic(route));
const publicRoutes = apiRoutes.filter(isPublic);
/** Each route with each role its access leaves out. */
const forbidden = protectedRoutes.flatMap((route) =>
  appRoles.filter((role) => !(route.access as readonly AppRole[]).includes(role)).map((role) => [label(route), role, route] as const),
);
/** Routes an uploader may call whose path names a dataset: the uploader's binding must hold on each. */
const datasetScoped = protectedRoutes.filter((route) => (route.access as readonly AppRole[]).includes('uploader') && route.path.startsWith('/datasets/{name}'));

/** Bodies that pass the route's schema, so that a 403 cannot be a 400 in disguise. */
const validBodies: Record<string, unknown> = { 'POST /datasets/{name}/uploads': { file: 'day.csv' } };

let server: Server;
let base: string;

beforeAll(async () => {
  const api = createApi({ store: new MemoryUploads(), config, authenticator: bearerTokenAuthenticator(tokenMap(tokens, [boundDataset])) });
  server = createServer(createHttpAdapter({ handler: (event) => api.handle(event), browserTokens: browserTokens(tokens) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function call(route: Route, headers: Record<string, string> = {}, params?: Record<string, string>) {
  const body = validBodies[label(route)];
  const response = await fetch(`${base}${pathOf(route, params)}`, {
    method: route.method.toUpperCase(),
    redirect: 'manual',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, error };
}

describe('the route list the doors are generated from', () => {
  it('has protected routes for every role to be refused on, and public routes', () => {
    // Assess: an empty list would make every door below pass vacuously.
    expect(protectedRoutes.length).toBeGreaterThan(30);
    expect(publicRoutes.length).toBeGreaterThan(0);
    expect(new Set(forbidden.map(([, role]) => role))).toEqual(new Set(['scientist', 'uploader']));
    expect(datasetScoped.map(label)).toEqual(expect.arrayContaining(['GET /datasets/{name}/versions', 'POST /datasets/{name}/uploads']));
  });
});

describe('a protected route without credentials', () => {
  it.each(protectedRoutes.map((route) => [label(route), route] as const))('%s answers 401', async (_, route) => {
    // Act
    const answer = await call(route);

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.error).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('missing credentials') });
  });
});

describe('a protected route with wrong credentials', () => {
  const wrong: readonly (readonly [string, Record<string, string>])[] = [
    ['an unknown bearer token', { authorization: 'Bearer doors-not-a-token-of-ours-0123456789' }],
    ['a known token with one character changed', { authorization: `Bearer ${tokens.admin.slice(0, -1)}X` }],
    ['another scheme (Basic)', { authorization: `Basic ${Buffer.from(`admin:${tokens.admin}`).toString('base64')}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['an unknown token in the sign-in cookie', { cookie: `${TOKEN_COOKIE}=doors-not-a-token-of-ours-0123456789` }],
  ];
  const cases = protectedRoutes.flatMap((route) => wrong.map(([what, headers]) => [label(route), what, route, headers] as const));

  it.each(cases)('%s with %s answers 401', async (_, _what, route, headers) => {
    // Act
    const answer = await call(route, headers);

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.error?.code).toBe('unauthorized');
  });
});

describe('a role on a route its access leaves out', () => {
  it.each(forbidden)('%s as %s answers 403', async (_, role, route) => {
    // Act
    const answer = await call(route, { authorization: `Bearer ${tokens[role]}` });

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining(`has role ${role}`) });
  });

  it.each(forbidden)('%s as %s through the sign-in cookie answers 403', async (_, role, route) => {
    // Act
    const answer = await call(route, { cookie: `${TOKEN_COOKIE}=${tokens[role]}` });

    // Assess
    expect(answer.status).toBe(403);
  });
});

describe("an uploader on another dataset's routes", () => {
  it.each(datasetScoped.map((route) => [label(route), route] as const))(`%s naming ${otherDataset} answers 403`, async (_, route) => {
    // Act
    const answer = await call(route, { authorization: `Bearer ${tokens.uploader}` }, { name: otherDataset });

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.error?.message).toContain(`is not bound to dataset ${otherDataset}`);
  });

  it.each(datasetScoped.map((route) => [label(route), route] as const))(`%s naming ${otherDataset} is allowed to a scientist (the 403 is the binding's)`, async (_, route) => {
    // Act
    const answer = await call(route, { authorization: `Bearer ${tokens.scientist}` }, { name: otherDataset });

    // Assess
    expect(answer.status).not.toBe(403);
    expect(answer.status).not.toBe(401);
  });

  it(`does not list ${otherDataset} to the uploader`, async () => {
    // Act
    const response = await fetch(`${base}/datasets`, { headers: { authorization: `Bearer ${tokens.uploader}` } });

    // Assess
    expect(((await response.json()) as { items: { name: string }[] }).items.map((d) => d.name)).toEqual([boundDataset]);
  });
});

describe('a public route', () => {
  it.each(publicRoutes.map((route) => [label(route), route] as const))('%s answers without credentials and never asks for a token', async (_, route) => {
    // Act
    const answer = await call(route);

    // Assess
    expect(answer.status).not.toBe(403);
    expect(answer.error?.message ?? '').not.toMatch(/Authorization: Bearer|unknown token/);
  });
});
