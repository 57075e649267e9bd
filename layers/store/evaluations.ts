import { z } from 'zod';
import { AlreadyExistsError, CorruptItemError, StatusConflictError } from './errors.ts';
import {
  baselineKey,
  EVALUATION_LINK_PREFIX,
  evaluationByCommitKey,
  evaluationByRequestKey,
  evaluationKey,
  evaluationsOfCommitPrefix,
  listings,
  repositoryPartition,
  requestHashKey,
  requestKey,
  requestPartition,
  type Key,
} from './keys.ts';
import { listLinked, writeLink } from './links.ts';
import { ConditionFailed, type Condition, type Item, MAX_PAGE, type Table } from './table.ts';

/**
 * Evaluation requests, evaluations and baseline pointers (DESIGN.md "Vocabulary", "Storage").
 * A request is recorded before it is queued and tracks its progress; each evaluation is one point
 * of a request, found by pipeline (gsi2), by the commit of each repository of its commit set and
 * by its request (link items); a baseline pointer names, per pipeline, dataset version and
 * parameter point, the succeeded evaluation of the newest default-branch commit set.
 */

/** ULIDs: time-ordered ids minted when a thing is first recorded. */
export const ulidSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'an id is a 26-character ULID');
const isoTime = z.iso.datetime({ offset: true });
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lower-case hex digits');
const count = z.number().int().nonnegative();

/** One sha per repository of a pipeline. */
export const commitSetSchema = z.record(z.string().min(1), z.string().min(1));
export type CommitSet = z.infer<typeof commitSetSchema>;

/** One point of a pipeline's parameter grid: parameter → value. */
export const parameterPointSchema = z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]));
export type ParameterPoint = z.infer<typeof parameterPointSchema>;

export const datasetVersionRefSchema = z.object({ dataset: z.string().min(1), version: z.number().int().positive() });
export type DatasetVersionRef = z.infer<typeof datasetVersionRefSchema>;

export const evaluationReasons = ['commit', 'data', 'backfill', 'sweep', 'rerun', 'manual'] as const;
export type EvaluationReason = (typeof evaluationReasons)[number];

export const triggerSchema = z.union([
  z.object({ repository: z.string().min(1), sha: z.string().min(1) }),
  z.object({ dataset: z.string().min(1), version: z.number().int().positive() }),
]);

/**
 * `queued` until its first part starts; `finished` when every part ran (evaluations may have
 * failed); `failed` when an execution itself failed; `cancelled` when someone cancelled it (its
 * executions stopped, what had not run counted as cancelled).
 */
export const requestStatuses = ['queued', 'running', 'finished', 'failed', 'cancelled'] as const;
export type RequestStatus = (typeof requestStatuses)[number];

/** A baseline pointer as the request saw it when it was made. */
export const pointerRefSchema = z.object({ evaluationId: ulidSchema, commitSetId: hex64 });

/** What a request wants reported when it finds regressions (the Reports issues render it). */
export const reportWantedSchema = z.object({
  status: z.literal('wanted'),
  /** The pipeline's `onRegression` template; absent when it names none. */
  template: z.string().optional(),
  evaluationIds: z.array(ulidSchema),
  at: isoTime,
});

/**
 * An evaluation's diagnostic report as the evaluation records it: `queued` once the report is
 * recorded and queued (the report itself then says how rendering went), `failed` with the reason
 * when it could not be made (no such template, the queue refused it). `wanted` is what evaluations
 * recorded before diagnostics were rendered.
 */
export const evaluationReportStatuses = ['wanted', 'queued', 'rendering', 'succeeded', 'failed'] as const;
export const evaluationReportSchema = z.object({
  status: z.enum(evaluationReportStatuses),
  reportId: ulidSchema.optional(),
  template: z.string().optional(),
  /** Why the diagnostic failed, when it did. */
  reason: z.string().optional(),
  at: isoTime.optional(),
});
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

