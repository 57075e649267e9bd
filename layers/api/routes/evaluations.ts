import { ReportNotFoundError } from '#reports/errors';
import { stageFiles, stageRunPrefix } from '#evaluation/stage-contract';
import { CapabilityUnavailableError } from '../errors.ts';
import type { EvaluationRecord, EvaluationReport } from '#store/evaluations';
import { defineRoute, Reply, type ApiDependencies, type Route } from '../route.ts';
import {
  compareQuerySchema,
  comparisonSchema,
  evaluationArtifactsSchema,
  evaluationIdParamsSchema,
  evaluationPageSchema,
  evaluationRequestSchema,
  evaluationSchema,
  listEvaluationsQuerySchema,
  requestedEvaluationSchema,
  requestEvaluationBodySchema,
  requestIdParamsSchema,
  cancelledRequestSchema,
  DEFAULT_URL_SECONDS,
  MAX_STAGE_ARTIFACTS,
  rerunBodySchema,
} from '../schemas.ts';
import { evaluations } from './commits.ts';

/**
 * Continuous evaluation: request an evaluation (`POST /evaluations`: what is missing defaults to
 * the default-branch heads, the latest dataset versions and the pipeline's grid), follow its
 * progress, list and read evaluations, and compare two of them metric by metric.
 */
const readers = ['admin', 'scientist'] as const;

