import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { columnTypes } from '#config/schema';
import { neverIngested } from '#ingest/landing-keys';
import { unsafeName } from '#shared/names';
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
export { uploadSources, uploadStatuses, type UploadSource, type UploadStatus } from '#store/uploads';

/** Largest page a listing hands out; a bigger `limit` is a 400, not silently clamped. */
export const MAX_PAGE_SIZE = 100;
/** Page size when a listing names none. */
export const DEFAULT_PAGE_SIZE = 25;

// Crockford base32, 26 characters: what `ulid` mints. Checked here so a typo is a 400, not a lookup.
// Both cases spelled out rather than an `i` flag, which a JSON Schema `pattern` cannot carry.
const ULID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/;

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

/** One problem found in a quarantined upload. */
export const reportExampleSchema = z
  .object({
    rule: z.string().openapi({ example: 'type.number', description: 'Stable rule id (see the validation README).' }),
    row: z.number().int().nonnegative().optional().openapi({ example: 2, description: '1-based data row; the CSV header is row 0; JSONL: the line number.' }),
    line: z.number().int().nonnegative().optional().openapi({ description: '1-based physical line where the row starts.' }),
    column: z.string().optional().openapi({ example: 'temperature' }),
    value: z.string().optional().openapi({ example: 'hot', description: 'The offending value, shortened.' }),
    message: z.string().openapi({
      example: 'Row 2, column "temperature": "hot" is not a number. Write a decimal number such as 21.5, or leave the cell empty if the value is unknown.',
      description: 'What is wrong, where, and what to do.',
    }),
  })
  .openapi('ReportExample');
export type ReportExample = z.infer<typeof reportExampleSchema>;

/** What a quarantined upload shows of its validation report; the full report is in the data bucket. */
export const uploadReportSchema = z
  .object({
    errorCount: z.number().int().nonnegative().openapi({ description: 'Every problem found, including those not listed as examples.' }),
    rows: z.number().int().nonnegative().openapi({ description: 'Data rows read.' }),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().optional(),
    specRevision: z.string().openapi({ description: 'Revision of the dataset spec the file was checked against.' }),
    countsByRule: z.record(z.string(), z.number().int().nonnegative()).openapi({ example: { 'type.number': 1, enum: 1 } }),
    countsByColumn: z.record(z.string(), z.number().int().nonnegative()).openapi({ example: { temperature: 1, status: 1 } }),
    otherColumns: z.number().int().nonnegative().optional().openapi({ description: 'Columns with problems left out of countsByColumn.' }),
    examples: z.array(reportExampleSchema).openapi({ description: 'The first problems (up to 20), in the order found.' }),
    jsonKey: z.string().openapi({ description: 'The full report (JSON) in the data bucket.' }),
    textKey: z.string().openapi({ description: 'The full report for people (text) in the data bucket.' }),
  })
  .openapi('UploadReport');
export type UploadReport = z.infer<typeof uploadReportSchema>;

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
    reason: z.string().optional().openapi({ description: 'Why the upload was quarantined, rejected or failed, in words meant for the sender.' }),
    receivedAt: z.string().openapi({ example: '2025-01-07T09:12:44.118Z' }),
    updatedAt: z.string(),
    outcomeKey: z.string().optional().openapi({ description: 'Where the original lives in the data bucket once the upload has an outcome.' }),
    version: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'For a published upload: the dataset version it became, or matched when the same bytes were a version already.' }),
    report: uploadReportSchema.optional().openapi({ description: 'For a quarantined upload: what validation found (counts, the first problems) and where the full report is.' }),
  })
  .openapi('Upload');
export type Upload = z.infer<typeof uploadSchema>;

/**
 * An upload in a listing: as `GET /uploads/{id}` shows it, without the report summary, which can
 * hold a few kilobytes per upload and is read one upload at a time.
 */
export const uploadListItemSchema = uploadSchema.omit({ report: true }).openapi('UploadListItem');
export type UploadListItem = z.infer<typeof uploadListItemSchema>;