export const requestRecordSchema = z.object({
  requestId: ulidSchema,
  pipeline: z.string().min(1),
  reason: z.enum(evaluationReasons),
  trigger: triggerSchema.optional(),
  /** sha256 of what is evaluated: pipeline, commit sets, dataset versions, points, repeats, baseline. */
  hash: hex64,
  /** 0 for the first request of this hash, n for its n-th deliberate rerun. */
  rerun: count,
  commitSets: z.array(commitSetSchema).min(1),
  datasetVersions: z.array(datasetVersionRefSchema).min(1),
  parameterPoints: z.array(parameterPointSchema).min(1),
  repeats: z.number().int().positive(),
  /** The default-branch heads when the request was made; absent while a repository has none. */
  baselineCommitSet: commitSetSchema.optional(),
  /** Where the baseline commit set stands in the order the heads moved (the sum of the heads' seqs). */
  baselineOrder: count.optional(),
  /** Baseline pointers when the request was made, by `<dataset>@<version>#<pointHash>`. */
  pointers: z.record(z.string(), pointerRefSchema),
  /** Points evaluated, baselines the request evaluates itself included. */
  total: count,
  /** Executions the request runs as, one after the other. */
  executions: z.array(z.string().min(1)).min(1),
  status: z.enum(requestStatuses),
  /** Evaluations that succeeded, failed, were cancelled; and succeeded ones flagged as regressions. */
  done: count,
  failed: count,
  cancelled: count,
  regressed: count,
  partsFinished: count,
  report: reportWantedSchema.optional(),
  /** Why an execution failed (not an evaluation: those are recorded on the evaluation). */
  error: z.string().optional(),
  /** Who cancelled it, and when. */
  cancelledBy: z.string().min(1).optional(),
  cancelledAt: isoTime.optional(),
  /** For a rerun of one evaluation (reason `rerun`): the evaluation run again, which stays as it was. */
  rerunOf: ulidSchema.optional(),
  createdBy: z.string().min(1),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
});
export type RequestRecord = z.infer<typeof requestRecordSchema>;

export const evaluationStatuses = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type EvaluationStatus = (typeof evaluationStatuses)[number];

export const verdicts = ['improved', 'unchanged', 'regressed', 'no-baseline'] as const;
export type Verdict = (typeof verdicts)[number];

/** A metric's score: the mean of its repeats, and their standard deviation when repeated. */
export const scoreSchema = z.object({ mean: z.number(), spread: z.number().optional(), n: z.number().int().positive().optional(), values: z.array(z.number()).min(1) });
export type Score = z.infer<typeof scoreSchema>;

/** One metric compared with the baseline. */
export const metricComparisonSchema = z.object({
  goal: z.enum(['max', 'min']),
  head: z.number().optional(),
  base: z.number().optional(),
  /** head − base. */
  delta: z.number().optional(),
  /** delta / |base|, when base is not 0. */
  relativeDelta: z.number().optional(),
  /** The change the tolerance allows: absolute + relative × |base|. */
  allowed: z.number().optional(),
  /** k × the combined standard error of head and base (scores.ts NOISE_K); absent when neither was repeated. */
  noise: z.number().optional(),
  verdict: z.enum(verdicts),
});
export type MetricComparison = z.infer<typeof metricComparisonSchema>;

export const stageTimingSchema = z.object({
  repeat: count,
  stage: count,
  name: z.string(),
  durationMs: z.number().nonnegative(),
  exitCode: z.number().int().nullable(),
  /** The digest-pinned image the stage ran (`<registry>/<repository>@sha256:…`), in AWS. */
  image: z.string().optional(),
});

export const failureSchema = z.object({
  /** The error name (`StageFailedError`, `States.Timeout`, …). */
  error: z.string(),
  /** What went wrong, for people. */
  reason: z.string(),
  stage: z.string().optional(),
  repeat: count.optional(),
  exitCode: z.number().int().nullable().optional(),
  /** The last lines of the failing stage's stderr. */
  stderrTail: z.string().optional(),
});
export type EvaluationFailure = z.infer<typeof failureSchema>;

