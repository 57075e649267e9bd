import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { log as logger } from './log.ts';
import { LOCAL_ACCOUNT_ID } from './emulators.ts';

/**
 * The local stand-in for API Gateway's HTTP API: a node:http listener that turns each request into
 * the payload format 2.0 event API Gateway builds for a `$default` route, calls the same handler,
 * and writes its result back as API Gateway does (structured results, or a bare value as JSON).
 */

/** An HTTP API (payload format 2.0) handler; the API router's `handle` fits. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyResultV2<unknown>>;

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Local bearer tokens a browser may carry in a cookie instead of a header. */
export interface BrowserTokens {
  /** Name of the cookie that holds the token. */
  readonly cookie: string;
  /** Whether `token` is one of the local tokens (only those are put in a cookie). */
  isKnown(token: string): boolean;
}

/** What the HTTP adapter serves, and how browsers sign in. */
export interface HttpAdapterOptions {
  /** The handler, or its promise while the runtime is still booting (requests wait for it). */
  readonly handler: HttpApiHandler | Promise<HttpApiHandler>;
  /**
   * Browser sign-in as Jupyter does it: `GET /any/page?token=<known token>` sets the token cookie
   * and redirects to the same URL without the token; later requests that carry the cookie and no
   * `Authorization` header reach the handler with `Authorization: Bearer <token>`, so the router
   * checks them exactly like the CLI's. The cookie is HttpOnly and SameSite=Strict.
   */
  readonly browserTokens?: BrowserTokens;
}

/** A node:http request listener serving the HTTP API. */
export function createHttpAdapter(options: HttpAdapterOptions): RequestListener {
  return (req, res) => {
    serve(req, res, options).catch((error: unknown) => {
      logger.error('the HTTP adapter failed', { error: error as Error });
      if (!res.headersSent) writeJson(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    });
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, options: HttpAdapterOptions): Promise<void> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    // API Gateway answers an oversized payload itself; the function never sees it.
    res.setHeader('connection', 'close');
    writeJson(res, 413, { message: 'Request Entity Too Large' });
    req.resume();
    return;
  }
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === undefined) {
    // A chunked body past the limit: nothing sensible can be answered mid-stream.
    res.destroy();
    return;
  }
  const event = toHttpApiEvent(req, body);
  const tokens = options.browserTokens;
  if (tokens) {
    const signIn = tokenSignIn(event, tokens);
    if (signIn) {
      res.writeHead(302, { location: signIn.location, 'set-cookie': signIn.cookie, 'cache-control': 'no-store' }).end();
      return;
    }
    const fromCookie = cookieValue(event.cookies, tokens.cookie);
    if (fromCookie !== undefined && event.headers.authorization === undefined) event.headers.authorization = `Bearer ${fromCookie}`;
  }
  let handler: HttpApiHandler;
  try {
    handler = await options.handler;
  } catch (error) {
    logger.error('the HTTP API could not start', { error: error as Error });
    writeJson(res, 503, { message: 'Service Unavailable' });
    return;
  }
  let result: APIGatewayProxyResultV2<unknown>;
  try {
    result = await handler(event);
  } catch (error) {
    // What API Gateway answers when the integration fails; the details stay in the log.
    logger.error('the API handler threw', { error: error as Error, path: event.rawPath });
    writeJson(res, 500, { message: 'Internal Server Error' });
    return;
  }
  writeResult(res, result, event.requestContext.http.method === 'HEAD');
}

/** The payload format 2.0 event API Gateway builds for a request to the `$default` route. */
export function toHttpApiEvent(req: IncomingMessage, body: Buffer, now = new Date()): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const rawQueryString = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
  const sourceIp = clientIp(req);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    // API Gateway moves cookies to their own field and joins repeated headers with commas.
    if (name === 'cookie') {
      cookies = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(';')).map((c) => c.trim()).filter(Boolean);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  const query = queryParameters(url.searchParams);
  const domainName = headers.host ?? 'localhost';
  const method = (req.method ?? 'GET').toUpperCase();
  const text = body.length > 0 && isTextual(headers['content-type'], body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split(/[.:]/)[0] ?? domainName,
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomBytes(10).toString('base64'),
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/**
 * Writes a handler's result as API Gateway does: a structured result (`statusCode`, `headers`,
 * `cookies`, `body`, `isBase64Encoded`) as it says, anything else as a 200 JSON body.
 */
export function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2<unknown>, headOnly = false): void {
  if (!isStructured(result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(headOnly ? undefined : body);
    return;
  }
  const payload = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
  headers['content-length'] = String(payload.length);
  headers['content-type'] ??= 'application/json';
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(headOnly ? undefined : payload);
}

function isStructured(result: unknown): result is { statusCode?: number; headers?: Record<string, string | number | boolean>; cookies?: string[]; body?: string; isBase64Encoded?: boolean } {
  return typeof result === 'object' && result !== null && 'statusCode' in result;
}

/** `?token=<known>` on a GET: where to send the browser, and the cookie to set. */
function tokenSignIn(event: APIGatewayProxyEventV2, tokens: BrowserTokens): { location: string; cookie: string } | undefined {
  if (event.requestContext.http.method !== 'GET') return undefined;
  const params = new URLSearchParams(event.rawQueryString);
  const token = params.get('token');
  if (token === null || !tokens.isKnown(token)) return undefined;
  params.delete('token');
  const rest = params.toString();
  return {
    location: `${event.rawPath}${rest ? `?${rest}` : ''}`,
    cookie: `${tokens.cookie}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
  };
}

function cookieValue(cookies: readonly string[] | undefined, name: string): string | undefined {
  for (const cookie of cookies ?? []) {
    const at = cookie.indexOf('=');
    if (at > 0 && cookie.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(cookie.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Repeated parameters are joined with commas, as API Gateway does; absent when there are none. */
function queryParameters(params: URLSearchParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = key in out ? `${out[key]},${value}` : value;
  return Object.keys(out).length > 0 ? out : undefined;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|x-ndjson|yaml|csv)|[^;]*\+(json|xml))/i;

/** Text bodies pass as strings; anything else (or bytes that are not UTF-8) as base64. */
function isTextual(contentType: string | undefined, body: Buffer): boolean {
  if (contentType !== undefined) return TEXT_TYPES.test(contentType.trim());
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time`. */
function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
