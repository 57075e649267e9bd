import type { PipelineSpec } from '#config/schema';
import { evaluation as limits } from '#shared/resources';
import { pointKey, type CommitSet, type ParameterPoint, type RequestRecord } from '#store/evaluations';
import { commitSetId, evaluationIdFor, pointHash } from './identity.ts';

/**
 * A request's plan: its points (commit sets × dataset versions × parameter points), the baseline
 * points it must evaluate itself, which evaluation each point compares with, and how the points
 * are cut into parts. The plan is a pure function of the request record, so the API (to count and
 * name the parts) and every task of the state machine (to find their point) compute the same one.
 *
 * Baselines: the request's baseline commit set is the default-branch heads when it was made. A
 * point of another commit set compares with the baseline commit set's evaluation on the same
 * dataset version and parameter point — the one the baseline pointer named then, or else one this
 * request evaluates itself, first (`phase: 'baseline'`), so that it exists when the point is
 * compared. A point of the baseline commit set itself compares with what the pointer named then:
 * the evaluation of the previous heads.
 */

/** One point of a plan. */
export interface PlannedPoint {
  readonly evaluationId: string;
  readonly phase: 'baseline' | 'candidate';
  readonly part: number;
  readonly commitSet: CommitSet;
  readonly commitSetId: string;
  readonly isBaselineCommitSet: boolean;
  readonly dataset: string;
  readonly version: number;
  readonly parameters: ParameterPoint;
  readonly pointHash: string;
  /** The evaluation this point is compared with; absent: `no-baseline`. */
  readonly baselineEvaluationId?: string;
}

export interface Plan {
  /** Every point, baseline-phase points first. */
  readonly points: readonly PlannedPoint[];
  /** The points of each part (part n at index n − 1); parts run one after the other. */
  readonly parts: readonly (readonly PlannedPoint[])[];
}

/** What a plan is made from: the request record's fields. */
export type PlanInput = Pick<
  RequestRecord,
  'requestId' | 'commitSets' | 'datasetVersions' | 'parameterPoints' | 'repeats' | 'baselineCommitSet' | 'pointers'
>;

/**
 * History events one point is estimated to use: about 6 per task (StartPoint, each stage of each
 * repeat, RecordScores, Compare) and a few for its Map iterations.
 */
export function eventsPerPoint(stages: number, repeats: number): number {
  return 6 * (3 + stages * repeats) + 8;
}

/** Points one part may hold: at most 500, and few enough to stay under the history estimate. */
export function pointsPerPart(stages: number, repeats: number): number {
  const byHistory = Math.floor((limits.maxHistoryEventsPerExecution - 100) / eventsPerPoint(stages, repeats));
  return Math.max(1, Math.min(limits.maxPointsPerExecution, byHistory));
}

/** Plans a request (see the module comment). */
export function planRequest(request: PlanInput, pipeline: Pick<PipelineSpec, 'stages'>): Plan {
  const baseline = request.baselineCommitSet;
  const baselineId = baseline ? commitSetId(baseline) : undefined;
  const commitSets = dedupe(request.commitSets.map((commitSet) => ({ commitSet, id: commitSetId(commitSet) })), (c) => c.id);
  const parameterPoints = dedupe(request.parameterPoints.map((parameters) => ({ parameters, hash: pointHash(parameters) })), (p) => p.hash);
  const datasetVersions = dedupe(request.datasetVersions, (d) => `${d.dataset}@${d.version}`);

  const baselinePhase: PlannedPoint[] = [];
  const candidatePhase: PlannedPoint[] = [];
  for (const { dataset, version } of datasetVersions) {
    for (const { parameters, hash } of parameterPoints) {
      const key = pointKey(dataset, version, hash);
      const pointer = request.pointers[key];
      const point = (commitSet: CommitSet, id: string, phase: PlannedPoint['phase'], baselineEvaluationId: string | undefined): PlannedPoint => ({
        evaluationId: evaluationIdFor(request.requestId, `${id}|${key}`),
        phase,
        part: 0,
        commitSet,
        commitSetId: id,
        isBaselineCommitSet: id === baselineId,
        dataset,
        version,
        parameters,
        pointHash: hash,
        ...(baselineEvaluationId ? { baselineEvaluationId } : {}),
      });
      const othersHere = commitSets.some((c) => c.id !== baselineId);
      // The baseline commit set must be evaluated here first unless the pointer names it already.
      const evaluateBaseline = baseline !== undefined && baselineId !== undefined && othersHere && pointer?.commitSetId !== baselineId;
      const baselineHere = baselineId === undefined ? undefined : pointer?.commitSetId === baselineId ? pointer.evaluationId : evaluationIdFor(request.requestId, `${baselineId}|${key}`);
      if (evaluateBaseline) baselinePhase.push(point(baseline, baselineId, 'baseline', pointer?.evaluationId));
      for (const { commitSet, id } of commitSets) {
        if (id === baselineId) {
          if (!evaluateBaseline) candidatePhase.push(point(commitSet, id, 'candidate', pointer?.evaluationId));
        } else {
          candidatePhase.push(point(commitSet, id, 'candidate', baselineHere));
        }
      }
    }
  }

  const ordered = [...baselinePhase, ...candidatePhase];
  const size = pointsPerPart(pipeline.stages.length, request.repeats);
  const parts: PlannedPoint[][] = [];
  ordered.forEach((p, i) => {
    const part = Math.floor(i / size);
    (parts[part] ??= []).push({ ...p, part: part + 1 });
  });
  return { points: parts.flat(), parts };
}

function dedupe<T>(values: readonly T[], key: (value: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const k = key(value);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
