import type { z } from 'zod';
import { ApiError, NotConfiguredError, UnreachableError } from './errors.ts';
import type { Auth, Settings } from './settings.ts';

/**
 * The one HTTP client of the CLI: bearer tokens locally, AWS Signature Version 4 (service
 * `execute-api`) against the deployed API. Every answer is checked against the API's own
 * response schema; every error answer becomes an {@link ApiError} carrying the API's message.
 */

/** A query parameter value; `undefined` leaves the parameter out. */
export type QueryValue = string | number | boolean | undefined;

/** Calls to the API, authenticated and checked. */
export interface ApiClient {
  /** The API's base URL. */
  readonly api: string;
  /** GETs `path` (relative to the base URL, may carry a stage path) and parses the answer. */
  get<T>(path: string, query: Readonly<Record<string, QueryValue>>, schema: z.ZodType<T>): Promise<T>;
  /** POSTs `body` as JSON to `path` and parses the answer. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T>;
  /** PUTs `body` as JSON to `path` (with `query`) and parses the answer. */
  put<T>(path: string, query: Readonly<Record<string, QueryValue>>, body: unknown, schema: z.ZodType<T>): Promise<T>;
  /** DELETEs `path` (with `query`) and parses the answer. */
  delete<T>(path: string, query: Readonly<Record<string, QueryValue>>, schema: z.ZodType<T>): Promise<T>;
}

/** One page of a listing, as every list route answers. */
export interface ListPage<T> {
  readonly items: T[];
  readonly cursor?: string;
}

/**
 * GETs a listing from `cursor` on: one page, or with `all` every page until the API hands out no
 * cursor. A cursor seen twice stops the walk instead of looping forever.
 */
export async function fetchPages<T>(
  client: ApiClient,
  path: string,
  query: Readonly<Record<string, QueryValue>>,
  schema: z.ZodType<ListPage<T>>,
  options: { readonly cursor?: string; readonly all?: boolean },
): Promise<ListPage<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor = options.cursor;
  do {
    const page = await client.get(path, { ...query, cursor }, schema);
    items.push(...page.items);
    cursor = page.cursor;
    if (cursor !== undefined && seen.has(cursor)) {
      throw new ApiError(200, 'invalid_response', 'the API handed out the same cursor twice; stopping instead of looping');
    }
    if (cursor !== undefined) seen.add(cursor);
  } while (options.all && cursor !== undefined);
  return cursor === undefined ? { items } : { items, cursor };
}

/** Where the API is, how to authenticate, and how to send. */
export interface ApiClientOptions extends Settings {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Milliseconds before a request counts as unanswered. @default 30000 */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

type Signer = (request: { method: string; url: URL; headers: Record<string, string>; body?: string }) => Promise<Record<string, string>>;

/** A client for the given settings. SigV4 credentials are looked up on the first request. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let signer: Promise<Signer> | undefined;
  const sign: Signer = async (request) => {
    signer ??= createSigner(options.auth);
    return (await signer)(request);
  };

  /** Sends one request, signed, and parses the answer with `schema`. */
  async function send<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: URL, body: string | undefined, schema: z.ZodType<T>): Promise<T> {
    const headers = await sign({
      method,
      url,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new UnreachableError(`cannot reach the API at ${options.api}: ${describeFetchFailure(error)}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw errorFrom(response, text);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch (error) {
      throw new ApiError(response.status, 'invalid_response', `the API answered ${url.pathname} with something that is not JSON`, undefined, { cause: error });
    }
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      throw new ApiError(response.status, 'invalid_response', `the API's answer to ${url.pathname} is not what this CLI expects (${problems.join('; ')}); is the CLI older than the API?`);
    }
    return parsed.data;
  }

  return {
    api: options.api,
    get(path, query, schema) {
      const url = new URL(`${options.api}${path}`);
      for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
      return send('GET', url, undefined, schema);
    },
    post(path, body, schema) {
      return send('POST', new URL(`${options.api}${path}`), JSON.stringify(body), schema);
    },
    put(path, query, body, schema) {
      const url = new URL(`${options.api}${path}`);
      for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
      return send('PUT', url, JSON.stringify(body), schema);
    },
    delete(path, query, schema) {
      const url = new URL(`${options.api}${path}`);
      for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
      return send('DELETE', url, undefined, schema);
    },
  };
}

async function createSigner(auth: Auth): Promise<Signer> {
  if (auth.kind === 'bearer') return async ({ headers }) => ({ ...headers, authorization: `Bearer ${auth.token}` });
  // Loaded only when signing: they are the heaviest imports of the CLI and local use needs none.
  const [{ SignatureV4 }, { Sha256 }, { fromNodeProviderChain }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-providers'),
  ]);
  const credentials = fromNodeProviderChain(auth.profile ? { profile: auth.profile } : {});
  const signer = new SignatureV4({ service: 'execute-api', region: auth.region, credentials, sha256: Sha256 });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    try {
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        // `host` is signed, so it must be what fetch will send: host and port as in the URL.
        headers: { ...headers, host: url.host },
        ...(body !== undefined ? { body } : {}),
      });
      // fetch sets Host itself and refuses to be told.
      const { host: _host, ...rest } = signed.headers;
      return rest;
    } catch (error) {
      throw new NotConfiguredError(
        `no AWS credentials to sign requests with${auth.profile ? ` (profile ${auth.profile})` : ''}: ${(error as Error).message}. Configure AWS credentials, pass --profile, or pass --token`,
        { cause: error },
      );
    }
  };
}

/** An error answer as an {@link ApiError}: our envelope, API Gateway's own `{"message"}`, or the status line. */
function errorFrom(response: Response, text: string): ApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const envelope = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (envelope && typeof envelope.message === 'string') {
    return new ApiError(response.status, typeof envelope.code === 'string' ? envelope.code : 'error', envelope.message, envelope.details);
  }
  // API Gateway answers its own refusals (a bad signature, throttling) with {"message": "..."}.
  const gatewayMessage = (body as { message?: unknown } | undefined)?.message;
  if (typeof gatewayMessage === 'string') return new ApiError(response.status, 'gateway', `${gatewayMessage} (HTTP ${response.status})`);
  return new ApiError(response.status, 'http', `HTTP ${response.status} ${response.statusText}`.trim());
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
