import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { uploadSources, uploadStatuses } from '#store/uploads';

/**
 * The one schema module of the HTTP API: every request and response shape lives here, the router
 * validates with these schemas and the OpenAPI document is generated from them, so the document
 * cannot describe an API other than the one that runs. The CLI imports the response schemas to
 * check what it receives. Later issues add their schemas here.
 */

// `.openapi()` (names, examples, descriptions) is a method zod-to-openapi adds to zod's prototype.
extendZodWithOpenApi(z);

/** App roles (DESIGN.md "Roles"): admin ⊇ scientist; an uploader is bound to datasets. */
export const appRoles = ['admin', 'scientist', 'uploader'] as const;
export type AppRole = (typeof appRoles)[number];

/** Upload life cycle (DESIGN.md "Vocabulary"), as the store defines it. */
export { uploadStatuses, type UploadStatus } from '#store/uploads';

/** Largest page a listing hands out; a bigger `limit` is a 400, not silently clamped. */
export const MAX_PAGE_SIZE = 100;
/** Page size when a listing names none. */
export const DEFAULT_PAGE_SIZE = 25;

// Crockford base32, 26 characters: what `ulid` mints. Checked here so a typo is a 400, not a lookup.
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

const datasetName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'expected a dataset name (letters, digits, "-", "_" and ".")');

/** The error envelope of every non-2xx answer, built in one place (`error-mapping.ts`). */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'bad_request', description: 'Stable, machine-readable code.' }),
      message: z.string().openapi({ example: 'invalid request: query.limit: expected a number ≤ 100' }),
      details: z
        .unknown()
        .optional()
        .openapi({ description: 'Where the problem is; for invalid requests a list of `{ field, message }`.' }),
    }),
  })
  .openapi('Error');
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** One entry of `details` when a request fails validation. */
export const fieldProblemSchema = z.object({ field: z.string(), message: z.string() }).openapi('FieldProblem');
export type FieldProblem = z.infer<typeof fieldProblemSchema>;

/** `GET /health`. */
export const healthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

/** The OpenAPI document itself, served at `/openapi.json`. */
export const openApiDocumentSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }) })
  .openapi('OpenApiDocument', { description: 'This document (OpenAPI 3.1).' });

/** `GET /docs`: the page's HTML. */
export const docsPageSchema = z.string().openapi({ description: 'An HTML page that renders /openapi.json.' });

/**
 * An upload as the API shows it: the stored record without table keys nor the local-only
 * arrival copy and delivery id, which mean nothing to a caller.
 */
export const uploadSchema = z
  .object({
    uploadId: z.string().openapi({ example: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' }),
    dataset: z.string().optional().openapi({ example: 'readings', description: 'Absent when the key names no dataset.' }),
    bucket: z.string(),
    key: z.string().openapi({ example: 'sftp/alice/readings/2025-01-07.csv' }),
    file: z.string().optional().openapi({ example: '2025-01-07.csv' }),
    versionId: z.string().optional(),
    etag: z.string().optional(),
    size: z.number().int().nonnegative().optional(),
    source: z.enum(uploadSources),
    sender: z.string().optional().openapi({ description: 'SFTP user or API caller that sent the file.' }),
    slotId: z.string().optional(),
    status: z.enum(uploadStatuses),
    reason: z.string().optional().openapi({ description: 'Why the upload was rejected or failed.' }),
    receivedAt: z.string().openapi({ example: '2025-01-07T09:12:44.118Z' }),
    updatedAt: z.string(),
    outcomeKey: z.string().optional().openapi({ description: 'Where the original lives in the data bucket once the upload has an outcome.' }),
  })
  .openapi('Upload');
export type Upload = z.infer<typeof uploadSchema>;

/** `GET /uploads`: one page of uploads and the cursor of the next. */
export const uploadPageSchema = z
  .object({
    items: z.array(uploadSchema),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('UploadPage');
export type UploadPage = z.infer<typeof uploadPageSchema>;

/** `GET /uploads` query: filters and paging. Unknown parameters are refused, so a typo is a 400. */
export const listUploadsQuerySchema = z.strictObject({
  dataset: datasetName.optional().openapi({ description: 'Only uploads to this dataset.' }),
  status: z.enum(uploadStatuses).optional().openapi({ description: 'Only uploads in this status.' }),
  sender: z.string().min(1).max(128).optional().openapi({ description: 'Only uploads sent by this SFTP user or API caller.' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
});
export type ListUploadsQuery = z.infer<typeof listUploadsQuerySchema>;

/** `GET /uploads/{id}` path parameters. */
export const uploadIdParamsSchema = z.strictObject({
  id: z
    .string()
    .regex(ULID, 'expected an upload id (a 26-character ULID)')
    .openapi({ param: { description: 'The upload id (a ULID).' }, example: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' }),
});
