import { createHash } from 'node:crypto';
import type { EvaluationRecord, EvaluationReport } from '#store/evaluations';
import { CorruptItemError } from '#store/errors';
import { createReport, getReport, getTemplate, listTemplates, type ReportRecord } from '#store/reports';
import type { Table } from '#store/table';
import { BUILT_IN_PARAMETERS } from './built-ins.ts';
import { ReportError } from './errors.ts';
import type { ReportQueue } from './messages.ts';
import { checkParameters } from './parameters.ts';

/**
 * Diagnostic reports: a regressed evaluation gets a report of its pipeline's `onRegression`
 * template, about the evaluation (the renderer adds its scores, its baseline's, the comparison and
 * the presigned URLs of both evaluations' stage outputs as built-in parameters). The report is
 * recorded, then queued, like any report the API requests; `render-report` renders it.
 *
 * The report's id is made from the evaluation's, so making the diagnostic again — a retried task,
 * a redelivered execution — finds the same report instead of making a second one.
 */

/** Who the report says requested it. */
export const DIAGNOSTICS_REQUESTER = 'symbiont:diagnostics';

/** Makes the diagnostic report of a regressed evaluation. */
export interface Diagnostics {
  /**
   * Records and queues the diagnostic report of `evaluation` with `template`, or finds it already
   * made, and answers the link the evaluation keeps: `queued` with the report id, or `failed` with
   * the reason when the template is missing or does not take the built-in parameters alone. Errors
   * of the table or the queue are thrown, for the caller to retry.
   */
  request(evaluation: EvaluationRecord, template: string): Promise<EvaluationReport>;
}

export interface DiagnosticsDeps {
  readonly table: Table;
  readonly queue: ReportQueue;
  readonly now?: () => Date;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The id of an evaluation's diagnostic report: a ULID whose time is when the evaluation finished
 * (so reports still list in the order they were made) and whose 80 random bits are the first of
 * sha256 of the evaluation id — the same evaluation always names the same report.
 */
export function diagnosticReportId(evaluationId: string, finishedAt: string): string {
  let time = Date.parse(finishedAt);
  if (!Number.isFinite(time)) throw new ReportError(`evaluation ${evaluationId} has no valid finish time (${finishedAt}) to date its report`);
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = CROCKFORD[time % 32]! + timePart;
    time = Math.floor(time / 32);
  }
  const digest = createHash('sha256').update(`diagnostic:${evaluationId}`).digest();
  // 80 bits = 16 characters of 5 bits.
  let bits = 0n;
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  let randomPart = '';
  for (let i = 0; i < 16; i++) {
    randomPart = CROCKFORD[Number(bits & 31n)]! + randomPart;
    bits >>= 5n;
  }
  return timePart + randomPart;
}

export function createDiagnostics(deps: DiagnosticsDeps): Diagnostics {
  const { table, queue } = deps;
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  return {
    async request(evaluation, templateName) {
      const at = now();
      const failed = (reason: string): EvaluationReport => ({ status: 'failed', template: templateName, reason, at });
      const template = await getTemplate(table, templateName);
      if (!template) {
        const known = (await listTemplates(table)).map((t) => t.name);
        return failed(`no template is named ${templateName} (registered: ${known.join(', ') || 'none'}); register it (symbiont templates put) or fix the pipeline's onRegression`);
      }
      try {
        checkParameters(template.name, template.parameters, {}, BUILT_IN_PARAMETERS);
      } catch (error) {
        return failed(`template ${templateName} cannot render a diagnostic: ${(error as Error).message}`);
      }
      const reportId = diagnosticReportId(evaluation.evaluationId, evaluation.finishedAt ?? evaluation.createdAt);
      let report = await getReport(table, reportId);
      if (!report) report = await recordReport(table, { reportId, template, evaluationId: evaluation.evaluationId, at });
      // Queued unless the evaluation already says so: a retry after the message went out sends
      // nothing twice; a retry between recording and queueing sends it (render-report skips
      // a report that has already rendered, so a second message costs nothing).
      const linked = evaluation.report?.reportId === reportId && evaluation.report.status !== 'failed';
      if (!linked && report.status === 'queued') await queue.send({ reportId });
      return { status: 'queued', reportId, template: templateName, at };
    },
  };
}

async function recordReport(
  table: Table,
  input: { reportId: string; template: NonNullable<Awaited<ReturnType<typeof getTemplate>>>; evaluationId: string; at: string },
): Promise<ReportRecord> {
  try {
    return await createReport(table, {
      reportId: input.reportId,
      template: input.template.name,
      templateKey: input.template.key,
      templateSha256: input.template.sha256,
      parameters: {},
      evaluationId: input.evaluationId,
      hideCode: true,
      status: 'queued',
      requestedBy: DIAGNOSTICS_REQUESTER,
      createdAt: input.at,
      updatedAt: input.at,
      attempts: 0,
    });
  } catch (error) {
    // Recorded by a concurrent attempt in the meantime: that one is the report.
    if (!(error instanceof CorruptItemError)) throw error;
    const existing = await getReport(table, input.reportId);
    if (!existing) throw error;
    return existing;
  }
}