export const evaluationRoutes: readonly Route[] = [
  defineRoute({
    method: 'post',
    path: '/evaluations',
    operationId: 'requestEvaluation',
    summary: 'Requests an evaluation of a pipeline: commit sets × dataset versions × parameter points.',
    description:
      'Recorded, then queued; it runs as one Step Functions execution per part. Asking again for the same evaluation answers the earlier request (200) unless `rerun` is set (admins).',
    tags: ['evaluations'],
    access: ['admin', 'scientist'],
    request: { body: requestEvaluationBodySchema },
    response: { status: 202, description: 'The request, recorded and queued.', schema: requestedEvaluationSchema },
    errors: [409],
    handle: async ({ body }, { caller, deps }) => {
      const { request, created } = await evaluations(deps).requestEvaluation(body, caller);
      const { pointers: _pointers, baselineOrder: _order, trigger: _trigger, ...shown } = request;
      return new Reply({ request: shown, created }, created ? 202 : 200);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/evaluations',
    operationId: 'listEvaluations',
    summary: 'Lists evaluations, newest first, a page at a time.',
    description: 'Filter by pipeline, dataset, status, request, or a commit of a repository (give both).',
    tags: ['evaluations'],
    access: readers,
    request: { query: listEvaluationsQuerySchema },
    response: { description: 'One page of evaluations.', schema: evaluationPageSchema },
    handle: async ({ query }, { deps }) => evaluations(deps).listEvaluations(query),
  }),
  defineRoute({
    method: 'get',
    path: '/evaluations/{id}',
    operationId: 'getEvaluation',
    summary: 'Shows one evaluation: status, scores, comparison with its baseline, timings, failure.',
    tags: ['evaluations'],
    access: readers,
    request: { params: evaluationIdParamsSchema },
    response: { description: 'The evaluation.', schema: evaluationSchema },
    errors: [404],
    handle: async ({ params }, { deps }) => {
      const evaluation = await evaluations(deps).getEvaluation(params.id);
      return {
        ...evaluation,
        ...(evaluation.stages ? { stages: await withLogs(evaluation.evaluationId, evaluation.stages, deps) } : {}),
        ...(evaluation.report ? { report: await diagnosticReport(evaluation.report, deps) } : {}),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/evaluations/artifacts/{id}',
    operationId: 'listEvaluationArtifacts',
    summary: 'Lists, per stage run, the files it wrote to its output folder, each with a presigned GET URL.',
    description: `The first ${MAX_STAGE_ARTIFACTS} files of each stage run in key order (\`truncated\` says there are more); each URL saves the file under its name and works for 15 minutes. A route of its own so that GET /evaluations/{id} lists nothing in S3.`,
    tags: ['evaluations'],
    access: readers,
    request: { params: evaluationIdParamsSchema },
    response: { description: "The evaluation's stage runs and their files.", schema: evaluationArtifactsSchema },
    errors: [404, 503],
    handle: async ({ params }, { deps }) => {
      const evaluation = await evaluations(deps).getEvaluation(params.id);
      const data = deps.data;
      if (!data) throw new CapabilityUnavailableError('stage artifacts are not available from this API');
      const listed = await Promise.all(
        (evaluation.stages ?? []).map(async (s) => {
          const prefix = stageRunPrefix(evaluation.evaluationId, s.repeat, s.stage, s.name);
          return { stage: s, prefix: `${prefix}${stageFiles.output}`, ...(await data.stageArtifacts(prefix, DEFAULT_URL_SECONDS, MAX_STAGE_ARTIFACTS)) };
        }),
      );
      const expiresAt = listed.flatMap((l) => l.files.map((f) => f.expiresAt)).sort()[0];
      return {
        evaluationId: evaluation.evaluationId,
        ...(expiresAt ? { expiresAt } : {}),
        stages: listed.map(({ stage: s, prefix, files, truncated }) => ({ repeat: s.repeat, stage: s.stage, name: s.name, prefix, files: files.map(({ name, size, url }) => ({ name, size, url })), truncated })),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/evaluations/requests/{id}',
    operationId: 'getEvaluationRequest',
    summary: 'Shows an evaluation request, its progress (done, failed, cancelled, regressed of total) and, per metric, its best points so far.',
    tags: ['evaluations'],
    access: readers,
    request: { params: requestIdParamsSchema },
    response: { description: 'The request.', schema: evaluationRequestSchema },
    errors: [404],
    handle: async ({ params }, { deps }) => {
      const { pointers: _pointers, baselineOrder: _order, trigger: _trigger, ...shown } = await evaluations(deps).getRequest(params.id);
      return shown;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/evaluations/requests/{id}/cancel',
    operationId: 'cancelEvaluationRequest',
    summary: 'Cancels a queued or running request: its executions stop, later parts never start, what had not run counts as cancelled.',
    description: 'A request that ended already (finished, failed, cancelled) is answered as it is, with `cancelled: false`.',
    tags: ['evaluations'],
    access: ['admin', 'scientist'],
    request: { params: requestIdParamsSchema },
    response: { description: 'The request after the cancel.', schema: cancelledRequestSchema },
    errors: [404],
    handle: async ({ params }, { caller, deps }) => {
      const { request, cancelled } = await evaluations(deps).cancelRequest(params.id, caller);
      const { pointers: _pointers, baselineOrder: _order, trigger: _trigger, ...shown } = request;
      return { request: shown, cancelled };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/evaluations/reruns',
    operationId: 'rerunEvaluation',
    summary: 'Runs one evaluation again as a request of its own (reason `rerun`); the earlier evaluation stays, and both are listed.',
    description: 'For a failed or suspicious evaluation: the same commit set, dataset version, parameters and repeats, compared with the baseline of now.',
    tags: ['evaluations'],
    access: ['admin'],
    request: { body: rerunBodySchema },
    response: { status: 202, description: 'The rerun request, recorded and queued.', schema: requestedEvaluationSchema },
    errors: [404],
    handle: async ({ body }, { caller, deps }) => {
      const { request, created } = await evaluations(deps).rerunEvaluation(body.evaluationId, caller);
      const { pointers: _pointers, baselineOrder: _order, trigger: _trigger, ...shown } = request;
      return new Reply({ request: shown, created }, 202);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/compare',
    operationId: 'compareEvaluations',
    summary: 'Compares two evaluations metric by metric: both values, the delta and the verdict.',
    description: 'Without `base`, the head evaluation is compared with its own baseline.',
    tags: ['evaluations'],
    access: readers,
    request: { query: compareQuerySchema },
    response: { description: 'The comparison.', schema: comparisonSchema },
    errors: [404],
    handle: async ({ query }, { deps }) => evaluations(deps).compare(query.head, query.base),
  }),
];

/** Each stage run with presigned URLs of its stdout and stderr, when the API can sign them. */
async function withLogs(evaluationId: string, stages: NonNullable<EvaluationRecord['stages']>, deps: ApiDependencies) {
  const data = deps.data;
  if (!data) return stages;
  return Promise.all(stages.map(async (s) => ({ ...s, logs: await data.stageLogUrls(stageRunPrefix(evaluationId, s.repeat, s.stage, s.name), DEFAULT_URL_SECONDS) })));
}

/**
 * An evaluation's diagnostic report as it stands now: the report's own status (the evaluation
 * recorded `queued` when it was made) and, once rendered, a presigned URL of its HTML. A report
 * the reports service cannot show (not available here, gone) leaves the link as recorded.
 */
async function diagnosticReport(link: EvaluationReport, deps: ApiDependencies) {
  if (!link.reportId || !deps.reports) return link;
  try {
    const report = await deps.reports.getReport(link.reportId);
    const reason = report.error ? `${report.error.name}: ${report.error.message}${report.error.cell ? ` (cell ${report.error.cell})` : ''}` : link.reason;
    return {
      ...link,
      status: report.status,
      ...(reason ? { reason } : {}),
      ...(report.urls?.html ? { html: report.urls.html, expiresAt: report.urls.expiresAt } : {}),
    };
  } catch (error) {
    if (error instanceof ReportNotFoundError) return link;
    throw error;
  }
}
