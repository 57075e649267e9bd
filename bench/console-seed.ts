import { ulid } from 'ulid';
import type { SymbiontConfig } from '#config/schema';
import { commitSetId, evaluationIdFor, pointHash, requestHash, sha256Hex } from '#evaluation/identity';
import { gridPoints, pipelineRepositories, reportCommit } from '#evaluation/requests';
import { compareScores, scoreRepeats } from '#evaluation/scores';
import { advanceBaseline, createEvaluation, createRequest, pointKey, type BaselinePointer, type EvaluationRecord, type EvaluationStatus, type RequestRecord } from '#store/evaluations';
import type { Table } from '#store/table';

/**
 * Many evaluations of one pipeline, written into the table through the store's own functions (so
 * the list route, the trend route and the console read them as they read real ones): the
 * repositories' default-branch heads through `reportCommit` (commit records, `HEAD`, `HEADSEQ#`
 * steps), one finished request per head of the trend repository, its evaluations through
 * `createEvaluation` (the item, its gsi1/gsi2 listings and its links by request and by commit),
 * scores and comparisons made by the scoring code, and the baseline pointers moved by
 * `advanceBaseline`.
 *
 * Per head: the pipeline's parameter points on the latest and the previous dataset version
 * (`commit` evaluations, compared with the previous head's), then reruns, backfills and manual
 * evaluations of the same points until the head has its share; some fail, some are cancelled.
 * The metric drifts slowly and jumps on every `regressionEvery`-th head: those heads regress.
 */

const REGRESSION_STEP = 0.1;

export interface SeedOptions {
  readonly pipeline: string;
  /** The dataset evaluated on; its `latestVersion` and, when there is one, the version before. */
  readonly dataset: string;
  readonly latestVersion: number;
  readonly evaluations: number;
  /** Default-branch heads of the pipeline's trend repository (its last stage's). */
  readonly heads: number;
  /** When the first head was pushed; one head a minute after it. @default 2030-01-01 */
  readonly start?: Date;
  /** Every this many heads of the trend repository the metric jumps: a regression. @default 25 */
  readonly regressionEvery?: number;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
}

export interface SeedResult {
  readonly evaluations: number;
  readonly requests: number;
  readonly heads: number;
  /** Trend repository heads whose commit evaluations regressed. */
  readonly regressedHeads: number;
  /** Evaluations flagged as regressions (commit evaluations and their reruns). */
  readonly regressions: number;
  readonly failed: number;
  readonly cancelled: number;
  /** The metric the trend shows: the pipeline's first. */
  readonly metric: string;
  /** Whose heads: the pipeline's last stage's repository. */
  readonly repository: string;
}

/** A deterministic 40-hex commit sha. */
export const seedSha = (repository: string, n: number): string => sha256Hex(`${repository}#${n}`).slice(0, 40);

/** The metric's value at head `i` on dataset version `version`: a slow drift, a jump on every `regressionEvery`-th head. */
export function seedMetric(i: number, version: number, latestVersion: number, regressionEvery = 25): number {
  const drift = 1 + 0.05 * Math.sin(i / 15) - 0.0004 * i;
  return drift + (i > 0 && i % regressionEvery === 0 ? REGRESSION_STEP : 0) + (latestVersion - version) * 0.03;
}

/** How many evaluations head `i` of `heads` gets so that they add up to `total`. */
export function evaluationsOfHead(i: number, heads: number, total: number): number {
  return Math.floor(((i + 1) * total) / heads) - Math.floor((i * total) / heads);
}

