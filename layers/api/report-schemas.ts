import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './schemas.ts';

/**
 * The request and response shapes of templates and reports. They sit beside `schemas.ts` (which
 * they build on) rather than in it only because several issues extend that module at once; the
 * router and the OpenAPI document treat them the same way.
 */

extendZodWithOpenApi(z);

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;
const templateName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a template name (1 to 64 letters, digits, ".", "_" or "-")')
  .openapi({ example: 'explore' });

export const templateParamsSchema = z.strictObject({ name: templateName });

/** `PUT /templates/{name}` body: the notebook itself (nbformat 4), checked against the nbformat schema. */
export const templateBodySchema = z
  .looseObject({ nbformat: z.number(), nbformat_minor: z.number(), metadata: z.record(z.string(), z.unknown()), cells: z.array(z.unknown()) })
  .openapi('Notebook', { description: 'A Jupyter notebook (nbformat 4) with one code cell tagged `parameters`.' });

export const templateQuerySchema = z.strictObject({
  description: z.string().max(500).optional().openapi({ description: 'A line saying what the template shows.' }),
});

export const templateParameterSchema = z
  .object({
    name: z.string(),
    type: z.enum(['int', 'float', 'str', 'bool', 'list', 'dict', 'any']).openapi({ description: 'The type values are checked against (from the annotation, else the default).' }),
    inferredTypeName: z.string().openapi({ description: 'The annotation or type comment as written, else `None` (papermill’s `inferred_type_name`).' }),
    default: z.string().openapi({ description: 'The default, as source text.' }),
    help: z.string().openapi({ description: 'The trailing comment.' }),
    nullable: z.boolean(),
  })
  .openapi('TemplateParameter');

export const templateSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    sha256: z.string(),
    key: z.string().openapi({ description: 'Where the notebook is in the data bucket.' }),
    kernel: z.string(),
    language: z.string(),
    cells: z.number().int(),
    parameters: z.array(templateParameterSchema),
    hasParametersCell: z.boolean(),
    registeredBy: z.string(),
    source: z.enum(['api', 'config']),
    createdAt: z.string(),
    updatedAt: z.string(),
    revision: z.number().int(),
    builtIns: z.array(z.string()).optional().openapi({ description: 'Parameters Symbiont sets from the request’s dataset version or evaluation.' }),
  })
  .openapi('Template');
export type Template = z.infer<typeof templateSchema>;

export const registeredTemplateSchema = z
  .object({ template: templateSchema, created: z.boolean(), changed: z.boolean().openapi({ description: 'False when the same notebook was registered already.' }) })
  .openapi('RegisteredTemplate');

export const templateListSchema = z.object({ items: z.array(templateSchema) }).openapi('TemplateList');

const datasetVersionSelector = z.strictObject({
  name: z.string().min(1).max(64),
  version: z.union([z.number().int().positive(), z.literal('latest')]).default('latest'),
});

/** `POST /reports` body. */
export const createReportBodySchema = z
  .strictObject({
    template: templateName,
    parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a parameter name'), z.unknown()).optional().openapi({
      description: 'Values for the parameters the template declares; unknown names and wrong types are refused.',
      example: { threshold: 3.5 },
    }),
    dataset: datasetVersionSelector.optional().openapi({ description: 'The dataset version the report is about (its URL, metadata and profile become built-in parameters).' }),
    datasets: z.array(datasetVersionSelector).min(1).max(50).optional().openapi({ description: 'Several dataset versions: one report each.' }),
    evaluation: z.string().regex(ULID, 'expected an evaluation id (a 26-character ULID)').optional().openapi({
      description: 'An evaluation whose scores, baseline scores and comparison become built-in parameters.',
    }),
    hideCode: z.boolean().optional().openapi({ description: 'Open the HTML with the code hidden (readers can still show it).' }),
  })
  .openapi('CreateReport');
export type CreateReportBody = z.infer<typeof createReportBodySchema>;

const reportStatuses = ['queued', 'rendering', 'succeeded', 'failed'] as const;

export const reportSchema = z
  .object({
    reportId: z.string(),
    template: z.string(),
    templateKey: z.string(),
    templateSha256: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    dataset: z.object({ name: z.string(), version: z.number().int() }).optional(),
    evaluationId: z.string().optional(),
    hideCode: z.boolean(),
    status: z.enum(reportStatuses),
    requestedBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    attempts: z.number().int(),
    notebookKey: z.string().optional(),
    htmlKey: z.string().optional(),
    error: z
      .object({ name: z.string(), message: z.string(), cell: z.number().int().optional().openapi({ description: 'The failing cell, counted from 1.' }) })
      .optional()
      .openapi({ description: 'Why the report failed.' }),
    durationMs: z.number().optional(),
    urls: z
      .object({ html: z.string().optional(), notebook: z.string().optional(), expiresAt: z.string() })
      .optional()
      .openapi({ description: 'Presigned GET URLs of the stored HTML and notebook, once rendered.' }),
  })
  .openapi('Report');
export type Report = z.infer<typeof reportSchema>;

export const createdReportsSchema = z.object({ reports: z.array(reportSchema) }).openapi('CreatedReports');

export const reportIdParamsSchema = z.strictObject({ id: z.string().regex(ULID, 'expected a report id (a 26-character ULID)') });

export const listReportsQuerySchema = z.strictObject({
  template: templateName.optional().openapi({ description: 'Only reports of this template.' }),
  status: z.enum(reportStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).openapi({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: 'The `cursor` of the previous page.' }),
});

export const reportPageSchema = z
  .object({ items: z.array(reportSchema), cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page; absent on the last page.' }) })
  .openapi('ReportPage');
