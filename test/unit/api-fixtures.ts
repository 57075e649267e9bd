import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '#config/load';
import { BadRequestError } from '#shared/errors';
import { bearerTokenAuthenticator, createApi, type Authenticator, type Router } from '#api/api';
import type { ApiEvent, ApiResult, ApiStore, Route } from '#api/route';
import type { ListUploadsInput, UploadPageResult, UploadReader, UploadRecord } from '#api/upload-reader';
import type { VersionReader } from '#api/version-reader';
import { MemoryVersions } from './api-datasets-fixtures.ts';

/** Shared by the api*.test.ts files: events, the example config, an in-memory upload reader, tokens. */

const eventFile = (name: string) => fileURLToPath(new URL(`../../events/apigw/${name}.json`, import.meta.url));

const events = {
  uploads: JSON.parse(readFileSync(eventFile('get-uploads-iam'), 'utf8')) as ApiEvent,
  upload: JSON.parse(readFileSync(eventFile('get-upload-iam'), 'utf8')) as ApiEvent,
  health: JSON.parse(readFileSync(eventFile('get-health'), 'utf8')) as ApiEvent,
};

/** A fresh copy of a stored event, to change freely. */
export function loadEvent(name: keyof typeof events): ApiEvent {
  return structuredClone(events[name]);
}

/**
 * A request built from the stored public event (no authorizer context): method, path and query
 * replaced, headers added.
 */
export function request(method: string, pathAndQuery: string, headers: Record<string, string> = {}, body?: string): ApiEvent {
  const event = loadEvent('health');
  const url = new URL(pathAndQuery, 'https://api.example');
  event.rawPath = url.pathname;
  event.rawQueryString = url.searchParams.toString();
  event.queryStringParameters = url.search ? Object.fromEntries(url.searchParams) : undefined;
  event.requestContext.http.method = method;
  event.requestContext.http.path = url.pathname;
  event.routeKey = `${method} ${url.pathname}`;
  event.headers = { ...event.headers, ...headers };
  if (body !== undefined) event.body = body;
  return event;
}

export const { config } = loadConfig(fileURLToPath(new URL('../../symbiont.config.json', import.meta.url)));

export const tokens = {
  admin: 'admin-token-0123456789abcdef',
  scientist: 'scientist-token-0123456789abcdef',
  uploader: 'uploader-token-0123456789abcdef',
} as const;

export const bearer = (role: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[role]}` });

export const localAuthenticator: Authenticator = bearerTokenAuthenticator({
  [tokens.admin]: { role: 'admin', name: 'local-admin' },
  [tokens.scientist]: { role: 'scientist', name: 'local-scientist' },
  [tokens.uploader]: { role: 'uploader', name: 'field-team', datasets: ['readings'] },
});

export function upload(overrides: Partial<UploadRecord> & Pick<UploadRecord, 'uploadId'>): UploadRecord {
  return {
    dataset: 'readings',
    bucket: 'symbiont-dev-landing',
    key: `api/readings/${overrides.uploadId}/readings.csv`,
    source: 'api',
    status: 'published',
    receivedAt: '2025-01-07T09:12:44.118Z',
    updatedAt: '2025-01-07T09:12:45.001Z',
    ...overrides,
  };
}

/** Uploads of two senders on two datasets. */
export const sampleUploads: readonly UploadRecord[] = [
  upload({ uploadId: '01JH2QK7W3M9XG5V8RZB4TNC6D', sender: 'field-team', dataset: 'readings' }),
  upload({ uploadId: '01JH2QM1A4B5C6D7E8F9G0H1J2', sender: 'alice', dataset: 'readings', source: 'sftp', key: 'sftp/alice/readings/a.csv' }),
  upload({ uploadId: '01JH2QN2K3M4N5P6Q7R8S9T0V1', sender: 'field-team', dataset: 'sites', status: 'rejected', reason: 'not allowed' }),
];

/**
 * An in-memory {@link UploadReader} that records the listing queries it receives. Its cursors are
 * offsets (`o2`); `nextCursor`, when set, is handed back instead, whatever the query. Dataset
 * versions come from `versions` (sample versions of `readings` unless given), so it serves every
 * route.
 */
export class MemoryUploads implements UploadReader, VersionReader {
  readonly queries: ListUploadsInput[] = [];
  nextCursor: string | undefined;

  constructor(
    private readonly uploads: readonly UploadRecord[] = sampleUploads,
    readonly versions: VersionReader = new MemoryVersions(),
  ) {}

  getDatasetHead(dataset: string) {
    return this.versions.getDatasetHead(dataset);
  }

  getVersion(dataset: string, version: number) {
    return this.versions.getVersion(dataset, version);
  }

  getLatestVersion(dataset: string) {
    return this.versions.getLatestVersion(dataset);
  }

  listVersions(dataset: string, page?: { limit?: number; cursor?: string }) {
    return this.versions.listVersions(dataset, page);
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    return this.uploads.find((u) => u.uploadId === id);
  }

  async listUploads(query: ListUploadsInput): Promise<UploadPageResult> {
    this.queries.push(query);
    const items = this.uploads.filter(
      (u) =>
        (query.dataset === undefined || u.dataset === query.dataset) &&
        (query.status === undefined || u.status === query.status) &&
        (query.sender === undefined || u.sender === query.sender),
    );
    if (this.nextCursor) return { items: items.slice(0, Number(query.limit ?? 25)), cursor: this.nextCursor };
    const start = query.cursor === undefined ? 0 : Number(/^o(\d+)$/.exec(query.cursor)?.[1] ?? Number.NaN);
    if (Number.isNaN(start)) throw new BadRequestError(`cursor ${query.cursor} was not handed out by this listing`);
    const end = start + Number(query.limit ?? 25);
    return { items: items.slice(start, end), ...(end < items.length ? { cursor: `o${end}` } : {}) };
  }
}

export function localApi(store: ApiStore = new MemoryUploads(), routes?: readonly Route[]): Router {
  return createApi({ store, config, authenticator: localAuthenticator, ...(routes ? { routes } : {}) });
}

/** The parsed JSON body of an answer. */
export function json<T = any>(result: ApiResult): T {
  return JSON.parse(result.body) as T;
}
