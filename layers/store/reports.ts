import { z } from 'zod';
import { CorruptItemError } from './errors.ts';
import { listings, reportKey, templateKey } from './keys.ts';
import { ConditionFailed, type Condition, type Item, type Table } from './table.ts';

/**
 * Report templates and reports (DESIGN.md "Storage": `TEMPLATE#<name>` / `TEMPLATE` and
 * `REPORT#<id>` / `REPORT`, reports listed on gsi1 `REPORTS` by creation time). The notebooks
 * themselves live in the data bucket: `templates/<name>/<sha256>.ipynb` (a template registered
 * again gets a new object, so reports already queued still render the revision they named) and
 * `reports/<id>/report.ipynb` + `report.html`.
 */

const isoTime = z.iso.datetime({ offset: true });
const ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'an id is a 26-character ULID');

export const templateParameterSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['int', 'float', 'str', 'bool', 'list', 'dict', 'any']),
  inferredTypeName: z.string(),
  default: z.string(),
  help: z.string(),
  nullable: z.boolean(),
});

export const templateRecordSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** sha256 of the notebook as registered. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `templates/<name>/<sha256>.ipynb` in the data bucket. */
  key: z.string().min(1),
  kernel: z.string().min(1),
  language: z.string().min(1),
  cells: z.number().int().nonnegative(),
  parameters: z.array(templateParameterSchema),
  /** Whether the notebook has a cell tagged `parameters` (without one, values are injected first). */
  hasParametersCell: z.boolean(),
  registeredBy: z.string().min(1),
  /** `api` (PUT /templates/{name}) or `config` (the config's `templates`, registered at start). */
  source: z.enum(['api', 'config']),
  createdAt: isoTime,
  updatedAt: isoTime,
  revision: z.number().int().positive(),
});
export type TemplateRecord = z.infer<typeof templateRecordSchema>;

export const reportStatuses = ['queued', 'rendering', 'succeeded', 'failed'] as const;
export type ReportStatus = (typeof reportStatuses)[number];

export const reportRecordSchema = z.object({
  reportId: ulid,
  template: z.string().min(1),
  /** The template revision rendered: its notebook object and hash. */
  templateKey: z.string().min(1),
  templateSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The parameters the request gave (built-ins are added when rendering). */
  parameters: z.record(z.string(), z.unknown()),
  dataset: z.object({ name: z.string().min(1), version: z.number().int().positive() }).optional(),
  evaluationId: ulid.optional(),
  hideCode: z.boolean(),
  status: z.enum(reportStatuses),
  requestedBy: z.string().min(1),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  /** Renders started (a redelivered message counts again). */
  attempts: z.number().int().nonnegative().default(0),
  /** Data bucket keys, once stored. */
  notebookKey: z.string().optional(),
  htmlKey: z.string().optional(),
  /** Why it failed: the error name and message, and the failing cell (1-based) when one failed. */
  error: z.object({ name: z.string(), message: z.string(), cell: z.number().int().positive().optional() }).optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type ReportRecord = z.infer<typeof reportRecordSchema>;

function parse<T>(schema: z.ZodType<T>, item: Item, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored ${what} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}

/** Records a template, replacing an earlier registration of the same name. */
export async function putTemplate(table: Table, record: TemplateRecord): Promise<TemplateRecord> {
  const template = templateRecordSchema.parse(record);
  await table.put({ ...template, ...templateKey(template.name), kind: 'template', gsi1pk: listings.templates, gsi1sk: template.name });
  return template;
}

export async function getTemplate(table: Table, name: string): Promise<TemplateRecord | undefined> {
  const item = await table.get(templateKey(name));
  return item === undefined ? undefined : parse(templateRecordSchema, item, `template ${name}`);
}

/** Every template, by name. */
export async function listTemplates(table: Table): Promise<TemplateRecord[]> {
  const all: TemplateRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await table.query({ index: 'gsi1', partition: listings.templates, limit: 1000, cursor });
    all.push(...page.items.map((item) => parse(templateRecordSchema, item, `template ${String(item.name)}`)));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

/** Records a report before it is queued; an id is minted once, so it is put only if absent. */
export async function createReport(table: Table, record: ReportRecord): Promise<ReportRecord> {
  const report = reportRecordSchema.parse(record);
  const written = await table.put(
    { ...report, ...reportKey(report.reportId), kind: 'report', gsi1pk: listings.reports, gsi1sk: `${report.createdAt}#${report.reportId}` },
    { ifNotExists: true },
  );
  if (written instanceof ConditionFailed) throw new CorruptItemError(`report ${report.reportId} is already recorded`, { reportId: report.reportId });
  return report;
}

export async function getReport(table: Table, reportId: string): Promise<ReportRecord | undefined> {
  const item = await table.get(reportKey(reportId));
  return item === undefined ? undefined : parse(reportRecordSchema, item, `report ${reportId}`);
}

/** Changes a report; `undefined` when `where` does not hold. */
export async function updateReport(
  table: Table,
  reportId: string,
  change: { set: Partial<Omit<ReportRecord, 'reportId'>>; add?: { attempts?: number }; remove?: readonly (keyof ReportRecord)[]; where?: Condition },
): Promise<ReportRecord | undefined> {
  const updated = await table.update(reportKey(reportId), {
    set: { ...change.set, updatedAt: change.set.updatedAt ?? new Date().toISOString() },
    add: change.add,
    remove: change.remove,
    where: change.where,
  });
  return updated instanceof ConditionFailed ? undefined : parse(reportRecordSchema, updated, `report ${reportId}`);
}

export interface ReportPage {
  readonly items: ReportRecord[];
  readonly cursor?: string;
}

/** One page of reports, newest first; `template` and `status` narrow it. */
export async function listReports(table: Table, query: { template?: string; status?: ReportStatus; limit?: number; cursor?: string } = {}): Promise<ReportPage> {
  const filter: Record<string, string> = { ...(query.template ? { template: query.template } : {}), ...(query.status ? { status: query.status } : {}) };
  const page = await table.query({ index: 'gsi1', partition: listings.reports, order: 'desc', filter, limit: query.limit, cursor: query.cursor });
  return { items: page.items.map((item) => parse(reportRecordSchema, item, `report ${String(item.reportId)}`)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}
