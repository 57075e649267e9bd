import { ForbiddenError } from '#shared/errors';
import { CapabilityUnavailableError, SlotNotFoundError, UploadNotFoundError } from '../errors.ts';
import { defineRoute, type Caller, type Route, type RouteContext } from '../route.ts';
import {
  datasetParamsSchema,
  DEFAULT_URL_SECONDS,
  listUploadsQuerySchema,
  openUploadSlotBodySchema,
  uploadIdParamsSchema,
  uploadPageSchema,
  uploadSchema,
  uploadSlotSchema,
  type AppRole,
  type ListUploadsQuery,
  type UploadPage,
} from '../schemas.ts';
import { readableSpec } from './datasets.ts';
import type { ListUploadsInput, UploadRecord } from '../upload-reader.ts';

/** Reading uploads: everyone reads; an uploader reads only what it sent to its own datasets. */
export const uploadRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/uploads',
    operationId: 'listUploads',
    summary: 'Lists uploads, newest first, a page at a time.',
    description:
      'Filters combine. With `slot`, the uploads made through that slot, oldest first (the other filters narrow each page). An uploader sees only the uploads it sent to the datasets it is bound to; asking for another dataset, sender or slot is a 403.',
    tags: ['uploads'],
    access: ['admin', 'scientist', 'uploader'],
    request: { query: listUploadsQuerySchema },
    response: { description: 'One page of uploads.', schema: uploadPageSchema },
    errors: [404, 503],
    handle: async ({ query }, context) => {
      const { caller, deps } = context;
      if (query.slot !== undefined) return listSlot(query, context);
      const { slot: _slot, ...filters } = query;
      const page = await deps.store.listUploads(scopeToCaller(filters, caller));
      // Filtered again in case the store's filters are looser than the caller's rights.
      const items = page.items.filter((upload) => mayRead(caller, upload));
      return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/uploads/{id}',
    operationId: 'getUpload',
    summary: 'Shows one upload: where it is, its status and why.',
    description:
      'A published upload names its dataset version; a quarantined one carries a summary of its validation report (problems by rule and by column, the first problems with row, column and value); a rejected or failed one says why.',
    tags: ['uploads'],
    access: ['admin', 'scientist', 'uploader'],
    request: { params: uploadIdParamsSchema },
    response: { description: 'The upload.', schema: uploadSchema },
    errors: [404],
    handle: async ({ params }, { caller, deps }) => {
      const upload = await deps.store.getUpload(params.id);
      if (!upload) throw new UploadNotFoundError(`no upload has the id ${params.id}`, { uploadId: params.id });
      if (!mayRead(caller, upload)) {
        throw new ForbiddenError(`uploader ${caller.name} may read only the uploads it sent to ${describeDatasets(caller)}`, {
          uploadId: params.id,
        });
      }
      return upload;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/datasets/{name}/uploads',
    operationId: 'openUploadSlot',
    summary: 'Hands out an upload slot: a slot id and a presigned PUT URL for one file.',
    description:
      'PUT the file to `url` within 15 minutes. It lands at `api/<dataset>/<slotId>/<file>` and is validated exactly as an SFTP upload is; follow it with `GET /uploads?slot=<slotId>` until it has an outcome (published, quarantined or rejected). The caller is recorded as its sender.',
    tags: ['uploads'],
    access: ['admin', 'scientist', 'uploader'],
    request: { params: datasetParamsSchema, body: openUploadSlotBodySchema },
    response: { status: 201, description: 'The slot and where to PUT the file.', schema: uploadSlotSchema },
    errors: [404, 503],
    handle: async ({ params, body }, { caller, deps }) => {
      readableSpec(deps.config, params.name, caller);
      if (!deps.data) throw new CapabilityUnavailableError('upload slots are not available from this API');
      const slot = await deps.data.openSlot({ dataset: params.name, file: body.file, sender: caller.name, seconds: DEFAULT_URL_SECONDS });
      return {
        slotId: slot.slotId,
        dataset: slot.dataset,
        file: slot.file,
        key: slot.key,
        url: slot.url,
        method: slot.method,
        headers: { ...slot.headers },
        createdAt: slot.createdAt,
        expiresAt: slot.expiresAt,
      };
    },
  }),
];

/**
 * The uploads made through one slot. The slot must exist, and an uploader may follow only the
 * slots it asked for; the other filters narrow the page (a slot holds few uploads).
 */
async function listSlot(query: ListUploadsQuery, { caller, deps }: RouteContext<readonly AppRole[]>): Promise<UploadPage> {
  if (!deps.data) throw new CapabilityUnavailableError('upload slots are not available from this API');
  const slotId = query.slot!;
  const slot = await deps.data.getSlot(slotId);
  if (!slot) throw new SlotNotFoundError(`no upload slot has the id ${slotId}; ask for one with POST /datasets/{name}/uploads`, { slotId });
  if (caller.role === 'uploader' && slot.sender !== caller.name) {
    throw new ForbiddenError(`uploader ${caller.name} may follow only the upload slots it asked for`, { slotId });
  }
  const page = await deps.data.listSlotUploads(slotId, { limit: query.limit, cursor: query.cursor });
  const items = page.items.filter(
    (upload) =>
      mayRead(caller, upload) &&
      (query.dataset === undefined || upload.dataset === query.dataset) &&
      (query.status === undefined || upload.status === query.status) &&
      (query.source === undefined || upload.source === query.source) &&
      (query.sender === undefined || upload.sender === query.sender),
  );
  return { items: items.map(({ report: _report, ...item }) => item), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** Narrows a listing to what the caller may see, or refuses a filter that reaches beyond it. */
function scopeToCaller(query: Omit<ListUploadsQuery, 'slot'>, caller: Caller): ListUploadsInput {
  if (caller.role !== 'uploader') return query;
  const datasets = caller.datasets ?? [];
  if (query.dataset !== undefined && !datasets.includes(query.dataset)) {
    throw new ForbiddenError(`uploader ${caller.name} is not bound to dataset ${query.dataset}; it may read ${describeDatasets(caller)}`, {
      dataset: query.dataset,
    });
  }
  if (query.sender !== undefined && query.sender !== caller.name) {
    throw new ForbiddenError(`uploader ${caller.name} may read only its own uploads, not those of ${query.sender}`, { sender: query.sender });
  }
  // With one dataset the store can list that dataset's partition instead of every upload.
  const dataset = query.dataset ?? (datasets.length === 1 ? datasets[0] : undefined);
  return { ...query, sender: caller.name, ...(dataset ? { dataset } : {}) };
}

function mayRead(caller: Caller, upload: UploadRecord): boolean {
  if (caller.role !== 'uploader') return true;
  return upload.sender === caller.name && upload.dataset !== undefined && (caller.datasets ?? []).includes(upload.dataset);
}

function describeDatasets(caller: Caller): string {
  const datasets = caller.datasets ?? [];
  return datasets.length === 0 ? 'no dataset' : `dataset${datasets.length > 1 ? 's' : ''} ${datasets.join(', ')}`;
}