/** `GET /uploads`: one page of uploads and the cursor of the next. */
export const uploadPageSchema = z
  .object({
    items: z.array(uploadListItemSchema),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('UploadPage');
export type UploadPage = z.infer<typeof uploadPageSchema>;

/** `GET /uploads` query: filters and paging. Unknown parameters are refused, so a typo is a 400. */
export const listUploadsQuerySchema = z.strictObject({
  dataset: datasetName.optional().openapi({ description: 'Only uploads to this dataset.' }),
  status: z.enum(uploadStatuses).optional().openapi({ description: 'Only uploads in this status.' }),
  sender: z.string().min(1).max(128).optional().openapi({ description: 'Only uploads sent by this SFTP user or API caller.' }),
  source: z.enum(uploadSources).optional().openapi({ description: 'Only uploads that came this way: `api` (presigned PUT through a slot) or `sftp`.' }),
  slot: z
    .string()
    .regex(ULID, 'expected a slot id (a 26-character ULID)')
    .optional()
    .openapi({ description: 'Only uploads made through this slot (`POST /datasets/{name}/uploads`), oldest first.' }),
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

/** A version number in a path: a whole number from 1, or `latest`. */
const versionSelector = z
  .string()
  .regex(/^(latest|[1-9][0-9]{0,8})$/, 'expected a version number (1, 2, …) or "latest"')
  .openapi({ param: { description: 'A version number, or `latest` for the newest published version.' }, example: 'latest' });

/** `GET /datasets/{name}` path parameters. */
export const datasetParamsSchema = z.strictObject({
  name: datasetName.openapi({ param: { description: 'The dataset name, as configured.' }, example: 'readings' }),
});

/** `GET /datasets/{name}/versions/{version}` path parameters. */
export const datasetVersionParamsSchema = z.strictObject({
  name: datasetName.openapi({ param: { description: 'The dataset name, as configured.' }, example: 'readings' }),
  version: versionSelector,
});

/** `GET /datasets/{name}/versions` query: paging as the uploads listing does it. */
export const listVersionsQuerySchema = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
});
export type ListVersionsQuery = z.infer<typeof listVersionsQuerySchema>;

/** One column of a dataset spec, as configured. */
export const columnSpecSchema = z
  .object({
    name: z.string(),
    type: z.enum(columnTypes),
    nullable: z.boolean(),
    min: z.number().optional(),
    max: z.number().optional(),
    enum: z.array(z.string()).optional(),
    pattern: z.string().optional().openapi({ description: 'A regular expression every value must match.' }),
    maxLength: z.number().int().optional(),
  })
  .openapi('ColumnSpec');

/** A dataset spec as configured (`datasets.<name>` of symbiont.config.json), defaults filled in. */
export const datasetSpecResponseSchema = z
  .object({
    description: z.string().optional(),
    format: z.enum(['csv', 'jsonl']),
    delimiter: z.string(),
    quote: z.string(),
    columns: z.array(columnSpecSchema),
    unique: z.array(z.string()).optional().openapi({ description: 'Columns whose values together identify a row.' }),
    minRows: z.number().int(),
    maxRows: z.number().int().optional(),
    unknownColumns: z.enum(['reject', 'ignore']),
    missingColumns: z.enum(['reject', 'null']),
    maxBytes: z.number().int(),
    maxGzipRatio: z.number(),
  })
  .openapi('DatasetSpec');

/** What validation measured of one column of a version. */
export const columnProfileSchema = z
  .object({
    nulls: z.number().int().nonnegative().openapi({ description: 'Empty or null values.' }),
    values: z.number().int().nonnegative().optional().openapi({ description: 'Valid non-null values.' }),
    min: z.union([z.number(), z.string()]).optional().openapi({ description: 'Smallest value: a number, or the text of a date or timestamp.' }),
    max: z.union([z.number(), z.string()]).optional(),
    distinctEstimate: z.number().int().nonnegative().openapi({ description: 'Distinct values, estimated (about 1.6 % error).' }),
  })
  .openapi('ColumnProfile');

/** One published, immutable version of a dataset. */
export const datasetVersionSchema = z
  .object({
    dataset: z.string().openapi({ example: 'readings' }),
    version: z.number().int().positive().openapi({ example: 42 }),
    sha256: z.string().openapi({ description: 'sha256 (hex) of the bytes; the same bytes are the same version.' }),
    bytes: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative(),
    specRevision: z.string().openapi({ description: 'Revision of the spec the file was validated against.' }),
    profile: z.record(z.string(), columnProfileSchema).openapi({ description: 'Per spec column.' }),
    uploadId: z.string().openapi({ description: 'The upload that became this version.' }),
    sender: z.string().optional(),
    file: z.string().openapi({ example: '2025-01-07.csv' }),
    key: z.string().openapi({ description: 'Where the file is in the data bucket.', example: 'datasets/readings/v42/2025-01-07.csv' }),
    createdAt: z.string().openapi({ description: 'When the version was published.', example: '2025-01-07T09:12:46.500Z' }),
  })
  .openapi('DatasetVersion');
export type DatasetVersion = z.infer<typeof datasetVersionSchema>;

/** `GET /datasets/{name}/versions`: one page of versions, newest first. */
export const datasetVersionPageSchema = z
  .object({
    items: z.array(datasetVersionSchema),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('DatasetVersionPage');
export type DatasetVersionPage = z.infer<typeof datasetVersionPageSchema>;

/** A dataset in the listing. */
export const datasetSummarySchema = z
  .object({
    name: z.string().openapi({ example: 'readings' }),
    description: z.string().optional(),
    format: z.enum(['csv', 'jsonl']),
    revision: z.string().openapi({ description: 'Revision of the current spec: sha256 of its canonical JSON.' }),
    latestVersion: z.number().int().positive().optional().openapi({ description: 'The newest published version; absent before the first.' }),
  })
  .openapi('DatasetSummary');
export type DatasetSummary = z.infer<typeof datasetSummarySchema>;

/** `GET /datasets`: one page of datasets, by name. */
export const datasetListSchema = z
  .object({
    items: z.array(datasetSummarySchema),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('DatasetList');

/** `GET /datasets` query: paging as every listing does it. */
export const listDatasetsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
});
export type DatasetList = z.infer<typeof datasetListSchema>;

/** `GET /datasets/{name}`: the spec, its revision and the newest version. */
export const datasetSchema = z
  .object({
    name: z.string().openapi({ example: 'readings' }),
    description: z.string().optional(),
    format: z.enum(['csv', 'jsonl']),
    revision: z.string().openapi({ description: 'Revision of the current spec: sha256 of its canonical JSON.' }),
    spec: datasetSpecResponseSchema,
    latest: datasetVersionSchema.optional().openapi({ description: 'The newest published version; absent before the first.' }),
  })
  .openapi('Dataset');
export type Dataset = z.infer<typeof datasetSchema>;

// ---------------------------------------------------------------------------------------------
// Continuous evaluation: commits, evaluation requests, evaluations, comparisons.

const plainName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'expected a name (lower-case letters, digits, "-" and "_")');
const fullSha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a full commit sha (40 lower-case hex digits)');
const shaOrPrefix = z.string().regex(/^[0-9a-fA-F]{7,64}$/, 'expected a commit sha (7 to 40 hex digits; a short one must name a reported commit)');
const isoInstant = z.iso.datetime({ offset: true });
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const commitSetShape = z.record(z.string(), z.string()).openapi({ description: 'One sha per repository.', example: { features: '3f2a…', model: '9c1e…' } });
const triggerShape = z
  .union([z.object({ repository: z.string(), sha: z.string() }), z.object({ dataset: z.string(), version: z.number().int() })])
  .openapi('EvaluationTrigger', { description: 'What made the request: the commit pushed (reason `commit`) or the dataset version published (reason `data`).' });

/** `POST /commits` body. */
export const reportCommitBodySchema = z
  .strictObject({
    repository: plainName.openapi({ example: 'model' }),
    sha: fullSha.openapi({ example: '9c1e5b0e4f2d8a7b6c5d4e3f2a1b0c9d8e7f6a5b' }),
    branch: z.string().min(1).max(255).optional().openapi({ description: 'The branch pushed to; the repository’s default branch when absent, which moves its head.' }),
    image: z.string().min(1).max(512).optional().openapi({ description: 'The stage image CI built from this commit.' }),
    pushedAt: isoInstant.optional().openapi({ description: 'When it was pushed; now when absent. A push older than the head’s does not move it.' }),
  })
  .openapi('ReportCommit');
export type ReportCommitBody = z.infer<typeof reportCommitBodySchema>;

export const commitSchema = z
  .object({
    repository: z.string(),
    sha: z.string(),
    branch: z.string(),
    pushedAt: z.string(),
    source: z.enum(['github', 'api']),
    deliveryId: z.string().optional().openapi({ description: 'The GitHub webhook delivery that announced it.' }),
    image: z.string().optional(),
    reportedBy: z.string().optional(),
    recordedAt: z.string(),
  })
  .openapi('Commit');

export const repositoryHeadSchema = z
  .object({
    repository: z.string(),
    sha: z.string(),
    branch: z.string(),
    seq: z.number().int().openapi({ description: 'One more each time the head moves.' }),
    pushedAt: z.string(),
    movedAt: z.string(),
  })
  .openapi('RepositoryHead');

/** `POST /commits` answer. */
export const reportedCommitSchema = z
  .object({
    commit: commitSchema,
    created: z.boolean().openapi({ description: 'false when the commit was reported before.' }),
    headMoved: z.boolean(),
    head: repositoryHeadSchema.optional().openapi({ description: 'The default-branch head after the report (for a commit on the default branch).' }),
    queued: z.boolean().openapi({ description: 'The commit event is on the commit queue: every pipeline using the repository gets an evaluation request (reason `commit`).' }),
  })
  .openapi('ReportedCommit');

/** `GET /repositories`: each configured repository and its default-branch head. */
export const repositoryListSchema = z
  .object({ items: z.array(z.object({ repository: z.string(), defaultBranch: z.string(), head: repositoryHeadSchema.optional() })) })
  .openapi('RepositoryList');

/** `POST /evaluations` body. */
export const requestEvaluationBodySchema = z
  .strictObject({
    pipeline: plainName.openapi({ example: 'forecast' }),
    commitSets: z
      .array(z.record(plainName, shaOrPrefix))
      .max(100)
      .optional()
      .openapi({ description: 'Commit sets to evaluate; a repository left out is taken at its default-branch head. Default: the heads.' }),
    commits: z
      .strictObject({
        repository: plainName,
        from: shaOrPrefix.optional().openapi({ description: 'The oldest default-branch commit of the range (it must have been the head once).' }),
        to: shaOrPrefix.optional().openapi({ description: 'The newest; the head when absent.' }),
        last: z.number().int().min(1).max(1000).optional().openapi({ description: 'The last n default-branch commits instead of from/to.' }),
      })
      .optional()
      .openapi({
        description: 'A backfill over a range of one repository’s default-branch commits, in the order its head moved; each is a commit set with the other repositories at their heads.',
        example: { repository: 'model', last: 20 },
      }),
    datasetVersions: z
      .array(
        z.union([
          z.strictObject({ dataset: z.string().min(1), version: z.number().int().positive().optional() }),
          z.strictObject({ dataset: z.string().min(1), from: z.number().int().positive(), to: z.number().int().positive().optional() }),
        ]),
      )
      .max(100)
      .optional()
      .openapi({ description: 'Dataset versions; without a version, the latest; `from`..`to` every version between (to: the latest). Default: the latest version of each of the pipeline’s datasets.' }),
    parameters: z
      .record(
        z.string(),
        z.union([
          z.array(scalar).min(1).max(1000),
          z.strictObject({ from: z.number(), to: z.number(), step: z.number().positive().optional() }).openapi({ description: 'from, from + step, … up to to (step 1 when absent).' }),
        ]),
      )
      .optional()
      .openapi({ description: 'Values that replace the pipeline’s grid for these parameters: a list or a range. Several points make a sweep.', example: { window: [3, 7], alpha: { from: 0.1, to: 0.5, step: 0.1 } } }),
    repeats: z.number().int().min(1).max(20).optional().openapi({ description: 'Runs of each point; scores carry their mean and spread, and the verdict allows for the noise.' }),
    reason: z.enum(['manual', 'commit', 'data', 'backfill', 'sweep']).optional(),
    rerun: z.boolean().optional().openapi({ description: 'Run again what was asked before (admins). Without it, asking again answers the earlier request.' }),
  })
  .openapi('RequestEvaluation');
export type RequestEvaluationBody = z.infer<typeof requestEvaluationBodySchema>;

const requestStatusValues = ['queued', 'running', 'finished', 'failed', 'cancelled'] as const;

/** An evaluation request and its progress. */
export const evaluationRequestSchema = z
  .object({
    requestId: z.string(),
    pipeline: z.string(),
    reason: z.string(),
    trigger: triggerShape.optional(),
    hash: z.string().openapi({ description: 'sha256 of what is evaluated; executions are named from it.' }),
    rerun: z.number().int(),
    commitSets: z.array(commitSetShape),
    datasetVersions: z.array(z.object({ dataset: z.string(), version: z.number().int() })),
    parameterPoints: z.array(z.record(z.string(), scalar)),
    repeats: z.number().int(),
    baselineCommitSet: commitSetShape.optional().openapi({ description: 'The default-branch heads when the request was made: what its points are compared with.' }),
    total: z.number().int().openapi({ description: 'Points evaluated, baselines the request evaluates itself included.' }),
    done: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    regressed: z.number().int(),
    executions: z.array(z.string()).openapi({ description: 'Step Functions execution names, one per part; parts run one after the other.' }),
    partsFinished: z.number().int(),
    status: z.enum(requestStatusValues),
    report: z.object({ status: z.literal('wanted'), template: z.string().optional(), evaluationIds: z.array(z.string()), at: z.string() }).optional(),
    error: z.string().optional(),
    cancelledBy: z.string().optional(),
    cancelledAt: z.string().optional(),
    rerunOf: z.string().optional().openapi({ description: 'For a rerun of one evaluation: the evaluation run again (it stays).' }),
    summary: z
      .record(
        z.string(),
        z.object({
          goal: z.enum(['max', 'min']),
          best: z.array(
            z.object({
              evaluationId: z.string(),
              commitSet: commitSetShape,
              dataset: z.string(),
              version: z.number().int(),
              parameters: z.record(z.string(), scalar),
              mean: z.number(),
              spread: z.number().optional(),
              n: z.number().int(),
            }),
          ),
        }),
      )
      .optional()
      .openapi({ description: 'Per metric, the best succeeded points so far (by the metric’s goal), with their parameters and scores.' }),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
  })
  .openapi('EvaluationRequest');
export type EvaluationRequest = z.infer<typeof evaluationRequestSchema>;

/** `POST /evaluations` answer. */
export const requestedEvaluationSchema = z
  .object({
    request: evaluationRequestSchema,
    created: z.boolean().openapi({ description: 'false: the same evaluation was asked for before, and this is that request.' }),
  })
  .openapi('RequestedEvaluation');

/** `GET /pipelines/{name}/trend` path. */
export const trendParamsSchema = z.strictObject({ name: plainName.openapi({ param: { description: 'The pipeline.' }, example: 'forecast' }) });

/** `GET /pipelines/{name}/trend` query. */
export const trendQuerySchema = z.strictObject({
  metric: z.string().min(1).max(128).optional().openapi({ description: 'A metric of the pipeline; its first metric when absent.', example: 'mae' }),
  dataset: datasetName.optional().openapi({ description: 'A dataset of the pipeline; its first dataset when absent.', example: 'readings' }),
  repository: plainName.optional().openapi({ description: 'Whose default branch; the repository of the pipeline’s last stage when absent.' }),
  version: z.coerce.number().int().positive().optional().openapi({ description: 'The dataset version the commit view is on; the latest when absent.' }),
  limit: z.coerce.number().int().min(1).max(200).optional().openapi({ description: 'Heads, newest first (default 50).' }),
});

const trendPointShape = {
  evaluationId: z.string(),
  value: z.number(),
  spread: z.number().optional(),
  n: z.number().int(),
  base: z.number().optional().openapi({ description: 'The baseline’s value it was compared with.' }),
  band: z.object({ low: z.number(), high: z.number() }).optional().openapi({ description: 'The tolerance band around the baseline.' }),
  verdict: z.string().optional(),
  regressed: z.boolean(),
};

/** `GET /pipelines/{name}/trend` answer. */
export const trendSchema = z
  .object({
    pipeline: z.string(),
    metric: z.string(),
    goal: z.enum(['max', 'min']),
    tolerance: z.object({ absolute: z.number(), relative: z.number() }),
    dataset: z.string(),
    repository: z.string(),
    metrics: z.array(z.object({ name: z.string(), goal: z.enum(['max', 'min']) })).openapi({ description: 'The pipeline’s metrics: what else the trend can show.' }),
    datasets: z.array(z.string()).openapi({ description: 'The pipeline’s datasets.' }),
    repositories: z.array(z.string()).openapi({ description: 'The pipeline’s repositories (whose default branch the commit view follows).' }),
    commits: z.object({
      version: z.number().int(),
      series: z.array(z.object({ parameters: z.record(z.string(), scalar), points: z.array(z.object({ ...trendPointShape, sha: z.string(), seq: z.number().int(), pushedAt: z.string() })) })),
    }),
    versions: z.object({
      sha: z.string().optional(),
      series: z.array(z.object({ parameters: z.record(z.string(), scalar), points: z.array(z.object({ ...trendPointShape, version: z.number().int() })) })),
    }),
  })
  .openapi('Trend');
export type Trend = z.infer<typeof trendSchema>;

/** `POST /evaluations/reruns` body. */
export const rerunBodySchema = z
  .strictObject({ evaluationId: z.string().regex(ULID, 'expected an evaluation id (a 26-character ULID)').openapi({ description: 'The evaluation to run again.' }) })
  .openapi('RerunEvaluation');

/** `POST /evaluations/requests/{id}/cancel` answer. */
export const cancelledRequestSchema = z
  .object({
    request: evaluationRequestSchema,
    cancelled: z.boolean().openapi({ description: 'false: the request had ended already and is shown as it ended.' }),
  })
  .openapi('CancelledRequest');

const verdictValues = ['improved', 'unchanged', 'regressed', 'no-baseline'] as const;

export const metricComparisonSchema = z
  .object({
    goal: z.enum(['max', 'min']),
    head: z.number().optional(),
    base: z.number().optional(),
    delta: z.number().optional().openapi({ description: 'head − base.' }),
    relativeDelta: z.number().optional().openapi({ description: 'delta / |base|.' }),
    allowed: z.number().optional().openapi({ description: 'The change the tolerance allows: absolute + relative × |base|.' }),
    noise: z.number().optional().openapi({ description: 'k × the combined standard error of both means (k = 2): a change within it is not a regression.' }),
    verdict: z.enum(verdictValues),
  })
  .openapi('MetricComparison');

/** One evaluation: a pipeline at one commit set on one dataset version with one parameter point. */
export const evaluationSchema = z
  .object({
    evaluationId: z.string(),
    requestId: z.string(),
    pipeline: z.string(),
    part: z.number().int(),
    phase: z.enum(['baseline', 'candidate']),
    commitSet: commitSetShape,
    commitSetId: z.string(),
    isBaselineCommitSet: z.boolean(),
    reason: z.string().optional().openapi({ description: 'Why its request was made (commit, data, manual, …).' }),
    trigger: triggerShape.optional(),
    dataset: z.string(),
    version: z.number().int(),
    parameters: z.record(z.string(), scalar),
    pointHash: z.string(),
    repeats: z.number().int(),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    baselineEvaluationId: z.string().optional(),
    scores: z
      .record(z.string(), z.object({ mean: z.number(), spread: z.number().optional(), n: z.number().int().optional(), values: z.array(z.number()) }))
      .optional()
      .openapi({ description: 'Per metric: the mean of the repeats, their sample standard deviation (spread) and their number (n).' }),
    comparison: z.record(z.string(), metricComparisonSchema).optional(),
    verdict: z.enum(verdictValues).optional(),
    regressed: z.boolean().optional(),
    comparisonError: z.string().optional(),
    failure: z
      .object({
        error: z.string(),
        reason: z.string(),
        stage: z.string().optional(),
        repeat: z.number().int().optional(),
        exitCode: z.number().int().nullable().optional(),
        stderrTail: z.string().optional(),
      })
      .optional(),
    stages: z
      .array(
        z.object({
          repeat: z.number().int(),
          stage: z.number().int(),
          name: z.string(),
          durationMs: z.number(),
          exitCode: z.number().int().nullable(),
          logs: z
            .object({ stdout: z.string(), stderr: z.string(), expiresAt: z.string() })
            .optional()
            .openapi({ description: 'Presigned GET URLs of what the stage run printed, shown as text (GET /evaluations/{id} only).' }),
        }),
      )
      .optional(),
    artifactsPrefix: z.string().openapi({ description: 'Where outputs, logs and stage results are in the data bucket.' }),
    report: z
      .object({
        status: z.enum(['wanted', 'queued', 'rendering', 'succeeded', 'failed']).openapi({ description: "The report's own status when it was made; `failed` with `reason` when it could not be made." }),
        reportId: z.string().optional().openapi({ description: 'GET /reports/{id} shows it.' }),
        template: z.string().optional(),
        reason: z.string().optional().openapi({ description: 'Why the diagnostic failed: it could not be made, or its notebook failed.' }),
        at: z.string().optional(),
        html: z.string().optional().openapi({ description: 'A presigned GET URL of the rendered report (GET /evaluations/{id} only, once rendered).' }),
        expiresAt: z.string().optional(),
      })
      .optional()
      .openapi({ description: "A regression's diagnostic report: the pipeline's onRegression template rendered with this evaluation, its baseline and the comparison." }),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    durationMs: z.number().optional(),
  })
  .openapi('Evaluation');
export type Evaluation = z.infer<typeof evaluationSchema>;

/** Files listed per stage run by `GET /evaluations/artifacts/{id}`; `truncated` says there are more. */
export const MAX_STAGE_ARTIFACTS = 100;

/** `GET /evaluations/artifacts/{id}`: per stage run, the files it wrote to its output folder. */
export const evaluationArtifactsSchema = z
  .object({
    evaluationId: z.string(),
    expiresAt: z.string().optional().openapi({ description: 'When the URLs stop working (15 minutes); absent when no file is listed.' }),
    stages: z.array(
      z.object({
        repeat: z.number().int(),
        stage: z.number().int(),
        name: z.string(),
        prefix: z.string().openapi({ description: "The stage run's output folder in the data bucket." }),
        files: z.array(
          z.object({
            name: z.string().openapi({ description: 'Path in the output folder.' }),
            size: z.number().int().openapi({ description: 'Bytes.' }),
            url: z.string().openapi({ description: 'A presigned GET URL that saves the file under its name.' }),
          }),
        ),
        truncated: z.boolean().openapi({ description: `More files are there than the first ${MAX_STAGE_ARTIFACTS} listed.` }),
      }),
    ),
  })
  .openapi('EvaluationArtifacts');
export type EvaluationArtifacts = z.infer<typeof evaluationArtifactsSchema>;

export const evaluationPageSchema = z
  .object({
    items: z.array(evaluationSchema),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('EvaluationPage');

/** `GET /evaluations` query. */
export const listEvaluationsQuerySchema = z
  .strictObject({
    pipeline: plainName.optional().openapi({ description: 'Only evaluations of this pipeline.' }),
    dataset: datasetName.optional().openapi({ description: 'Only evaluations on this dataset.' }),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional(),
    repository: plainName.optional().openapi({ description: 'With `commit`: evaluations whose commit set holds this commit.' }),
    commit: fullSha.optional().openapi({ description: 'A full sha of `repository`.' }),
    request: z.string().regex(ULID, 'expected a request id (a 26-character ULID)').optional().openapi({ description: 'Only the evaluations of this request.' }),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
    cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
  })
  .refine((q) => (q.repository === undefined) === (q.commit === undefined), { message: 'give repository and commit together', path: ['commit'] });
export type ListEvaluationsQuery = z.infer<typeof listEvaluationsQuerySchema>;

const evaluationIdParam = z
  .string()
  .regex(ULID, 'expected an evaluation id (a 26-character ULID)')
  .openapi({ param: { description: 'The evaluation id (a ULID).' }, example: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' });

export const evaluationIdParamsSchema = z.strictObject({ id: evaluationIdParam });

export const requestIdParamsSchema = z.strictObject({
  id: z
    .string()
    .regex(ULID, 'expected a request id (a 26-character ULID)')
    .openapi({ param: { description: 'The evaluation request id (a ULID).' }, example: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' }),
});

/** `GET /compare` query. */
export const compareQuerySchema = z.strictObject({
  head: z.string().regex(ULID, 'expected an evaluation id (a 26-character ULID)').openapi({ description: 'The evaluation to judge.' }),
  base: z
    .string()
    .regex(ULID, 'expected an evaluation id (a 26-character ULID)')
    .optional()
    .openapi({ description: 'The evaluation to compare with; the head’s own baseline when absent.' }),
});

/** `GET /compare` answer: per metric, both values, the delta and the verdict. */
export const comparisonSchema = z
  .object({
    pipeline: z.string(),
    head: evaluationSchema,
    base: evaluationSchema.optional(),
    metrics: z.record(z.string(), metricComparisonSchema),
    verdict: z.enum(verdictValues),
    regressed: z.boolean(),
  })
  .openapi('Comparison');
export type Comparison = z.infer<typeof comparisonSchema>;

// ---------------------------------------------------------------------------------------------
// SFTP users (admin only): users of the config are listed; users added at run time are managed.

const sftpUserName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{2,63}$/, 'expected an SFTP user name (3 to 64 lower-case letters, digits, "-" and "_", starting with a letter)');
const sshPublicKeyLine = z
  .string()
  .min(1)
  .max(16_384)
  .openapi({ description: 'One OpenSSH public key line (ssh-ed25519, ssh-rsa of 2048 bits or more, ecdsa-sha2-nistp256/384/521).', example: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… alice@lab' });
const keyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected a key fingerprint as ssh-keygen -l prints it (SHA256:…)')
  .openapi({ example: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' });

/** One public key of an SFTP user: its fingerprint, never the key. */
export const sftpUserKeySchema = z
  .object({
    fingerprint: z.string(),
    type: z.string().openapi({ example: 'ssh-ed25519' }),
    comment: z.string().optional(),
    addedAt: z.string().optional(),
  })
  .openapi('SftpUserKey');

/** An SFTP user. */
export const sftpUserSchema = z
  .object({
    name: z.string().openapi({ example: 'alice' }),
    source: z.enum(['config', 'runtime']).openapi({ description: '`config`: deployed with the stack (changed by a deploy); `runtime`: added through the API.' }),
    datasets: z.array(z.string()).openapi({ description: 'The dataset folders the user sees and may upload to.' }),
    keys: z.array(sftpUserKeySchema),
    keyFiles: z.array(z.string()).optional().openapi({ description: 'Key files of a config user (read at deploy or local start).' }),
    createdAt: z.string().optional(),
    createdBy: z.string().optional(),
  })
  .openapi('SftpUser');
export type SftpUser = z.infer<typeof sftpUserSchema>;

/** `GET /sftp-users` answer. */
export const sftpUserListSchema = z.object({ items: z.array(sftpUserSchema) }).openapi('SftpUserList');

/** `POST /sftp-users` body. */
export const addSftpUserBodySchema = z
  .strictObject({
    name: sftpUserName.openapi({ example: 'erin' }),
    datasets: z.array(z.string().min(1).max(64)).min(1).max(100).openapi({ example: ['readings'] }),
    publicKeys: z.array(sshPublicKeyLine).min(1).max(50),
  })
  .openapi('AddSftpUser');

/** `POST /sftp-users/{name}/keys` body. */
export const addSftpKeyBodySchema = z.strictObject({ publicKey: sshPublicKeyLine }).openapi('AddSftpKey');

/** `/sftp-users/{name}` path parameters. */
export const sftpUserParamsSchema = z.strictObject({
  name: sftpUserName.openapi({ param: { description: 'The SFTP user name.' }, example: 'erin' }),
});

/** `DELETE /sftp-users/{name}/keys` query: which key. */
export const sftpKeyQuerySchema = z.strictObject({ fingerprint: keyFingerprint.openapi({ description: 'The fingerprint of the key to remove.' }) });

/** `DELETE /sftp-users/{name}` answer. */
export const removedSftpUserSchema = z.object({ name: z.string(), removed: z.literal(true) }).openapi('RemovedSftpUser');

// ---------------------------------------------------------------------------------------------
// Commit intake: the GitHub webhook and the commits of a repository.

/** `POST /webhooks/github` answer: what became of the delivery. */
export const webhookAnswerSchema = z
  .object({
    outcome: z.enum(['pong', 'queued', 'ignored']).openapi({ description: '`pong` for a ping; `queued`: the push is on the commit queue; `ignored`: nothing was started (see reason).' }),
    reason: z.string().optional().openapi({ description: 'Why the delivery was ignored.' }),
    deliveryId: z.string().optional(),
    commit: z.object({ repository: z.string(), sha: z.string(), branch: z.string() }).optional(),
  })
  .openapi('WebhookAnswer');

/** `GET /commits` query. */
export const listCommitsQuerySchema = z.strictObject({
  repository: plainName.openapi({ description: 'The configured repository whose commits to list.' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
});

/** One evaluation of a commit, as `GET /commits` shows it. */
export const commitEvaluationSchema = z
  .object({
    evaluationId: z.string(),
    requestId: z.string(),
    pipeline: z.string(),
    dataset: z.string(),
    version: z.number().int(),
    parameters: z.record(z.string(), scalar),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    verdict: z.enum(verdictValues).optional(),
    regressed: z.boolean().optional(),
    reason: z.string().optional(),
    createdAt: z.string(),
  })
  .openapi('CommitEvaluation');

export const commitPageSchema = z
  .object({
    items: z.array(
      commitSchema.extend({
        evaluations: z.array(commitEvaluationSchema).openapi({ description: 'The newest evaluations whose commit set holds this commit, newest first.' }),
      }),
    ),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }),
  })
  .openapi('CommitPage');

// ---------------------------------------------------------------------------------------------
// Data API: presigned downloads of versions and upload slots.

/** Default validity of a presigned URL: 15 minutes. */
export const DEFAULT_URL_SECONDS = 900;
/** Longest validity a caller may ask for: one hour. */
export const MAX_URL_SECONDS = 3600;

/** `GET /datasets/{name}/versions/{version}/download` query. */
export const downloadQuerySchema = z.strictObject({
  expiresIn: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_URL_SECONDS, `expected at most ${MAX_URL_SECONDS} seconds (one hour)`)
    .default(DEFAULT_URL_SECONDS)
    .openapi({ description: `Seconds the URL stays valid, 1 to ${MAX_URL_SECONDS}; ${DEFAULT_URL_SECONDS} when absent.` }),
});

/** `GET /datasets/{name}/versions/{version}/download` answer. */
export const versionDownloadSchema = z
  .object({
    dataset: z.string().openapi({ example: 'readings' }),
    version: z.number().int().positive().openapi({ example: 3 }),
    file: z.string().openapi({ example: '2025-01-07.csv' }),
    fileName: z.string().openapi({ description: 'The name the URL saves under (its Content-Disposition).', example: 'readings-v3-2025-01-07.csv' }),
    url: z.string().openapi({ description: 'A presigned GET URL of the version’s object; no credentials needed until it expires.' }),
    expiresAt: z.string().openapi({ example: '2025-01-07T09:27:46.500Z' }),
    sha256: z.string().openapi({ description: 'sha256 (hex) of the bytes: check the download against it.' }),
    bytes: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative(),
  })
  .openapi('VersionDownload');
export type VersionDownload = z.infer<typeof versionDownloadSchema>;

/** A file name an upload slot accepts: what ingest takes, a name and not a path. */
export const uploadFileName = z
  .string()
  .min(1)
  .max(255)
  .superRefine((name, context) => {
    if (/[/\\]/.test(name)) context.addIssue({ code: 'custom', message: 'expected a file name, not a path (no "/" or "\\")' });
    else if (unsafeName(name) !== undefined) context.addIssue({ code: 'custom', message: `not a safe file name: it contains ${unsafeName(name)}` });
    else {
      const why = neverIngested(name);
      if (why !== undefined) context.addIssue({ code: 'custom', message: `${why}: choose another name` });
    }
  })
  .openapi({ example: '2025-01-07.csv', description: 'The file name: no path, not hidden, not ending in .tmp, .filepart or .result.txt.' });

/** `POST /datasets/{name}/uploads` body. */
export const openUploadSlotBodySchema = z.strictObject({ file: uploadFileName }).openapi('OpenUploadSlot');
export type OpenUploadSlotBody = z.infer<typeof openUploadSlotBodySchema>;

/** `POST /datasets/{name}/uploads` answer: where to PUT the file, and the slot to follow it by. */
export const uploadSlotSchema = z
  .object({
    slotId: z.string().openapi({ example: '01JD8X5Q3ZC9W8M2V7K4T6R1YB', description: 'Follow the upload with `GET /uploads?slot=<slotId>`.' }),
    dataset: z.string(),
    file: z.string(),
    key: z.string().openapi({ description: 'The landing key the PUT writes.', example: 'api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1YB/2025-01-07.csv' }),
    url: z.string().openapi({ description: 'A presigned PUT URL; send the file as the body.' }),
    method: z.literal('PUT'),
    headers: z.record(z.string(), z.string()).openapi({ description: 'Headers to send with the PUT.' }),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi('UploadSlot');
export type UploadSlotAnswer = z.infer<typeof uploadSlotSchema>;

// --- Dead-letter queues (admins: `symbiont dlq list|show|redrive`) ---------------------------

export const deadLetterQueueParamsSchema = z.strictObject({
  queue: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a queue name (ingest, evaluation, commit, report)').openapi({ example: 'ingest' }),
});

export const deadLetterSummaryListSchema = z
  .object({
    items: z.array(
      z.object({
        queue: z.string().openapi({ example: 'ingest' }),
        messages: z.number().int().nonnegative().openapi({ description: 'Messages waiting in the DLQ (approximate, as SQS counts).' }),
        inFlight: z.number().int().nonnegative().openapi({ description: 'Messages being shown or redriven right now.' }),
      }),
    ),
  })
  .openapi('DeadLetterQueueList');

export const deadLetterShowQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).default(10).openapi({ description: 'Messages to show, 1 to 50.' }),
});

export const deadLetterMessageListSchema = z
  .object({
    queue: z.string(),
    items: z.array(
      z.object({
        messageId: z.string(),
        sentAt: z.string().optional().openapi({ description: 'When it was first sent to its queue.' }),
        receiveCount: z.number().int().optional(),
        about: z.string().openapi({ description: 'What it is about: the object, request, report or commit.', example: 's3://symbiont-dev-landing/api/readings/01J…/readings.csv' }),
        body: z.unknown().openapi({ description: 'The message body: JSON when it parses, else text (cut at 4,096 characters).' }),
        bodyTruncated: z.boolean(),
      }),
    ),
  })
  .openapi('DeadLetterMessageList');

export const redriveBodySchema = z.strictObject({
  max: z.number().int().min(1).max(100_000).optional().openapi({ description: 'Messages to move at most. Default: every message.' }),
});

export const redriveResultSchema = z
  .object({
    queue: z.string(),
    moved: z.number().int().openapi({ description: 'Sent back to the queue and deleted from the DLQ.' }),
    failed: z.number().int().openapi({ description: 'Not sent: still in the DLQ.' }),
    notDeleted: z.number().int().openapi({ description: 'Sent, but not deleted from the DLQ: in both until the next redrive (consumers drop the duplicate).' }),
    failures: z.array(z.object({ messageId: z.string(), reason: z.string() })),
  })
  .openapi('RedriveResult');
