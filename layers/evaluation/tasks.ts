import { GetObjectCommand, HeadObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { PipelineSpec, SymbiontConfig } from '#config/schema';
import type { MetricSink } from '#shared/metrics';
import { logger } from '#shared/observability';
import { withCorrelation } from '#shared/tracing';
import {
  advanceBaseline,
  allRequestEvaluations,
  createEvaluation,
  getEvaluation,
  getEvaluations,
  getRequest,
  updateEvaluation,
  updateRequest,
  type EvaluationFailure,
  type EvaluationRecord,
  type RequestRecord,
} from '#store/evaluations';
import type { Diagnostics } from '#reports/diagnostics';
import type { Table } from '#store/table';
import { getVersion } from '#store/versions';
import { settleCancelledCounts } from './cancel.ts';
import { postResults, type GithubResultsDeps } from './github-results.ts';
import {
  EvaluationPartFailedError,
  InvalidMetricsError,
  RequestCancelledError,
  InvalidTaskInputError,
  RequestNotFoundError,
  StageRunnerUnavailableError,
  TransientTaskError,
} from './errors.ts';
import type { EvaluationQueue } from './queue.ts';
import { messageForPart } from './requests.ts';
import { planRequest, type Plan, type PlannedPoint } from './plan.ts';
import { compareScores, parseMetrics, scoreRepeats } from './scores.ts';
import {
  ecrRepositoryOf,
  evaluationPrefix,
  MAX_STAGE_RUN_CHARACTERS,
  stageFiles,
  stageResultSchema,
  stageRunPrefix,
  stageRunSchema,
  tail,
  TASK_TIMEOUT_MARGIN_SECONDS,
  type StageResult,
  type StageRun,
} from './stage-contract.ts';

/**
 * The tasks of the evaluation state machine: one function per Task state, all behind one Lambda
 * (`evaluation-tasks`) that dispatches on `task`. Each task reads what it needs from the table by
 * id, writes its result there, and returns only what the next state needs — Map iterations return
 * nothing, so the execution's state stays small. Every task may run twice (Step Functions retries,
 * redelivered executions): each write is conditioned or repeatable.
 */

const errorInfo = z.object({ Error: z.string(), Cause: z.string().nullish() });

export const taskInputSchema = z.discriminatedUnion('task', [
  z.object({ task: z.literal('prepare'), requestId: z.string(), part: z.number().int().positive() }),
  z.object({ task: z.literal('start-point'), requestId: z.string(), evaluationId: z.string() }),
  z.object({ task: z.literal('run-stage'), run: stageRunSchema, taskTimeoutSeconds: z.number().optional() }),
  z.object({ task: z.literal('record-scores'), requestId: z.string(), evaluationId: z.string() }),
  z.object({ task: z.literal('compare'), requestId: z.string(), evaluationId: z.string() }),
  z.object({ task: z.literal('record-failure'), requestId: z.string(), evaluationId: z.string(), error: errorInfo }),
  z.object({ task: z.literal('tally'), requestId: z.string(), part: z.number().int().positive() }),
  z.object({ task: z.literal('diagnose'), requestId: z.string(), evaluationIds: z.array(z.string()) }),
  z.object({ task: z.literal('diagnostic-failed'), requestId: z.string(), evaluationIds: z.array(z.string()), error: errorInfo }),
  z.object({
    task: z.literal('finish'),
    state: z.looseObject({ requestId: z.string(), part: z.number().int().positive(), error: errorInfo.optional() }),
  }),
]);
export type TaskInput = z.infer<typeof taskInputSchema>;
export type TaskName = TaskInput['task'];

/** What the tasks work with. */
export interface EvaluationTaskDeps {
  readonly table: Table;
  readonly s3: S3Client;
  readonly dataBucket: string;
  readonly config: Pick<SymbiontConfig, 'pipelines'>;
  /** For `finish`: the next part of a request is queued when one ends. */
  readonly queue: EvaluationQueue;
  /** For `finish`: where results go back on GitHub (off without it, or without a token). */
  readonly github?: GithubResultsDeps;
  /** For `diagnose`: makes the diagnostic reports of regressions (the report queue's side). */
  readonly diagnostics?: Diagnostics;
  /** Where evaluations by verdict and regressions are counted (CloudWatch in AWS). @default none */
  readonly metrics?: MetricSink;
  readonly now?: () => Date;
}

/** What `prepare` answers: the part's points, baseline phase first (the Map runs phases in order). */
export interface PreparedPart {
  readonly phases: { readonly phase: 'baseline' | 'candidate'; readonly points: { readonly evaluationId: string }[] }[];
}

/** What `tally` answers: whether the part found regressions, and which. */
export interface PartTally {
  readonly regressed: boolean;
  readonly evaluationIds: string[];
}

/**
 * Runs one task. Errors keep their names (the state machine matches on them); an AWS error that
 * may pass when tried again becomes a {@link TransientTaskError}, which the state machine retries.
 */
export async function runEvaluationTask(payload: unknown, deps: EvaluationTaskDeps): Promise<unknown> {
  const parsed = taskInputSchema.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidTaskInputError(`evaluation task input is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const input = parsed.data;
  return withCorrelation(correlation(input), async () => {
    try {
      return await dispatch(input, deps);
    } catch (error) {
      if (isTransient(error)) throw new TransientTaskError(`${input.task}: ${(error as Error).message}`, undefined, { cause: error });
      throw error;
    }
  });
}

async function dispatch(input: TaskInput, deps: EvaluationTaskDeps): Promise<unknown> {
  switch (input.task) {
    case 'prepare':
      return prepare(input.requestId, input.part, deps);
    case 'start-point':
      return startPoint(input.requestId, input.evaluationId, deps);
    case 'run-stage':
      // Stages never run here: in AWS the state machine runs them on ECS, locally the runtime's stage runner does.
      throw new StageRunnerUnavailableError(
        `stage ${input.run.stageName} cannot run inside the tasks function; in AWS stages run as ECS tasks, locally the runtime runs them`,
      );
    case 'record-scores':
      await recordScores(input.requestId, input.evaluationId, deps);
      return {};
    case 'compare':
      await compare(input.requestId, input.evaluationId, deps);
      return {};
    case 'record-failure':
      await recordFailure(input.requestId, input.evaluationId, input.error, deps);
      return {};
    case 'tally':
      return tally(input.requestId, input.part, deps);
    case 'diagnose':
      return diagnose(input.requestId, input.evaluationIds, deps);
    case 'diagnostic-failed':
      await diagnosticFailed(input.requestId, input.evaluationIds, input.error, deps);
      return {};
    case 'finish':
      return finish(input.state.requestId, input.state.part, input.state.error, deps);
  }
}

// ---------------------------------------------------------------------------------------------

interface PlannedRequest {
  readonly request: RequestRecord;
  readonly pipeline: PipelineSpec;
  readonly plan: Plan;
  readonly byId: ReadonlyMap<string, PlannedPoint>;
}

/**
 * Plans by request id, kept for the life of the container: the plan depends only on the request's
 * immutable fields, and every point of a request asks for it.
 */
const plans = new Map<string, Promise<PlannedRequest>>();
const MAX_CACHED_PLANS = 32;

function plannedRequest(requestId: string, deps: EvaluationTaskDeps): Promise<PlannedRequest> {
  let cached = plans.get(requestId);
  if (!cached) {
    cached = (async () => {
      const request = await getRequest(deps.table, requestId);
      if (!request) throw new RequestNotFoundError(`evaluation request ${requestId} is not recorded`, { requestId });
      const pipeline = deps.config.pipelines[request.pipeline];
      if (!pipeline) throw new InvalidTaskInputError(`request ${requestId} names pipeline ${request.pipeline}, which the config no longer has`);
      const plan = planRequest(request, pipeline);
      return { request, pipeline, plan, byId: new Map(plan.points.map((p) => [p.evaluationId, p])) };
    })();
    cached.catch(() => plans.delete(requestId));
    plans.set(requestId, cached);
    if (plans.size > MAX_CACHED_PLANS) plans.delete(plans.keys().next().value!);
  }
  return cached;
}

function pointOf(planned: PlannedRequest, evaluationId: string): PlannedPoint {
  const point = planned.byId.get(evaluationId);
  if (!point) throw new InvalidTaskInputError(`evaluation ${evaluationId} is not a point of request ${planned.request.requestId}`);
  return point;
}

const iso = (deps: EvaluationTaskDeps) => (deps.now?.() ?? new Date()).toISOString();

/** `prepare`: the part's points, baseline phase first. */
export async function prepare(requestId: string, part: number, deps: EvaluationTaskDeps): Promise<PreparedPart> {
  const { plan } = await plannedRequest(requestId, deps);
  const points = plan.parts[part - 1];
  if (!points) throw new InvalidTaskInputError(`request ${requestId} has ${plan.parts.length} part(s), not ${part}`);
  const phase = (name: 'baseline' | 'candidate') => ({ phase: name, points: points.filter((p) => p.phase === name).map((p) => ({ evaluationId: p.evaluationId })) });
  return { phases: [phase('baseline'), phase('candidate')] };
}

/** Records the evaluation of a point (running), or finds it recorded. */
async function ensureEvaluation(planned: PlannedRequest, point: PlannedPoint, deps: EvaluationTaskDeps): Promise<EvaluationRecord> {
  const now = iso(deps);
  const { evaluation } = await createEvaluation(deps.table, {
    evaluationId: point.evaluationId,
    requestId: planned.request.requestId,
    pipeline: planned.request.pipeline,
    part: point.part,
    phase: point.phase,
    commitSet: point.commitSet,
    commitSetId: point.commitSetId,
    isBaselineCommitSet: point.isBaselineCommitSet,
    reason: planned.request.reason,
    ...(planned.request.trigger ? { trigger: planned.request.trigger } : {}),
    dataset: point.dataset,
    version: point.version,
    parameters: point.parameters,
    pointHash: point.pointHash,
    repeats: planned.request.repeats,
    status: 'running',
    ...(point.baselineEvaluationId ? { baselineEvaluationId: point.baselineEvaluationId } : {}),
    artifactsPrefix: evaluationPrefix(point.evaluationId),
    createdAt: now,
    updatedAt: now,
    startedAt: now,
  });
  return evaluation;
}

/** `start-point`: records the evaluation and answers its stage runs, in order (repeat by repeat). */
export async function startPoint(requestId: string, evaluationId: string, deps: EvaluationTaskDeps): Promise<{ runs: StageRun[] }> {
  const planned = await plannedRequest(requestId, deps);
  const point = pointOf(planned, evaluationId);
  await ensureEvaluation(planned, point, deps);
  // Read fresh (the plan is cached): a point reaching here after its request was cancelled is not run.
  if ((await getRequest(deps.table, requestId))?.status === 'cancelled') {
    const at = iso(deps);
    await updateEvaluation(deps.table, evaluationId, { set: { status: 'cancelled', finishedAt: at }, where: { status: 'running' } });
    throw new RequestCancelledError(`request ${requestId} was cancelled; evaluation ${evaluationId} is not run`);
  }
  const version = await getVersion(deps.table, point.dataset, point.version);
  if (!version) throw new InvalidTaskInputError(`dataset ${point.dataset} has no published version ${point.version}`);
  const runs = stageRuns(planned, point, version.key, deps.dataBucket);
  for (const run of runs) {
    const size = JSON.stringify(run).length;
    if (size > MAX_STAGE_RUN_CHARACTERS) {
      throw new InvalidTaskInputError(
        `stage ${run.stageName} of evaluation ${evaluationId} would be passed ${size} characters (at most ${MAX_STAGE_RUN_CHARACTERS} fit in an ECS override): shorten its command or parameter values`,
      );
    }
  }
  return { runs };
}

function stageRuns(planned: PlannedRequest, point: PlannedPoint, datasetKey: string, bucket: string): StageRun[] {
  const { pipeline, request } = planned;
  const runs: StageRun[] = [];
  for (let repeat = 0; repeat < request.repeats; repeat++) {
    pipeline.stages.forEach((stage, index) => {
      const stageName = stage.name ?? stage.repository;
      const previous = index === 0 ? undefined : pipeline.stages[index - 1]!;
      runs.push({
        evaluationId: point.evaluationId,
        pipeline: request.pipeline,
        repeat,
        stage: index,
        stageName,
        last: index === pipeline.stages.length - 1,
        repository: stage.repository,
        sha: point.commitSet[stage.repository]!,
        image: stage.image,
        ecrRepository: ecrRepositoryOf(stage.image),
        imageTag: point.commitSet[stage.repository]!,
        command: stage.command,
        timeoutSeconds: stage.timeoutSeconds,
        taskTimeoutSeconds: stage.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS,
        commitSet: point.commitSet,
        parameters: point.parameters,
        bucket,
        input:
          previous === undefined
            ? { kind: 'dataset', dataset: point.dataset, version: point.version, key: datasetKey }
            : { kind: 'stage', prefix: `${stageRunPrefix(point.evaluationId, repeat, index - 1, previous.name ?? previous.repository)}${stageFiles.output}` },
        prefix: stageRunPrefix(point.evaluationId, repeat, index, stageName),
      });
    });
  }
  return runs;
}

/** Reads an object of the data bucket as text, or `undefined` when it is not there. */
async function readText(deps: EvaluationTaskDeps, key: string, range?: string): Promise<string | undefined> {
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.dataBucket, Key: key, ...(range ? { Range: range } : {}) }));
    return await object.Body!.transformToString('utf8');
  } catch (error) {
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    // A range past the end of a short object: read it whole.
    if ((error as Error).name === 'InvalidRange' && range) return readText(deps, key);
    throw error;
  }
}

/**
 * The last `bytes` of an object as text, or `undefined` when it is not there. The size is asked
 * first and the range given by its ends: a suffix range (`bytes=-N`) of an empty object is an
 * error on some S3 implementations (the local one drops the connection), and a hung stage's
 * stderr is often empty.
 */
async function readTail(deps: EvaluationTaskDeps, key: string, bytes: number): Promise<string | undefined> {
  let size: number | undefined;
  try {
    size = (await deps.s3.send(new HeadObjectCommand({ Bucket: deps.dataBucket, Key: key }))).ContentLength;
  } catch (error) {
    if ((error as Error).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
  if (size === 0) return '';
  if (size === undefined || size <= bytes) return readText(deps, key);
  return readText(deps, key, `bytes=${size - bytes}-${size - 1}`);
}

async function readResult(deps: EvaluationTaskDeps, run: StageRun): Promise<StageResult | undefined> {
  const text = await readText(deps, `${run.prefix}${stageFiles.result}`);
  if (text === undefined) return undefined;
  const parsed = stageResultSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

/** `record-scores`: reads each repeat's `metrics.json`, scores the point, marks it `succeeded`. */
export async function recordScores(requestId: string, evaluationId: string, deps: EvaluationTaskDeps): Promise<void> {
  const planned = await plannedRequest(requestId, deps);
  const point = pointOf(planned, evaluationId);
  const evaluation = await getEvaluation(deps.table, evaluationId);
  if (evaluation?.status === 'succeeded') return;
  const runs = stageRuns(planned, point, '-', deps.dataBucket);
  const results = await Promise.all(runs.map((run) => readResult(deps, run)));
  const repeats: Record<string, number>[] = [];
  for (const run of runs.filter((r) => r.last)) {
    const where = `metrics.json of stage ${run.stageName}${planned.request.repeats > 1 ? ` (repeat ${run.repeat + 1})` : ''}`;
    const text = await readText(deps, `${run.prefix}${stageFiles.metrics}`);
    if (text === undefined) throw new InvalidMetricsError(`${where} is missing: the last stage must write $SYMBIONT_OUTPUT/metrics.json`);
    repeats.push(parseMetrics(text, where));
  }
  const scores = scoreRepeats(repeats, Object.keys(planned.pipeline.metrics));
  const finishedAt = iso(deps);
  const started = evaluation?.startedAt ?? finishedAt;
  const updated = await updateEvaluation(deps.table, evaluationId, {
    set: {
      status: 'succeeded',
      scores,
      stages: runs.map((run, i) => ({
        repeat: run.repeat,
        stage: run.stage,
        name: run.stageName,
        durationMs: results[i]?.durationMs ?? 0,
        exitCode: results[i]?.exitCode ?? null,
        ...(results[i]?.image ? { image: results[i]!.image } : {}),
      })),
      finishedAt,
      durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(started)),
    },
    where: { status: 'running' },
  });
  // Counted once: only the call that moved it from running.
  if (updated) await updateRequest(deps.table, requestId, { add: { done: 1 } });
  logger.info('evaluation scored', { scores: Object.fromEntries(Object.entries(scores).map(([k, s]) => [k, s.mean])) });
}

/**
 * `compare`: compares the scores with the baseline evaluation's (when it succeeded), records the
 * verdict per metric, and moves the baseline pointer when this is an evaluation of the request's
 * default-branch heads newer than the one it names.
 */
export async function compare(requestId: string, evaluationId: string, deps: EvaluationTaskDeps): Promise<void> {
  const planned = await plannedRequest(requestId, deps);
  const evaluation = await getEvaluation(deps.table, evaluationId);
  if (evaluation?.status !== 'succeeded' || !evaluation.scores) {
    throw new InvalidTaskInputError(`evaluation ${evaluationId} has no scores to compare (status ${evaluation?.status ?? 'missing'})`);
  }
  const base = evaluation.baselineEvaluationId ? await getEvaluation(deps.table, evaluation.baselineEvaluationId) : undefined;
  const comparison = compareScores(evaluation.scores, base?.status === 'succeeded' ? base.scores : undefined, planned.pipeline.metrics);
  const firstTime = evaluation.verdict === undefined;
  await updateEvaluation(deps.table, evaluationId, {
    set: { comparison: comparison.metrics, verdict: comparison.verdict, regressed: comparison.regressed },
    where: { status: 'succeeded' },
  });
  if (firstTime && comparison.regressed) await updateRequest(deps.table, requestId, { add: { regressed: 1 } });
  if (firstTime) {
    deps.metrics?.count('Evaluations', { pipeline: evaluation.pipeline, verdict: comparison.verdict });
    if (comparison.regressed) deps.metrics?.count('Regressions', { pipeline: evaluation.pipeline });
  }
  const { request } = planned;
  if (evaluation.isBaselineCommitSet && request.baselineOrder !== undefined) {
    const moved = await advanceBaseline(deps.table, {
      pipeline: evaluation.pipeline,
      dataset: evaluation.dataset,
      version: evaluation.version,
      pointHash: evaluation.pointHash,
      evaluationId,
      commitSet: evaluation.commitSet,
      commitSetId: evaluation.commitSetId,
      order: request.baselineOrder,
      movedAt: iso(deps),
    });
    logger.info(moved ? 'baseline moved to this evaluation' : 'baseline kept: it names newer heads', { dataset: evaluation.dataset, version: evaluation.version });
  }
  logger.info('evaluation compared', { verdict: comparison.verdict, baselineEvaluationId: evaluation.baselineEvaluationId });
}

/** The reason of a caught error: a Lambda error's `errorMessage`, or the cause as it is. */
function describeCause(error: { Error: string; Cause?: string | null }): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause as the local runner (or Step Functions) wrote it.
  }
  return cause || error.Error;
}

/**
 * `record-failure`: a stage, the scoring or the comparison failed and was caught. A failure before
 * the point was scored makes it a `failed` evaluation, with the failing stage and the tail of its
 * stderr (read from the data bucket, where every runner leaves them); a failure of the comparison
 * alone is recorded beside the scores, which stand.
 */
export async function recordFailure(requestId: string, evaluationId: string, error: { Error: string; Cause?: string | null }, deps: EvaluationTaskDeps): Promise<void> {
  const planned = await plannedRequest(requestId, deps);
  const point = pointOf(planned, evaluationId);
  const evaluation = await ensureEvaluation(planned, point, deps);
  const reason = describeCause(error);
  if (evaluation.status === 'succeeded') {
    await updateEvaluation(deps.table, evaluationId, { set: { comparisonError: `${error.Error}: ${reason}` } });
    logger.warn('comparison failed; the scores stand', { error: error.Error, reason });
    return;
  }
  if (evaluation.status !== 'running') return;
  if ((await getRequest(deps.table, requestId))?.status === 'cancelled') {
    // Stopped by the cancel (a stage cut short): cancelled, not failed.
    await updateEvaluation(deps.table, evaluationId, { set: { status: 'cancelled', finishedAt: iso(deps) }, where: { status: 'running' } });
    return;
  }
  const failure: EvaluationFailure = { error: error.Error, reason };
  // The failing run is the first without a result or with one that says it failed.
  const runs = stageRuns(planned, point, '-', deps.dataBucket);
  for (const run of runs) {
    const result = await readResult(deps, run);
    if (result && result.exitCode === 0 && !result.timedOut) continue;
    const stderr = await readTail(deps, `${run.prefix}${stageFiles.stderr}`, 8192);
    Object.assign(failure, {
      stage: run.stageName,
      repeat: run.repeat,
      ...(result ? { exitCode: result.exitCode } : {}),
      ...(stderr ? { stderrTail: tail(stderr) } : {}),
    });
    break;
  }
  const finishedAt = iso(deps);
  const updated = await updateEvaluation(deps.table, evaluationId, {
    set: { status: 'failed', failure, finishedAt, durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(evaluation.startedAt)) },
    where: { status: 'running' },
  });
  if (updated) {
    await updateRequest(deps.table, requestId, { add: { failed: 1 } });
    deps.metrics?.count('Evaluations', { pipeline: planned.request.pipeline, verdict: 'failed' });
  }
  logger.warn('evaluation failed', { error: failure.error, stage: failure.stage, reason });
}

/**
 * `tally`: counts the request's evaluations exactly (the live counters may have missed a step on a
 * crash) and answers whether this part found regressions.
 */
export async function tally(requestId: string, part: number, deps: EvaluationTaskDeps): Promise<PartTally> {
  const planned = await plannedRequest(requestId, deps);
  const all = await allRequestEvaluations(deps.table, requestId);
  const count = (status: EvaluationRecord['status']) => all.filter((e) => e.status === status).length;
  if ((await getRequest(deps.table, requestId))?.status === 'cancelled') {
    await settleCancelledCounts(deps.table, requestId);
  } else {
    await updateRequest(deps.table, requestId, {
      set: { done: count('succeeded'), failed: count('failed'), cancelled: count('cancelled'), regressed: all.filter((e) => e.regressed === true).length },
    });
  }
  const ids = new Set((planned.plan.parts[part - 1] ?? []).map((p) => p.evaluationId));
  const regressed = all.filter((e) => ids.has(e.evaluationId) && e.regressed === true).map((e) => e.evaluationId);
  return { regressed: regressed.length > 0, evaluationIds: regressed };
}

/** What `diagnose` answers: how many diagnostic reports were queued and how many could not be made. */
export interface DiagnoseOutcome {
  readonly queued: number;
  readonly failed: number;
}

/**
 * `diagnose`: for each regressed evaluation of the part, the diagnostic report of the pipeline's
 * `onRegression` template — recorded, queued for `render-report`, and linked from the evaluation
 * (`report: {reportId, status}`). A diagnostic that cannot be made (no such template, one that
 * needs more than the built-in parameters) is recorded on the evaluation as `failed` with the
 * reason and never fails the evaluation; errors of the table or the queue are thrown so that the
 * state machine retries them, and once retries are spent `diagnostic-failed` records them.
 * The same evaluation always names the same report, so a retry makes nothing twice.
 */
export async function diagnose(requestId: string, evaluationIds: readonly string[], deps: EvaluationTaskDeps): Promise<DiagnoseOutcome> {
  const planned = await plannedRequest(requestId, deps);
  const template = planned.pipeline.onRegression?.template;
  const current = await getRequest(deps.table, requestId);
  const ids = [...new Set([...(current?.report?.evaluationIds ?? []), ...evaluationIds])];
  await updateRequest(deps.table, requestId, { set: { report: { status: 'wanted', ...(template ? { template } : {}), evaluationIds: ids, at: iso(deps) } } });
  if (!template) {
    logger.info('regressions found; the pipeline names no onRegression template, so no diagnostic is made', { regressions: evaluationIds.length });
    return { queued: 0, failed: 0 };
  }
  let queued = 0;
  let failed = 0;
  for (const evaluation of await getEvaluations(deps.table, evaluationIds)) {
    if (evaluation.report?.reportId && evaluation.report.status !== 'failed' && evaluation.report.status !== 'wanted') {
      queued += 1;
      continue;
    }
    const link = deps.diagnostics
      ? await deps.diagnostics.request(evaluation, template)
      : { status: 'failed' as const, template, reason: 'this evaluation-tasks function has no report queue to send diagnostics to', at: iso(deps) };
    await updateEvaluation(deps.table, evaluation.evaluationId, { set: { report: link } });
    if (link.status === 'failed') {
      failed += 1;
      logger.warn('diagnostic report not made', { evaluationId: evaluation.evaluationId, template, reason: link.reason });
    } else {
      queued += 1;
    }
  }
  logger.info('diagnostic reports queued', { template, queued, failed });
  return { queued, failed };
}

/**
 * `diagnostic-failed`: `diagnose` failed even when retried (the table or the report queue kept
 * refusing). The evaluations that have no queued report record the failure and its reason; the
 * execution goes on to finish — a diagnostic never fails an evaluation.
 */
export async function diagnosticFailed(requestId: string, evaluationIds: readonly string[], error: { Error: string; Cause?: string | null }, deps: EvaluationTaskDeps): Promise<void> {
  const planned = await plannedRequest(requestId, deps);
  const template = planned.pipeline.onRegression?.template;
  const reason = `${error.Error}: ${describeCause(error)}`;
  for (const evaluation of await getEvaluations(deps.table, evaluationIds)) {
    if (evaluation.report?.status === 'queued') continue;
    await updateEvaluation(deps.table, evaluation.evaluationId, { set: { report: { status: 'failed', ...(template ? { template } : {}), reason, at: iso(deps) } } });
  }
  logger.warn('diagnostic reports failed', { template, reason, evaluations: evaluationIds.length });
}

/**
 * `finish`: closes one part. The next part is queued (parts run one after the other, so a later
 * part's points find the baselines an earlier part evaluated); after the last one the request is
 * `finished`. A part whose execution failed marks the request `failed` and fails the execution.
 */
export async function finish(requestId: string, part: number, error: { Error: string; Cause?: string | null } | undefined, deps: EvaluationTaskDeps): Promise<{ status: string }> {
  const planned = await plannedRequest(requestId, deps);
  const { request } = planned;
  const now = iso(deps);
  const parts = planned.plan.parts.length;
  // Conditioned on the parts finished so far: a retried finish changes nothing twice.
  await updateRequest(deps.table, requestId, { set: { partsFinished: part }, where: { partsFinished: part - 1 } });
  // A cancelled request queues no next part, and its status stays cancelled.
  if ((await getRequest(deps.table, requestId))?.status === 'cancelled') return { status: 'cancelled' };
  if (deps.github) await postPartResults(request, part, deps.github, deps);
  if (error) {
    const reason = `${error.Error}: ${describeCause(error)}`;
    await updateRequest(deps.table, requestId, { set: { status: 'failed', error: reason, finishedAt: now }, where: { status: { in: ['queued', 'running'] } } });
    throw new EvaluationPartFailedError(`part ${part} of request ${requestId} failed: ${reason}`);
  }
  if (part < parts) {
    await deps.queue.send(messageForPart(request, part + 1, parts));
    return { status: 'running' };
  }
  // Running, as start-evaluation leaves it before starting; still queued only when that write was lost.
  for (const from of ['running', 'queued'] as const) {
    if (await updateRequest(deps.table, requestId, { set: { status: 'finished', finishedAt: now }, where: { status: from } })) break;
  }
  return { status: 'finished' };
}

/**
 * Posts the verdicts so far (this part's and the earlier parts') back on GitHub; a failure is
 * logged and never fails the part (see github-results.ts).
 */
async function postPartResults(request: RequestRecord, part: number, github: GithubResultsDeps, deps: EvaluationTaskDeps): Promise<void> {
  try {
    const evaluations = (await allRequestEvaluations(deps.table, request.requestId)).filter((e) => e.part <= part);
    await postResults(request, evaluations, github);
  } catch (error) {
    logger.warn('results not posted to GitHub', { error: error as Error });
  }
}

// ---------------------------------------------------------------------------------------------

function correlation(input: TaskInput): Record<string, string> {
  switch (input.task) {
    case 'run-stage':
      return { evaluationId: input.run.evaluationId };
    case 'finish':
      return { requestId: input.state.requestId };
    default:
      return 'evaluationId' in input ? { requestId: input.requestId, evaluationId: input.evaluationId } : { requestId: input.requestId };
  }
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalFailure',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** An AWS SDK or network error that may pass when tried again. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof TransientTaskError) return false;
  const e = error as Error & { $retryable?: unknown; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable) return true;
  if (TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}
