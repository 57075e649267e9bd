import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NotConfiguredError, UsageError } from './errors.ts';

/**
 * Where the API is and how to sign requests to it, from (first wins) the command line, the
 * environment, and `.symbiont/endpoints.json` in the working directory, which `npm start` writes.
 */

/** The global options every command takes. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly api?: string;
  readonly token?: string;
  readonly profile?: string;
  readonly region?: string;
}

/** How requests are authenticated: a bearer token (local) or AWS SigV4 (deployed). */
export type Auth =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'sigv4'; readonly region: string; readonly profile?: string };

/** The resolved settings of one invocation. */
export interface Settings {
  /** Base URL of the API, without a trailing slash; may carry a stage path. */
  readonly api: string;
  readonly auth: Auth;
}

/** Where the local runtime writes its endpoints, relative to the working directory. */
export const ENDPOINTS_FILE = join('.symbiont', 'endpoints.json');

/** What the CLI reads of `endpoints.json`; the local runtime writes more. */
const endpointsSchema = z.looseObject({
  api: z.string().min(1),
  tokens: z.looseObject({ admin: z.string().optional(), scientist: z.string().optional(), uploader: z.string().optional() }).optional(),
});
type Endpoints = z.infer<typeof endpointsSchema>;

/**
 * Resolves the settings of one invocation. A local endpoints file's admin token is used only
 * when the API is that file's API, so a local token is never sent to another server, and not
 * when `--profile` asks for SigV4.
 */
export function resolveSettings(options: GlobalOptions, env: Readonly<Record<string, string | undefined>>, cwd: string): Settings {
  const endpoints = readEndpoints(cwd);
  const rawApi = options.api ?? nonEmpty(env.SYMBIONT_API_URL) ?? endpoints?.api;
  if (rawApi === undefined) {
    throw new NotConfiguredError(
      `no API to call: pass --api <url>, set SYMBIONT_API_URL, or run \`npm start\` here so that ${ENDPOINTS_FILE} exists`,
    );
  }
  const api = normalizeApiUrl(rawApi, options.api !== undefined ? '--api' : env.SYMBIONT_API_URL ? 'SYMBIONT_API_URL' : ENDPOINTS_FILE);
  const localToken = endpoints && normalizeApiUrl(endpoints.api, ENDPOINTS_FILE) === api && options.profile === undefined ? endpoints.tokens?.admin : undefined;
  const token = options.token ?? nonEmpty(env.SYMBIONT_TOKEN) ?? localToken;
  if (token !== undefined) return { api, auth: { kind: 'bearer', token } };
  const profile = options.profile ?? nonEmpty(env.AWS_PROFILE);
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? regionOf(api);
  if (region === undefined) {
    throw new NotConfiguredError(`cannot tell the AWS region of ${api} to sign requests for: pass --region or set AWS_REGION (or pass --token)`);
  }
  return { api, auth: { kind: 'sigv4', region, ...(profile ? { profile } : {}) } };
}

function readEndpoints(cwd: string): Endpoints | undefined {
  const file = join(cwd, ENDPOINTS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NotConfiguredError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NotConfiguredError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = endpointsSchema.safeParse(json);
  if (!parsed.success) {
    throw new NotConfiguredError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function normalizeApiUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${from}: "${value}" is not a URL (expected http://host:port or https://…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${from}: "${value}" is not an http(s) URL`);
  if (url.search || url.hash) throw new UsageError(`${from}: "${value}" must not carry a query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** `https://abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`. */
export function regionOf(api: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(api).hostname)?.[1];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
