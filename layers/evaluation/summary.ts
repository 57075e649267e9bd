import type { PipelineSpec } from '#config/schema';
import type { CommitSet, EvaluationRecord, ParameterPoint } from '#store/evaluations';

/**
 * The summary of a request (`GET /evaluations/requests/{id}`): per metric of the pipeline, its
 * best succeeded points so far — highest mean for a `max` metric, lowest for a `min` one — with
 * where they ran, their parameters and their scores. For a sweep, the top of each list is the
 * parameter point to keep.
 */

/** Points listed per metric. */
export const BEST_POINTS = 5;

export interface BestPoint {
  readonly evaluationId: string;
  readonly commitSet: CommitSet;
  readonly dataset: string;
  readonly version: number;
  readonly parameters: ParameterPoint;
  readonly mean: number;
  readonly spread?: number;
  readonly n: number;
}

export type RequestSummary = Record<string, { readonly goal: 'max' | 'min'; readonly best: BestPoint[] }>;

/** The best points of each metric among the succeeded evaluations. */
export function summarize(evaluations: readonly EvaluationRecord[], metrics: PipelineSpec['metrics'], best = BEST_POINTS): RequestSummary {
  const succeeded = evaluations.filter((e) => e.status === 'succeeded' && e.scores);
  const summary: RequestSummary = {};
  for (const [name, spec] of Object.entries(metrics)) {
    const scored = succeeded.filter((e) => e.scores![name] !== undefined);
    const sign = spec.goal === 'max' ? -1 : 1;
    scored.sort((a, b) => sign * (a.scores![name]!.mean - b.scores![name]!.mean) || (a.evaluationId < b.evaluationId ? -1 : 1));
    summary[name] = {
      goal: spec.goal,
      best: scored.slice(0, best).map((e) => {
        const score = e.scores![name]!;
        return {
          evaluationId: e.evaluationId,
          commitSet: e.commitSet,
          dataset: e.dataset,
          version: e.version,
          parameters: e.parameters,
          mean: score.mean,
          ...(score.spread !== undefined ? { spread: score.spread } : {}),
          n: score.n ?? score.values.length,
        };
      }),
    };
  }
  return summary;
}
