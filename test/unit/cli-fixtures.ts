import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiEvent, Router } from '#api/api';
import type { CliIo } from '../../cli/context.ts';
import { localApi, MemoryUploads, tokens, upload } from './api-fixtures.ts';

/** Shared by the cli*.test.ts files: a mock API on a free loopback port, and captured CLI output. */

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export interface MockApi {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 and a free port. By default it answers through the real router
 * (bearer tokens, in-memory uploads), so the CLI is tested against the API's actual answers and
 * error envelope; `answer` replaces that with fixed answers.
 */
export async function startMockApi(answer?: (request: SeenRequest) => Answer): Promise<MockApi> {
  const router = localApi(new MemoryUploads(manyUploads));
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(seen);
    void respond(router, seen, answer).then(({ status, headers, body }) => {
      res.writeHead(status, headers);
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function respond(router: Router, seen: SeenRequest, answer?: (request: SeenRequest) => Answer) {
  if (answer) {
    const { status, body } = answer(seen);
    return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }
  const result = await router.handle(toEvent(seen));
  return { status: result.statusCode, headers: result.headers, body: result.body };
}

function toEvent(seen: SeenRequest): ApiEvent {
  const url = new URL(seen.url, 'http://127.0.0.1');
  const headers = Object.fromEntries(Object.entries(seen.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: seen.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** Five uploads: enough for pages of two. */
export const manyUploads = [1, 2, 3, 4, 5].map((n) =>
  upload({
    uploadId: `01JH2QK7W3M9XG5V8RZB4TNC6${n}`,
    sender: n % 2 ? 'field-team' : 'alice',
    size: n * 1536,
    status: n === 3 ? 'quarantined' : 'published',
  }),
);

export { tokens };

/** An address nothing listens on: a port the OS handed out, then closed again. */
export async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface Captured {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** CLI surroundings whose output is kept; the environment holds only what the test gives. */
export function captureIo(env: Record<string, string> = {}, cwd = '/nonexistent-symbiont-test-dir'): Captured {
  let out = '';
  let err = '';
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text), env, cwd },
    stdout: () => out,
    stderr: () => err,
  };
}

/** A request the scripted API saw: its path, query and JSON body. */
export interface ScriptedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

/** One entry of the script: an answer for the requests it knows, `undefined` for the others. */
export type ScriptEntry = (request: ScriptedRequest) => { status: number; body: unknown; type?: string } | undefined;

/**
 * A node:http server on 127.0.0.1 and a free port that pushes every request onto `seen` and answers
 * with the first entry of `script` that answers (404 `not_found` when none does). Both arrays are
 * the caller's, read at each request, so a test empties or fills them in place.
 */
export function startScriptedApi(seen: ScriptedRequest[], script: ScriptEntry[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ScriptedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), ...(text ? { body: JSON.parse(text) } : {}) };
      seen.push(request);
      const answer = script.map((entry) => entry(request)).find((a) => a !== undefined) ?? { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
    }),
  );
}
