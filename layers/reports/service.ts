import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { SymbiontConfig } from '#config/schema';
import { createDocumentClient, createS3Client, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { env as envNames } from '#shared/resources';
import { getEvaluation } from '#store/evaluations';
import {
  createReport,
  getReport,
  getTemplate,
  listReports,
  listTemplates,
  putTemplate,
  type ReportPage,
  type ReportRecord,
  type ReportStatus,
  type TemplateRecord,
} from '#store/reports';
import { Table } from '#store/table';
import { getLatestVersion, getVersion } from '#store/versions';
import { BUILT_IN_PARAMETERS } from './built-ins.ts';
import { InvalidReportRequestError, ReportNotFoundError, TemplateNotFoundError } from './errors.ts';
import { sqsReportQueue, type ReportQueue } from './messages.ts';
import { firstTaggedCell, kernelOf, PARAMETERS_TAG, validateNotebook } from './notebook.ts';
import { reportObjects, s3ReportBucket, type ReportBucket } from './objects.ts';
import { checkParameters, readParameters } from './parameters.ts';

/**
 * Report templates and reports as the API (and the local runtime, for the config's templates)
 * uses them: register and read templates, request reports — recorded, then queued, one per dataset
 * version — and read them with presigned URLs to their notebook and HTML.
 */
export interface ReportService {
  /** Validates and registers a notebook under `name`; registering the same bytes again changes nothing. */
  putTemplate(name: string, notebook: unknown, registration: { by: string; source: 'api' | 'config'; description?: string }): Promise<{ template: TemplateRecord; created: boolean; changed: boolean }>;
  getTemplate(name: string): Promise<TemplateRecord>;
  listTemplates(): Promise<TemplateRecord[]>;
  /** Records and queues one report per dataset version named (one in all when none is). */
  createReports(input: CreateReportsInput, requestedBy: string): Promise<ReportRecord[]>;
  getReport(reportId: string): Promise<ReportView>;
  listReports(query: { template?: string; status?: ReportStatus; limit?: number; cursor?: string }): Promise<ReportPage>;
}

/** A dataset version a report is about; `latest` is resolved when the report is requested. */
export interface DatasetVersionSelector {
  readonly name: string;
  readonly version: number | 'latest';
}

export interface CreateReportsInput {
  readonly template: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly dataset?: DatasetVersionSelector;
  /** Several dataset versions: one report each. */
  readonly datasets?: readonly DatasetVersionSelector[];
  readonly evaluation?: string;
  readonly hideCode?: boolean;
}

/** A report with links to what it produced, valid for {@link ReportServiceDeps.urlSeconds}. */
export type ReportView = ReportRecord & { urls?: { html?: string; notebook?: string; expiresAt: string } };

export interface ReportServiceDeps {
  readonly table: Table;
  readonly bucket: ReportBucket;
  readonly queue: ReportQueue;
  readonly config: Pick<SymbiontConfig, 'datasets'>;
  readonly now?: () => Date;
  /** Seconds the presigned URLs of `getReport` stay valid. @default 3600 */
  readonly urlSeconds?: number;
}

/** Template names: what fits a key part and a file name. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Dataset versions one request may name. */
export const MAX_DATASETS_PER_REQUEST = 50;

export function createReportService(deps: ReportServiceDeps): ReportService {
  const { table, bucket, queue } = deps;
  const now = deps.now ?? (() => new Date());
  const urlSeconds = deps.urlSeconds ?? 3600;

  const findTemplate = async (name: string) => {
    const template = await getTemplate(table, name);
    if (!template) {
      const known = (await listTemplates(table)).map((t) => t.name);
      throw new TemplateNotFoundError(`no template is named ${name}; registered templates: ${known.join(', ') || 'none'}`, { template: name });
    }
    return template;
  };

  return {
    async putTemplate(name, body, registration) {
      if (!TEMPLATE_NAME.test(name)) {
        throw new InvalidReportRequestError(`template name ${JSON.stringify(name)} must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`, { template: name });
      }
      const notebook = validateNotebook(body);
      const parameters = readParameters(notebook);
      const text = JSON.stringify(notebook, null, 1);
      const sha256 = createHash('sha256').update(text).digest('hex');
      const existing = await getTemplate(table, name);
      if (existing && existing.sha256 === sha256 && existing.description === registration.description) return { template: existing, created: false, changed: false };
      const key = reportObjects.template(name, sha256);
      await bucket.put(key, text, 'application/x-ipynb+json');
      const at = now().toISOString();
      const { kernel, language } = kernelOf(notebook);
      const template = await putTemplate(table, {
        name,
        ...(registration.description ? { description: registration.description } : {}),
        sha256,
        key,
        kernel,
        language,
        cells: notebook.cells.length,
        parameters,
        hasParametersCell: firstTaggedCell(notebook, PARAMETERS_TAG) >= 0,
        registeredBy: registration.by,
        source: registration.source,
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
        revision: (existing?.revision ?? 0) + 1,
      });
      return { template, created: !existing, changed: true };
    },

    getTemplate: findTemplate,
    listTemplates: () => listTemplates(table),

    async createReports(input, requestedBy) {
      const template = await findTemplate(input.template);
      const parameters = input.parameters ?? {};
      checkParameters(template.name, template.parameters, parameters, BUILT_IN_PARAMETERS);
      const selectors = [...(input.dataset ? [input.dataset] : []), ...(input.datasets ?? [])];
      if (selectors.length > MAX_DATASETS_PER_REQUEST) {
        throw new InvalidReportRequestError(`one request may name at most ${MAX_DATASETS_PER_REQUEST} dataset versions, not ${selectors.length}`, { datasets: selectors.length });
      }
      const versions = await Promise.all(selectors.map((selector) => resolveVersion(table, deps.config, selector)));
      if (input.evaluation !== undefined && !(await getEvaluation(table, input.evaluation))) {
        throw new InvalidReportRequestError(`no evaluation has the id ${input.evaluation}`, { evaluation: input.evaluation });
      }
      const targets = versions.length === 0 ? [undefined] : versions;
      const at = now().toISOString();
      const reports: ReportRecord[] = [];
      // Recorded first, then queued: a message always finds its report (DESIGN.md "Messages").
      for (const dataset of targets) {
        const report = await createReport(table, {
          reportId: ulid(),
          template: template.name,
          templateKey: template.key,
          templateSha256: template.sha256,
          parameters: { ...parameters },
          ...(dataset ? { dataset } : {}),
          ...(input.evaluation ? { evaluationId: input.evaluation } : {}),
          hideCode: input.hideCode ?? false,
          status: 'queued',
          requestedBy,
          createdAt: at,
          updatedAt: at,
          attempts: 0,
        });
        await queue.send({ reportId: report.reportId });
        reports.push(report);
      }
      return reports;
    },

    async getReport(reportId) {
      const report = await getReport(table, reportId);
      if (!report) throw new ReportNotFoundError(`no report has the id ${reportId}`, { reportId });
      if (!report.htmlKey && !report.notebookKey) return report;
      const expiresAt = new Date(now().getTime() + urlSeconds * 1000).toISOString();
      const [html, notebook] = await Promise.all([
        report.htmlKey ? bucket.presign(report.htmlKey, urlSeconds, { contentType: 'text/html; charset=utf-8' }) : undefined,
        report.notebookKey ? bucket.presign(report.notebookKey, urlSeconds, { fileName: `${report.template}-${report.reportId}.ipynb` }) : undefined,
      ]);
      return { ...report, urls: { ...(html ? { html } : {}), ...(notebook ? { notebook } : {}), expiresAt } };
    },

    listReports: (query) => listReports(table, query),
  };
}

async function resolveVersion(table: Table, config: Pick<SymbiontConfig, 'datasets'>, selector: DatasetVersionSelector): Promise<{ name: string; version: number }> {
  if (!Object.hasOwn(config.datasets, selector.name)) {
    throw new InvalidReportRequestError(`no dataset is named ${selector.name}; known datasets: ${Object.keys(config.datasets).sort().join(', ')}`, { dataset: selector.name });
  }
  const found = selector.version === 'latest' ? await getLatestVersion(table, selector.name) : await getVersion(table, selector.name, selector.version);
  if (!found) {
    throw new InvalidReportRequestError(
      selector.version === 'latest' ? `dataset ${selector.name} has no published version yet` : `dataset ${selector.name} has no published version ${selector.version}`,
      { dataset: selector.name, version: selector.version },
    );
  }
  return { name: selector.name, version: found.version };
}

/**
 * The service as the API handler builds it once at module scope: the table, the data bucket and
 * the report queue named by the environment, through clients that honour the local endpoints.
 */
export function createReportServiceFromEnv(config: ReportServiceDeps['config'], env: NodeJS.ProcessEnv = process.env): ReportService {
  return createReportService({
    table: new Table(createDocumentClient(env), requireEnv(envNames.tableName, env)),
    bucket: s3ReportBucket(createS3Client(env), requireEnv(envNames.dataBucket, env)),
    queue: sqsReportQueue(createSqsClient(env), requireEnv(envNames.reportQueueUrl, env)),
    config,
  });
}
