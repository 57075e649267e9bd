import { ForbiddenError } from '#shared/errors';
import { UploadNotFoundError } from '../errors.ts';
import { defineRoute, type Caller, type Route } from '../route.ts';
import { listUploadsQuerySchema, uploadIdParamsSchema, uploadPageSchema, uploadSchema, type ListUploadsQuery } from '../schemas.ts';
import type { ListUploadsInput, UploadRecord } from '../upload-reader.ts';

/** Reading uploads: everyone reads; an uploader reads only what it sent to its own datasets. */
export const uploadRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/uploads',
    operationId: 'listUploads',
    summary: 'Lists uploads, newest first, a page at a time.',
    description: 'An uploader sees only the uploads it sent to the datasets it is bound to; asking for another dataset or sender is a 403.',
    tags: ['uploads'],
    access: ['admin', 'scientist', 'uploader'],
    request: { query: listUploadsQuerySchema },
    response: { description: 'One page of uploads.', schema: uploadPageSchema },
    handle: async ({ query }, { caller, deps }) => {
      const page = await deps.store.listUploads(scopeToCaller(query, caller));
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
];

/** Narrows a listing to what the caller may see, or refuses a filter that reaches beyond it. */
function scopeToCaller(query: ListUploadsQuery, caller: Caller): ListUploadsInput {
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