export const evaluationRecordSchema = z.object({
  evaluationId: ulidSchema,
  requestId: ulidSchema,
  pipeline: z.string().min(1),
  part: z.number().int().positive(),
  /** `baseline`: evaluated so that the request's other points have a baseline to compare with. */
  phase: z.enum(['baseline', 'candidate']),
  commitSet: commitSetSchema,
  commitSetId: hex64,
  /** The commit set is the request's baseline commit set (the default-branch heads then). */
  isBaselineCommitSet: z.boolean(),
  /** Why its request was made, and the commit or dataset version that made it (commit intake). */
  reason: z.enum(evaluationReasons).optional(),
  trigger: triggerSchema.optional(),
  dataset: z.string().min(1),
  version: z.number().int().positive(),
  parameters: parameterPointSchema,
  pointHash: z.string().min(1),
  repeats: z.number().int().positive(),
  status: z.enum(evaluationStatuses),
  /** The evaluation compared with, when there is one. */
  baselineEvaluationId: ulidSchema.optional(),
  scores: z.record(z.string(), scoreSchema).optional(),
  comparison: z.record(z.string(), metricComparisonSchema).optional(),
  verdict: z.enum(verdicts).optional(),
  regressed: z.boolean().optional(),
  /** Why comparing failed, when it did (the evaluation itself succeeded). */
  comparisonError: z.string().optional(),
  failure: failureSchema.optional(),
  stages: z.array(stageTimingSchema).optional(),
  /** Where outputs, logs and stage results are in the data bucket. */
  artifactsPrefix: z.string().min(1),
  /** The diagnostic report of a regression (the pipeline's `onRegression` template), when one was made or tried. */
  report: evaluationReportSchema.optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime,
  finishedAt: isoTime.optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type EvaluationRecord = z.infer<typeof evaluationRecordSchema>;

export const baselinePointerSchema = z.object({
  pipeline: z.string().min(1),
  dataset: z.string().min(1),
  version: z.number().int().positive(),
  pointHash: z.string().min(1),
  evaluationId: ulidSchema,
  commitSet: commitSetSchema,
  commitSetId: hex64,
  /** The baseline commit set's place in the order the heads moved. */
  order: count,
  movedAt: isoTime,
});
export type BaselinePointer = z.infer<typeof baselinePointerSchema>;

/** The claim of a request hash. */
export const requestClaimSchema = z.object({ hash: hex64, requestId: ulidSchema, reruns: count, claimedAt: isoTime });
export type RequestClaim = z.infer<typeof requestClaimSchema>;

export const listEvaluationsQuerySchema = z.object({
  pipeline: z.string().min(1).optional(),
  dataset: z.string().min(1).optional(),
  status: z.enum(evaluationStatuses).optional(),
  /** With `commit`: the evaluations whose commit set holds this commit of this repository. */
  repository: z.string().min(1).optional(),
  commit: z.string().min(1).optional(),
  request: ulidSchema.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  cursor: z.string().min(1).optional(),
});
export type ListEvaluationsQuery = z.input<typeof listEvaluationsQuerySchema>;

export interface EvaluationPage {
  items: EvaluationRecord[];
  cursor?: string;
}

const MAX_RACE_ATTEMPTS = 10;

function parse<T>(schema: z.ZodType<T>, item: Item, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored ${what} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}

/** The key of a baseline pointer's point: `<dataset>@<version>#<pointHash>`. */
export const pointKey = (dataset: string, version: number, pointHash: string): string => `${dataset}@${version}#${pointHash}`;

// ---------------------------------------------------------------------------------------------
// Request hash claims

/**
 * Claims a request hash for `requestId`. The first claim wins; a later one gets the existing claim
 * back (`created: false`), which names the request that already asked for this evaluation.
 */
export async function claimRequestHash(table: Table, hash: string, requestId: string, at = new Date().toISOString()): Promise<{ claim: RequestClaim; created: boolean }> {
  const claim: RequestClaim = { hash, requestId, reruns: 0, claimedAt: at };
  const written = await table.put({ ...requestHashKey(hash), kind: 'request-claim', ...claim }, { ifNotExists: true });
  if (!(written instanceof ConditionFailed)) return { claim, created: true };
  const item = await table.get(requestHashKey(hash));
  if (!item) throw new CorruptItemError(`request hash ${hash} was refused as claimed but cannot be read`, { hash });
  return { claim: parse(requestClaimSchema, item, `claim of request hash ${hash}`), created: false };
}

/** Counts one more deliberate rerun of a claimed hash and returns its number (1, 2, …). */
export async function countRerun(table: Table, hash: string): Promise<number> {
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const item = await table.get(requestHashKey(hash));
    if (!item) throw new CorruptItemError(`request hash ${hash} has no claim to count a rerun on`, { hash });
    const claim = parse(requestClaimSchema, item, `claim of request hash ${hash}`);
    const updated = await table.update(requestHashKey(hash), { set: { reruns: claim.reruns + 1 }, where: { reruns: claim.reruns } });
    if (!(updated instanceof ConditionFailed)) return claim.reruns + 1;
  }
  throw new StatusConflictError(`reruns of request hash ${hash} kept changing`, { hash });
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Records a request; an id already recorded is an {@link AlreadyExistsError}. */
export async function createRequest(table: Table, record: RequestRecord): Promise<RequestRecord> {
  const request = requestRecordSchema.parse(record);
  const written = await table.put(
    { ...request, ...requestKey(request.requestId), kind: 'request', gsi1pk: listings.requestsOf(request.pipeline), gsi1sk: request.createdAt },
    { ifNotExists: true },
  );
  if (written instanceof ConditionFailed) throw new AlreadyExistsError(`request ${request.requestId} is already recorded`, { requestId: request.requestId });
  return request;
}

/** The request, or `undefined`. */
export async function getRequest(table: Table, requestId: string): Promise<RequestRecord | undefined> {
  const item = await table.get(requestKey(requestId));
  return item === undefined ? undefined : parse(requestRecordSchema, item, `request ${requestId}`);
}

/** A change to a request: attributes to set, counters to add to, and what it must be now. */
export interface RequestChange {
  readonly set?: Partial<Omit<RequestRecord, 'requestId'>>;
  readonly add?: Partial<Record<'done' | 'failed' | 'cancelled' | 'regressed' | 'partsFinished', number>>;
  readonly where?: Condition;
}

/** Changes a request; `undefined` when `where` does not hold (or the request is missing). */
export async function updateRequest(table: Table, requestId: string, change: RequestChange): Promise<RequestRecord | undefined> {
  const updated = await table.update(requestKey(requestId), {
    set: { ...change.set, updatedAt: change.set?.updatedAt ?? new Date().toISOString() },
    add: change.add,
    where: change.where,
  });
  return updated instanceof ConditionFailed ? undefined : parse(requestRecordSchema, updated, `request ${requestId}`);
}

// ---------------------------------------------------------------------------------------------
// Evaluations

function evaluationItem(record: EvaluationRecord): Item & Key {
  return {
    ...record,
    ...evaluationKey(record.evaluationId),
    kind: 'evaluation',
    gsi1pk: listings.evaluations,
    gsi1sk: `${record.createdAt}#${record.evaluationId}`,
    gsi2pk: listings.evaluationsOf(record.pipeline),
    gsi2sk: `${record.createdAt}#${record.evaluationId}`,
  };
}

/**
 * Records an evaluation and its links (by request, by the commit of each repository). When it is
 * recorded already (a retried task) the stored one comes back with `created: false`; the links are
 * written again in any case, so a crash between the record and its links heals on the retry.
 */
export async function createEvaluation(table: Table, record: EvaluationRecord): Promise<{ evaluation: EvaluationRecord; created: boolean }> {
  const evaluation = evaluationRecordSchema.parse(record);
  const written = await table.put(evaluationItem(evaluation), { ifNotExists: true });
  const stored = written instanceof ConditionFailed ? await getEvaluation(table, evaluation.evaluationId) : evaluation;
  if (!stored) throw new CorruptItemError(`evaluation ${evaluation.evaluationId} was refused as existing but cannot be read`, { evaluationId: evaluation.evaluationId });
  const target = evaluationKey(evaluation.evaluationId);
  const linked = { createdAt: evaluation.createdAt };
  await writeLink(table, evaluationByRequestKey(evaluation.requestId, evaluation.evaluationId), target, linked);
  for (const [repository, sha] of Object.entries(evaluation.commitSet)) {
    await writeLink(table, evaluationByCommitKey(repository, sha, evaluation.evaluationId), target, linked);
  }
  return { evaluation: stored, created: !(written instanceof ConditionFailed) };
}

/** The evaluation, or `undefined`. */
export async function getEvaluation(table: Table, evaluationId: string): Promise<EvaluationRecord | undefined> {
  const item = await table.get(evaluationKey(evaluationId));
  return item === undefined ? undefined : parse(evaluationRecordSchema, item, `evaluation ${evaluationId}`);
}

/** The evaluations with these ids that exist, in the order asked. */
export async function getEvaluations(table: Table, evaluationIds: readonly string[]): Promise<EvaluationRecord[]> {
  const items = await table.getMany(evaluationIds.map(evaluationKey));
  return items.map((item) => parse(evaluationRecordSchema, item, `evaluation ${String(item.evaluationId)}`));
}

/** Changes an evaluation; `undefined` when `where` does not hold (or it is missing). */
export async function updateEvaluation(
  table: Table,
  evaluationId: string,
  change: { set: Partial<Omit<EvaluationRecord, 'evaluationId'>>; remove?: readonly (keyof EvaluationRecord)[]; where?: Condition },
): Promise<EvaluationRecord | undefined> {
  const updated = await table.update(evaluationKey(evaluationId), {
    set: { ...change.set, updatedAt: change.set.updatedAt ?? new Date().toISOString() },
    remove: change.remove,
    where: change.where,
  });
  return updated instanceof ConditionFailed ? undefined : parse(evaluationRecordSchema, updated, `evaluation ${evaluationId}`);
}

/**
 * One page of evaluations, newest first: of a request (its links), of a commit of one repository
 * (its links), of a pipeline (gsi2) or all of them (gsi1). Dataset and status narrow the page.
 */
export async function listEvaluations(table: Table, query: ListEvaluationsQuery = {}): Promise<EvaluationPage> {
  const { pipeline, dataset, status, repository, commit, request, limit, cursor } = listEvaluationsQuerySchema.parse(query);
  const keep = (e: EvaluationRecord) =>
    (pipeline === undefined || e.pipeline === pipeline) && (dataset === undefined || e.dataset === dataset) && (status === undefined || e.status === status);
  if (request !== undefined || (repository !== undefined && commit !== undefined)) {
    const linked = await listLinked(table, {
      ...(request !== undefined
        ? { partition: requestPartition(request), beginsWith: EVALUATION_LINK_PREFIX }
        : { partition: repositoryPartition(repository!), beginsWith: evaluationsOfCommitPrefix(commit!) }),
      order: 'desc',
      limit,
      cursor,
    });
    const items = linked.items.map((item) => parse(evaluationRecordSchema, item, `evaluation ${String(item.evaluationId)}`)).filter(keep);
    return { items, ...(linked.cursor ? { cursor: linked.cursor } : {}) };
  }
  const filter: Record<string, string> = { ...(dataset ? { dataset } : {}), ...(status ? { status } : {}) };
  const page = await table.query({
    ...(pipeline ? { index: 'gsi2', partition: listings.evaluationsOf(pipeline) } : { index: 'gsi1', partition: listings.evaluations }),
    order: 'desc',
    filter,
    limit,
    cursor,
  });
  return { items: page.items.map((item) => parse(evaluationRecordSchema, item, `evaluation ${String(item.evaluationId)}`)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** Every evaluation of a request (all pages), in link order. */
export async function allRequestEvaluations(table: Table, requestId: string): Promise<EvaluationRecord[]> {
  const all: EvaluationRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listLinked(table, { partition: requestPartition(requestId), beginsWith: EVALUATION_LINK_PREFIX, limit: MAX_PAGE, cursor });
    all.push(...page.items.map((item) => parse(evaluationRecordSchema, item, `evaluation ${String(item.evaluationId)}`)));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

// ---------------------------------------------------------------------------------------------
// Baseline pointers

/** The baseline pointer of a pipeline on one dataset version and parameter point, or `undefined`. */
export async function getBaseline(table: Table, pipeline: string, dataset: string, version: number, pointHash: string): Promise<BaselinePointer | undefined> {
  const item = await table.get(baselineKey(pipeline, dataset, version, pointHash));
  return item === undefined ? undefined : parse(baselinePointerSchema, item, `baseline of ${pipeline} on ${pointKey(dataset, version, pointHash)}`);
}

/**
 * Moves a baseline pointer to `candidate` when it is newer in the order the heads moved (or, at
 * the same place, a later evaluation of the same commit set: a rerun). An older candidate — a
 * backfill — never replaces a newer baseline. Each write is conditioned on what was read, so of two
 * racing candidates the newer one ends up named. Returns whether the pointer now names `candidate`.
 */
export async function advanceBaseline(table: Table, candidate: BaselinePointer): Promise<boolean> {
  const pointer = baselinePointerSchema.parse(candidate);
  const key = baselineKey(pointer.pipeline, pointer.dataset, pointer.version, pointer.pointHash);
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const current = await getBaseline(table, pointer.pipeline, pointer.dataset, pointer.version, pointer.pointHash);
    if (current === undefined) {
      const created = await table.put({ ...key, kind: 'baseline', ...pointer }, { ifNotExists: true });
      if (!(created instanceof ConditionFailed)) return true;
      continue;
    }
    if (current.evaluationId === pointer.evaluationId) return true;
    const newer = pointer.order > current.order || (pointer.order === current.order && pointer.commitSetId === current.commitSetId && pointer.evaluationId > current.evaluationId);
    if (!newer) return false;
    const written = await table.put({ ...key, kind: 'baseline', ...pointer }, { where: { evaluationId: current.evaluationId } });
    if (!(written instanceof ConditionFailed)) return true;
  }
  throw new StatusConflictError(`the baseline of ${pointer.pipeline} on ${pointKey(pointer.dataset, pointer.version, pointer.pointHash)} kept changing`, {
    pipeline: pointer.pipeline,
  });
}
