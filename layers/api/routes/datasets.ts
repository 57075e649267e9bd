import type { DatasetSpec, SymbiontConfig } from '#config/schema';
import { BadRequestError, ForbiddenError } from '#shared/errors';
import { specRevision } from '#validation/spec';
import { CapabilityUnavailableError, DatasetNotFoundError, VersionNotFoundError } from '../errors.ts';
import { defineRoute, type Caller, type Route } from '../route.ts';
import {
  datasetListSchema,
  datasetParamsSchema,
  datasetSchema,
  datasetVersionPageSchema,
  datasetVersionParamsSchema,
  datasetVersionSchema,
  downloadQuerySchema,
  listDatasetsQuerySchema,
  listVersionsQuerySchema,
  versionDownloadSchema,
} from '../schemas.ts';
import type { VersionReader, VersionRecord } from '../version-reader.ts';

/**
 * Reading datasets and their versions. The datasets are the config's; the versions are the
 * table's, published ones only. Admins and scientists read every dataset. An uploader reads the
 * datasets it is bound to — the spec tells it what to send, the versions what became of what was
 * sent — and no other: they are not listed, and naming one is a 403.
 */
const readers = ['admin', 'scientist', 'uploader'] as const;

export const datasetRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/datasets',
    operationId: 'listDatasets',
    summary: 'Lists the datasets: format, spec revision and newest version.',
    description: 'An uploader sees only the datasets it is bound to.',
    tags: ['datasets'],
    access: readers,
    request: { query: listDatasetsQuerySchema },
    response: { description: 'One page of the datasets the caller may read, by name.', schema: datasetListSchema },
    handle: async ({ query }, { caller, deps }) => {
      const readable = Object.keys(deps.config.datasets)
        .filter((name) => mayRead(caller, name))
        .sort();
      // The cursor is the last name handed out: the next page starts after it.
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const rest = after === undefined ? readable : readable.filter((name) => name > after);
      const names = rest.slice(0, query.limit);
      const cursor = rest.length > names.length ? Buffer.from(names.at(-1)!, 'utf8').toString('base64url') : undefined;
      const heads = await Promise.all(names.map((name) => deps.store.getDatasetHead(name)));
      return {
        items: names.map((name, i) => {
          const spec = deps.config.datasets[name]!;
          const latest = heads[i]?.latest;
          return { name, description: spec.description, format: spec.format, revision: specRevision(spec), ...(latest ? { latestVersion: latest } : {}) };
        }),
        ...(cursor ? { cursor } : {}),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/datasets/{name}',
    operationId: 'getDataset',
    summary: 'Shows a dataset: its spec, the spec revision and the newest version.',
    tags: ['datasets'],
    access: readers,
    request: { params: datasetParamsSchema },
    response: { description: 'The dataset.', schema: datasetSchema },
    errors: [404],
    handle: async ({ params }, { caller, deps }) => {
      const spec = readableSpec(deps.config, params.name, caller);
      const latest = await deps.store.getLatestVersion(params.name);
      return { name: params.name, description: spec.description, format: spec.format, revision: specRevision(spec), spec, ...(latest ? { latest: shown(latest) } : {}) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/datasets/{name}/versions',
    operationId: 'listDatasetVersions',
    summary: 'Lists the published versions of a dataset, newest first, a page at a time.',
    tags: ['datasets'],
    access: readers,
    request: { params: datasetParamsSchema, query: listVersionsQuerySchema },
    response: { description: 'One page of versions.', schema: datasetVersionPageSchema },
    errors: [404],
    handle: async ({ params, query }, { caller, deps }) => {
      readableSpec(deps.config, params.name, caller);
      const page = await deps.store.listVersions(params.name, { limit: query.limit, cursor: query.cursor });
      return { items: page.items.map(shown), ...(page.cursor ? { cursor: page.cursor } : {}) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/datasets/{name}/versions/{version}',
    operationId: 'getDatasetVersion',
    summary: 'Shows one published version of a dataset, or the newest with `latest`.',
    tags: ['datasets'],
    access: readers,
    request: { params: datasetVersionParamsSchema },
    response: { description: 'The version.', schema: datasetVersionSchema },
    errors: [404],
    handle: async ({ params }, { caller, deps }) => {
      readableSpec(deps.config, params.name, caller);
      return shown(await findVersion(deps.store, params.name, params.version));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/datasets/{name}/versions/{version}/download',
    operationId: 'downloadDatasetVersion',
    summary: 'Hands out a presigned GET URL of one published version (or `latest`), with its sha256.',
    description:
      'The URL needs no credentials until it expires (15 minutes unless `expiresIn` says otherwise, at most one hour) and saves the file as `<dataset>-v<n>-<file>` (Content-Disposition). Check the bytes against `sha256`.',
    tags: ['datasets'],
    access: readers,
    request: { params: datasetVersionParamsSchema, query: downloadQuerySchema },
    response: { description: 'Where to download the version, until when, and its checksum.', schema: versionDownloadSchema },
    errors: [404, 503],
    handle: async ({ params, query }, { caller, deps }) => {
      readableSpec(deps.config, params.name, caller);
      if (!deps.data) throw new CapabilityUnavailableError('presigned downloads are not available from this API');
      const version = await findVersion(deps.store, params.name, params.version);
      const signed = await deps.data.downloadUrl(version, query.expiresIn);
      return {
        dataset: version.dataset,
        version: version.version,
        file: version.file,
        fileName: signed.fileName,
        url: signed.url,
        expiresAt: signed.expiresAt,
        sha256: version.sha256,
        bytes: version.bytes,
        rows: version.rows,
      };
    },
  }),
];

/** The spec of a dataset the caller may read: 404 for a name the config lacks, 403 for an uploader not bound to it. */
export function readableSpec(config: Pick<SymbiontConfig, 'datasets'>, name: string, caller: Caller): DatasetSpec {
  // hasOwn: a name like "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(config.datasets, name)) {
    const known = Object.keys(config.datasets).filter((known) => mayRead(caller, known)).sort();
    throw new DatasetNotFoundError(`no dataset is named ${name}; known datasets: ${known.join(', ') || 'none'}`, { dataset: name });
  }
  if (!mayRead(caller, name)) {
    const bound = caller.datasets ?? [];
    throw new ForbiddenError(`uploader ${caller.name} is not bound to dataset ${name}; it may read ${bound.length === 0 ? 'no dataset' : bound.join(', ')}`, {
      dataset: name,
    });
  }
  return config.datasets[name]!;
}

async function findVersion(store: VersionReader, dataset: string, selector: string): Promise<VersionRecord> {
  if (selector === 'latest') {
    const latest = await store.getLatestVersion(dataset);
    if (!latest) throw new VersionNotFoundError(`dataset ${dataset} has no published version yet`, { dataset, version: selector });
    return latest;
  }
  const number = Number(selector);
  const found = await store.getVersion(dataset, number);
  if (found) return found;
  // Say what does exist, so a caller who guessed a number knows where to look.
  const latest = (await store.getDatasetHead(dataset))?.latest ?? 0;
  const hint = latest === 0 ? 'it has no published version yet' : number > latest ? `its latest version is ${latest}` : 'it is not published (yet)';
  throw new VersionNotFoundError(`dataset ${dataset} has no version ${number}; ${hint}`, { dataset, version: number });
}

/** A version as the API shows it: the store shows only published ones, which have a `createdAt`. */
function shown(version: VersionRecord): VersionRecord & { createdAt: string } {
  return { ...version, createdAt: version.createdAt ?? version.reservedAt };
}

function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new BadRequestError(`cursor ${cursor} was not handed out by this listing`, { cursor });
  return name;
}

function mayRead(caller: Caller, dataset: string): boolean {
  return caller.role !== 'uploader' || (caller.datasets ?? []).includes(dataset);
}
