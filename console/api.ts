import { AwsClient } from 'aws4fetch';
import type { CognitoSession } from './auth.ts';

/**
 * How the console calls the data API. Locally the browser carries the session cookie the banner's
 * `/?token=…` link set (the HTTP adapter turns it into a bearer token); in AWS every call is signed
 * with SigV4 using the identity pool's temporary credentials, exactly as the CLI signs its calls.
 * Paths are relative to the page, so the console works wherever the API is mounted.
 */

/** The `{"error": …}` body every refused request carries, as an exception. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the console asks of the API. */
export interface ApiClient {
  get<T>(path: string, query?: Readonly<Record<string, string | undefined>>): Promise<T>;
  /** A JSON body sent with POST; the answer's body. */
  post<T>(path: string, body: unknown): Promise<T>;
}

type Fetcher = (url: string, init?: { method: string; body: string }) => Promise<Response>;

/** An API client over one `fetch` (the browser's, or aws4fetch's signing one). */
export function apiClient(fetcher: Fetcher): ApiClient {
  const call = async <T>(url: URL, init?: { method: string; body: string }): Promise<T> => {
    let response: Response;
    try {
      response = await fetcher(url.toString(), init);
    } catch (error) {
      throw new ApiError(0, 'network', `The API did not answer (${(error as Error).message}). Check that it is running and reload the page.`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? `http-${response.status}`, error?.message ?? `The API answered ${response.status} ${response.statusText}.`);
    }
    return body as T;
  };
  return {
    get<T>(path: string, query: Readonly<Record<string, string | undefined>> = {}): Promise<T> {
      const url = new URL(path, document.baseURI);
      for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, value);
      return call<T>(url);
    },
    post<T>(path: string, body: unknown): Promise<T> {
      return call<T>(new URL(path, document.baseURI), { method: 'POST', body: JSON.stringify(body) });
    },
  };
}

/** Locally: the session cookie goes along with every same-origin request. */
export function cookieClient(): ApiClient {
  return apiClient((url, init) => fetch(url, { ...init, credentials: 'same-origin', headers: requestHeaders(init) }));
}

/** In AWS: each request signed with the signed-in person's temporary credentials. */
export function signedClient(session: CognitoSession): ApiClient {
  let signer: { client: AwsClient; expires: number } | undefined;
  return apiClient(async (url, init) => {
    if (!signer || signer.expires - Date.now() < 60_000) {
      const credentials = await session.credentials();
      signer = {
        client: new AwsClient({
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          service: 'execute-api',
          region: session.region,
        }),
        expires: credentials.expiresAt,
      };
    }
    return signer.client.fetch(url, { ...init, headers: requestHeaders(init) });
  });
}

/** JSON both ways: what the console accepts, and what it sends when it sends a body. */
function requestHeaders(init: { body: string } | undefined): Record<string, string> {
  return init ? { accept: 'application/json', 'content-type': 'application/json' } : { accept: 'application/json' };
}
