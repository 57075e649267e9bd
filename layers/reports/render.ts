import type { SymbiontConfig } from '#config/schema';
import type { EvaluationComparison } from '#evaluation/service';
import { evaluationPrefix, stageFiles } from '#evaluation/stage-contract';
import { logger } from '#shared/observability';
import { getReport, updateReport, type ReportRecord } from '#store/reports';
import type { Table } from '#store/table';
import { getVersion } from '#store/versions';
import { builtInParameters, type StageOutputs } from './built-ins.ts';
import { KernelUnavailableError, ReportError, UntranslatableParameterError } from './errors.ts';
import type { ExecutionFailure, NotebookExecutor } from './executor.ts';
import { injectParameters } from './inject.ts';
import type { ReportMessage } from './messages.ts';
import { validateNotebook, type Notebook } from './notebook.ts';
import { reportObjects, type ReportBucket } from './objects.ts';
import { renderNotebookHtml } from './render-html.ts';

/**
 * `render-report`: one report message → the template revision the report named, its parameters
 * and built-ins injected, executed on a kernel, stored as `reports/<id>/report.ipynb` and a
 * standalone `report.html`, and the report's status `succeeded` or `failed`. A failing cell is a
 * normal outcome: the notebook is stored executed up to it, the HTML carries a banner linking to
 * it, and the status says `failed` with the error's name and message. Only infrastructure errors
 * (the table, the bucket) are thrown, so the message comes back and the render is tried again.
 */

export interface RenderReportDeps {
  readonly table: Table;
  readonly bucket: ReportBucket;
  readonly executor: NotebookExecutor;
  readonly config: Pick<SymbiontConfig, 'datasets'>;
  /** The evaluation and its baseline, compared (the evaluation service's `compare`). */
  readonly compare: (evaluationId: string) => Promise<EvaluationComparison>;
  /** Seconds one cell may run. @default 600 */
  readonly cellTimeoutSeconds?: number;
  /** Seconds the whole notebook may run. @default 780 (inside the function's 900) */
  readonly totalTimeoutSeconds?: number;
  readonly now?: () => Date;
}

export type RenderOutcome = 'succeeded' | 'failed' | 'skipped';

export async function renderReport(message: ReportMessage, deps: RenderReportDeps): Promise<RenderOutcome> {
  const { table, bucket } = deps;
  const now = deps.now ?? (() => new Date());
  const started = now();
  const report = await getReport(table, message.reportId);
  if (!report) {
    // Recorded before queued, so this is a message from elsewhere: nothing to render, nothing to retry.
    logger.warn('report message names no recorded report', { reportId: message.reportId });
    return 'skipped';
  }
  if (report.status === 'succeeded' || report.status === 'failed') {
    logger.info('report already rendered; redelivered message ignored', { reportId: report.reportId, status: report.status });
    return 'skipped';
  }
  const claimed = await updateReport(table, report.reportId, {
    set: { status: 'rendering', startedAt: started.toISOString() },
    add: { attempts: 1 },
    where: { status: { in: ['queued', 'rendering'] } },
  });
  if (!claimed) return 'skipped';

  let notebook: Notebook;
  let failure: ExecutionFailure | undefined;
  try {
    const template = validateNotebook(JSON.parse(await bucket.getText(report.templateKey)));
    const builtIns = await resolveBuiltIns(report, deps);
    const parameters = { ...report.parameters, ...builtIns };
    const injected = injectParameters(template, parameters);
    const outcome = await deps.executor.execute(injected, {
      cellTimeoutSeconds: deps.cellTimeoutSeconds ?? 600,
      totalTimeoutSeconds: deps.totalTimeoutSeconds ?? 780,
    });
    notebook = outcome.notebook;
    if (outcome.status === 'failed') failure = outcome.failure;
  } catch (error) {
    if (!(error instanceof KernelUnavailableError || error instanceof UntranslatableParameterError || error instanceof ReportError)) throw error;
    // Nothing ran: the report is stored as failed with the reason, and not retried.
    await updateReport(table, report.reportId, {
      set: { status: 'failed', finishedAt: now().toISOString(), durationMs: now().getTime() - started.getTime(), error: { name: error.name, message: error.message } },
      where: { status: 'rendering' },
    });
    logger.warn('report could not run', { reportId: report.reportId, error: error.name, message: error.message });
    return 'failed';
  }

  const html = renderNotebookHtml(notebook, {
    title: `${report.template}${report.dataset ? ` — ${report.dataset.name} v${report.dataset.version}` : ''}`,
    hideCode: report.hideCode,
    facts: describeReport(report),
    ...(failure ? { failure } : {}),
  });
  const notebookKey = reportObjects.notebook(report.reportId);
  const htmlKey = reportObjects.html(report.reportId);
  await bucket.put(notebookKey, JSON.stringify(notebook, null, 1), 'application/x-ipynb+json');
  await bucket.put(htmlKey, html, 'text/html; charset=utf-8');
  const finished = now();
  await updateReport(table, report.reportId, {
    set: {
      status: failure ? 'failed' : 'succeeded',
      notebookKey,
      htmlKey,
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ...(failure ? { error: { name: failure.name, message: failure.message, ...(failure.cell === undefined ? {} : { cell: failure.cell + 1 }) } } : {}),
    },
    // An earlier attempt's error does not outlive a render that succeeded.
    ...(failure ? {} : { remove: ['error'] as const }),
    where: { status: 'rendering' },
  });
  logger.info('report rendered', { reportId: report.reportId, status: failure ? 'failed' : 'succeeded', durationMs: finished.getTime() - started.getTime() });
  return failure ? 'failed' : 'succeeded';
}