/** Runs `work` over `items` with at most `concurrency` at once. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export async function seedEvaluations(table: Table, config: SymbiontConfig, options: SeedOptions): Promise<SeedResult> {
  const pipeline = config.pipelines[options.pipeline];
  if (!pipeline) throw new Error(`the config has no pipeline ${options.pipeline} to seed evaluations of`);
  if (!pipeline.datasets.includes(options.dataset)) throw new Error(`pipeline ${options.pipeline} is not evaluated on ${options.dataset}`);
  if (options.heads < 1 || options.evaluations < options.heads) throw new Error(`seed at least one evaluation per head: ${options.evaluations} evaluations for ${options.heads} heads`);
  const metric = Object.keys(pipeline.metrics)[0];
  if (!metric) throw new Error(`pipeline ${options.pipeline} declares no metric`);
  const repositories = pipelineRepositories(pipeline);
  const repository = pipeline.stages.at(-1)!.repository;
  const others = repositories.filter((r) => r !== repository);
  const concurrency = options.concurrency ?? 16;
  const start = (options.start ?? new Date(Date.UTC(2030, 0, 1))).getTime();
  const minute = 60_000;
  const deps = { table, config };
  const requester = { name: 'bench', role: 'admin' } as const;

  // The other repositories' heads first (one commit each), then the trend repository's, in order.
  const fixed: Record<string, string> = {};
  for (const other of others) {
    fixed[other] = seedSha(other, 0);
    await reportCommit({ repository: other, sha: fixed[other]!, pushedAt: new Date(start - minute).toISOString() }, requester, deps);
  }
  const points = gridPoints(pipeline);
  const versions = options.latestVersion > 1 ? [options.latestVersion - 1, options.latestVersion] : [options.latestVersion];
  const spec = pipeline.metrics;
  let evaluations = 0;
  let regressions = 0;
  let failed = 0;
  let cancelled = 0;
  let regressedHeads = 0;
  /** The previous head's succeeded commit evaluation per `<version>#<pointHash>`: the baseline. */
  let baselines = new Map<string, EvaluationRecord>();
  const requests: RequestRecord[] = [];
  const writes: EvaluationRecord[] = [];
  const pointers: BaselinePointer[][] = [];

  for (let i = 0; i < options.heads; i++) {
    const sha = seedSha(repository, i + 1);
    const pushedAt = new Date(start + i * minute).toISOString();
    const { head } = await reportCommit({ repository, sha, pushedAt }, requester, deps);
    const commitSet = { ...fixed, [repository]: sha };
    const setId = commitSetId(commitSet);
    const order = others.length + (head?.seq ?? i + 1);
    const requestAt = start + i * minute + 5_000;
    const requestId = ulid(requestAt);
    const share = evaluationsOfHead(i, options.heads, options.evaluations);

    // The commit evaluations first (every point on every version), then others of the same points.
    const records: EvaluationRecord[] = [];
    const current = new Map<string, EvaluationRecord>();
    for (let k = 0; k < share; k++) {
      const point = points[k % points.length]!;
      const version = versions[Math.floor(k / points.length) % versions.length]!;
      const first = k < points.length * versions.length;
      const status: EvaluationStatus = first ? 'succeeded' : k % 17 === 5 ? 'failed' : k % 41 === 7 ? 'cancelled' : 'succeeded';
      const at = new Date(requestAt + 1_000 + k * 50).toISOString();
      const evaluationId = evaluationIdFor(requestId, `${k}#${pointKey(options.dataset, version, pointHash(point))}`);
      const value = seedMetric(i, version, options.latestVersion, options.regressionEvery) + ((k * 7919) % 11) * 0.0005 + (k % points.length) * 0.01;
      const key = `${version}#${pointHash(point)}`;
      const base = baselines.get(key);
      const record: EvaluationRecord = {
        evaluationId,
        requestId,
        pipeline: options.pipeline,
        part: 1,
        phase: 'candidate',
        commitSet,
        commitSetId: setId,
        isBaselineCommitSet: true,
        reason: first ? 'commit' : (['rerun', 'backfill', 'manual'] as const)[k % 3]!,
        trigger: { repository, sha },
        dataset: options.dataset,
        version,
        parameters: point,
        pointHash: pointHash(point),
        repeats: 1,
        status,
        artifactsPrefix: `evaluations/${evaluationId}/`,
        createdAt: at,
        updatedAt: at,
        startedAt: at,
        finishedAt: at,
        durationMs: 1_000 + ((k * 37) % 400),
      };
      if (status === 'succeeded') {
        const scores = scoreRepeats([{ [metric]: value }], [metric]);
        const compared = compareScores(scores, base?.scores, spec);
        Object.assign(record, {
          scores,
          comparison: compared.metrics,
          verdict: compared.verdict,
          regressed: compared.regressed,
          ...(base ? { baselineEvaluationId: base.evaluationId } : {}),
          stages: pipeline.stages.map((stage, s) => ({ repeat: 0, stage: s, name: stage.repository, durationMs: 400 + s * 100, exitCode: 0 })),
        });
        if (compared.regressed) regressions++;
        if (first) current.set(key, record);
      } else if (status === 'failed') {
        record.failure = { error: 'StageFailedError', reason: `stage ${repository} exited with 1`, stage: repository, repeat: 0, exitCode: 1, stderrTail: 'Traceback: seeded failure' };
        failed++;
      } else cancelled++;
      records.push(record);
    }
    if ([...current.values()].some((e) => e.regressed)) regressedHeads++;

    const counts = { done: records.filter((e) => e.status === 'succeeded').length, failed: records.filter((e) => e.status === 'failed').length, cancelled: records.filter((e) => e.status === 'cancelled').length };
    const identity = { pipeline: options.pipeline, commitSets: [commitSet], datasetVersions: versions.map((version) => ({ dataset: options.dataset, version })), parameterPoints: points, repeats: 1 };
    const request: RequestRecord = {
      requestId,
      pipeline: options.pipeline,
      reason: 'commit',
      trigger: { repository, sha },
      hash: requestHash(identity),
      rerun: 0,
      commitSets: [commitSet],
      datasetVersions: identity.datasetVersions,
      parameterPoints: points,
      repeats: 1,
      baselineCommitSet: commitSet,
      baselineOrder: order,
      pointers: Object.fromEntries([...baselines.values()].map((e) => [pointKey(e.dataset, e.version, e.pointHash), { evaluationId: e.evaluationId, commitSetId: e.commitSetId }])),
      total: share,
      executions: [`${options.pipeline}-${requestId.toLowerCase()}`],
      status: 'finished',
      ...counts,
      regressed: records.filter((e) => e.regressed).length,
      partsFinished: 1,
      createdBy: requester.name,
      createdAt: new Date(requestAt).toISOString(),
      updatedAt: records.at(-1)!.updatedAt,
      startedAt: new Date(requestAt).toISOString(),
      finishedAt: records.at(-1)!.updatedAt,
    };
    requests.push(request);
    writes.push(...records);
    evaluations += records.length;
    // The succeeded commit evaluations of this head become the baselines of the next.
    pointers.push([...current.values()].map((e) => ({ pipeline: options.pipeline, dataset: e.dataset, version: e.version, pointHash: e.pointHash, evaluationId: e.evaluationId, commitSet, commitSetId: setId, order, movedAt: e.updatedAt })));
    baselines = new Map([...baselines, ...current]);
  }

  // Written once planned: every head's evaluations in one pool, the pointers moved head after head.
  await inParallel(requests, concurrency, (request) => createRequest(table, request));
  await inParallel(writes, concurrency, (record) => createEvaluation(table, record));
  for (const moves of pointers) await inParallel(moves, concurrency, (pointer) => advanceBaseline(table, pointer));
  return { evaluations, requests: options.heads, heads: options.heads, regressedHeads, regressions, failed, cancelled, metric, repository };
}