async function resolveBuiltIns(report: ReportRecord, deps: RenderReportDeps): Promise<Record<string, unknown>> {
  const version = report.dataset ? await getVersion(deps.table, report.dataset.name, report.dataset.version) : undefined;
  if (report.dataset && !version) {
    throw new ReportError(`dataset ${report.dataset.name} has no published version ${report.dataset.version} any more`);
  }
  // Valid while the notebook may run, and a little longer.
  const datasetUrl = version ? await deps.bucket.presign(version.key, (deps.totalTimeoutSeconds ?? 780) + 300) : undefined;
  const comparison = report.evaluationId ? await deps.compare(report.evaluationId) : undefined;
  const seconds = (deps.totalTimeoutSeconds ?? 780) + 300;
  const outputs = comparison
    ? {
        evaluation: await stageOutputs(deps.bucket, comparison.head.evaluationId, seconds),
        ...(comparison.base ? { baseline: await stageOutputs(deps.bucket, comparison.base.evaluationId, seconds) } : {}),
      }
    : undefined;
  const values = builtInParameters(
    report,
    { ...(version ? { version } : {}), ...(datasetUrl ? { datasetUrl } : {}), ...(comparison ? { comparison } : {}), ...(outputs ? { outputs } : {}) },
    deps.config,
  );
  // JSON round trip: optional fields left undefined are dropped rather than written as None.
  return JSON.parse(JSON.stringify(values)) as Record<string, unknown>;
}

/**
 * What the stages of an evaluation's first repeat wrote to `$SYMBIONT_OUTPUT`, by stage name and
 * file, as presigned GET URLs: a diagnostic reads the predictions of the evaluation and of its
 * baseline side by side without knowing the bucket.
 */
async function stageOutputs(bucket: RenderReportDeps['bucket'], evaluationId: string, seconds: number): Promise<StageOutputs> {
  const repeat = `${evaluationPrefix(evaluationId)}r1/`;
  const outputs: StageOutputs = {};
  for (const key of await bucket.list(repeat)) {
    // <n>-<stage>/output/<file>
    const match = /^\d+-([^/]+)\/(.+)$/.exec(key.slice(repeat.length));
    if (!match || !match[2]!.startsWith(stageFiles.output)) continue;
    const file = match[2]!.slice(stageFiles.output.length);
    if (!file) continue;
    (outputs[match[1]!] ??= {})[file] = await bucket.presign(key, seconds);
  }
  return outputs;
}

function describeReport(report: ReportRecord): [string, string][] {
  const facts: [string, string][] = [['template', report.template]];
  if (report.dataset) facts.push(['dataset', `${report.dataset.name} v${report.dataset.version}`]);
  if (report.evaluationId) facts.push(['evaluation', report.evaluationId]);
  const given = Object.entries(report.parameters);
  if (given.length > 0) facts.push(['parameters', given.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')]);
  facts.push(['report', report.reportId]);
  facts.push(['requested', `${report.createdAt} by ${report.requestedBy}`]);
  return facts;
}
