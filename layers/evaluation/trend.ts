import type { PipelineSpec, SymbiontConfig } from '#config/schema';
import { listHeadHistory, type HeadStep } from '#store/commits';
import { listEvaluations, type EvaluationRecord } from '#store/evaluations';
import type { Table } from '#store/table';
import { getLatestVersion } from '#store/versions';
import { InvalidEvaluationRequestError } from './errors.ts';
import { pointHash } from './identity.ts';
import { pipelineRepositories } from './requests.ts';

/**
 * A metric's trend (`GET /pipelines/{name}/trend`), by Query only: the repository's head history
 * (its `HEADSEQ#` items, newest first) and, per commit, its evaluations (the commit's evaluation
 * links). Two views, each one series per parameter point:
 * - over the default branch: the metric of each head, oldest first, on one dataset version;
 * - over dataset versions: the metric of the newest head on every version it was evaluated on.
 * Each point carries the baseline it was compared with, the tolerance band around that baseline
 * (`base ± (absolute + relative × |base|)`) and whether it was flagged as a regression — as the
 * evaluation recorded them when it was compared.
 */

/** Heads shown at most. */
export const MAX_TREND_COMMITS = 200;

export interface TrendQuery {
  readonly pipeline: string;
  /** @default the pipeline's first metric */
  readonly metric?: string;
  /** @default the pipeline's first dataset */
  readonly dataset?: string;
  /** Whose default branch: @default the repository of the pipeline's last stage */
  readonly repository?: string;
  /** The version the commit view is on. @default the latest */
  readonly version?: number;
  /** Heads, newest first. @default 50 */
  readonly limit?: number;
}

export interface TrendPoint {
  readonly evaluationId: string;
  readonly value: number;
  readonly spread?: number;
  readonly n: number;
  /** The baseline's value, when the evaluation had one. */
  readonly base?: number;
  /** The tolerance band around the baseline. */
  readonly band?: { readonly low: number; readonly high: number };
  readonly verdict?: string;
  readonly regressed: boolean;
}

export interface TrendSeries<T> {
  readonly parameters: Record<string, string | number | boolean>;
  readonly points: (TrendPoint & T)[];
}

export interface Trend {
  readonly pipeline: string;
  readonly metric: string;
  readonly goal: 'max' | 'min';
  readonly tolerance: { readonly absolute: number; readonly relative: number };
  readonly dataset: string;
  readonly repository: string;
  /** What else the trend could show, for a picker: the pipeline's metrics, datasets and repositories. */
  readonly metrics: { readonly name: string; readonly goal: 'max' | 'min' }[];
  readonly datasets: string[];
  readonly repositories: string[];
  /** Over the default branch's heads, oldest first, on `version`. */
  readonly commits: { readonly version: number; readonly series: TrendSeries<{ sha: string; seq: number; pushedAt: string }>[] };
  /** Over dataset versions, oldest first, at the newest head `sha`. */
  readonly versions: { readonly sha?: string; readonly series: TrendSeries<{ version: number }>[] };
}

export async function trend(asked: TrendQuery, deps: { table: Table; config: Pick<SymbiontConfig, 'pipelines'> }): Promise<Trend> {
  const pipeline: PipelineSpec | undefined = Object.hasOwn(deps.config.pipelines, asked.pipeline) ? deps.config.pipelines[asked.pipeline] : undefined;
  if (!pipeline) {
    throw new InvalidEvaluationRequestError(`no pipeline is named ${asked.pipeline}; known pipelines: ${Object.keys(deps.config.pipelines).join(', ') || 'none'}`, { pipeline: asked.pipeline });
  }
  const query = { ...asked, metric: asked.metric ?? Object.keys(pipeline.metrics)[0] ?? '', dataset: asked.dataset ?? pipeline.datasets[0] ?? '' };
  const spec = Object.hasOwn(pipeline.metrics, query.metric) ? pipeline.metrics[query.metric] : undefined;
  if (!spec) throw new InvalidEvaluationRequestError(`pipeline ${query.pipeline} has no metric ${query.metric}; it has ${Object.keys(pipeline.metrics).join(', ')}`, { metric: query.metric });
  if (!pipeline.datasets.includes(query.dataset)) {
    throw new InvalidEvaluationRequestError(`pipeline ${query.pipeline} is evaluated on ${pipeline.datasets.join(', ')}, not on ${query.dataset}`, { dataset: query.dataset });
  }
  const repositories = pipelineRepositories(pipeline);
  const repository = query.repository ?? pipeline.stages.at(-1)!.repository;
  if (!repositories.includes(repository)) {
    throw new InvalidEvaluationRequestError(`repository ${repository} is not a repository of pipeline ${query.pipeline} (${repositories.join(', ')})`, { repository });
  }
  const version = query.version ?? (await getLatestVersion(deps.table, query.dataset))?.version ?? 0;
  const tolerance = { absolute: spec.tolerance?.absolute ?? 0, relative: spec.tolerance?.relative ?? 0 };

  const heads = (await listHeadHistory(deps.table, repository, { limit: Math.min(query.limit ?? 50, MAX_TREND_COMMITS), order: 'desc' })).reverse();
  const evaluationsOf = async (step: HeadStep) => {
    const found: EvaluationRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await listEvaluations(deps.table, { repository, commit: step.sha, limit: 100, cursor });
      found.push(...page.items.filter((e) => e.pipeline === query.pipeline && e.dataset === query.dataset && e.status === 'succeeded' && e.scores?.[query.metric]));
      cursor = page.cursor;
    } while (cursor);
    return found;
  };
  const perHead = await Promise.all(heads.map(async (step) => ({ step, evaluations: await evaluationsOf(step) })));

  const pointOf = (e: EvaluationRecord): TrendPoint => {
    const score = e.scores![query.metric]!;
    const compared = e.comparison?.[query.metric];
    const base = compared?.base;
    const allowed = base === undefined ? undefined : tolerance.absolute + tolerance.relative * Math.abs(base);
    return {
      evaluationId: e.evaluationId,
      value: score.mean,
      ...(score.spread !== undefined ? { spread: score.spread } : {}),
      n: score.n ?? score.values.length,
      ...(base !== undefined ? { base, band: { low: base - allowed!, high: base + allowed! } } : {}),
      ...(compared ? { verdict: compared.verdict } : {}),
      regressed: compared?.verdict === 'regressed',
    };
  };
  /** The newest evaluation per parameter point (as the head it was, when there is one). */
  const newestByPoint = (evaluations: readonly EvaluationRecord[]) => {
    const byPoint = new Map<string, EvaluationRecord>();
    for (const e of [...evaluations].sort((a, b) => Number(a.isBaselineCommitSet) - Number(b.isBaselineCommitSet) || (a.createdAt < b.createdAt ? -1 : 1))) {
      byPoint.set(pointHash(e.parameters), e);
    }
    return byPoint;
  };

  const commitSeries = new Map<string, TrendSeries<{ sha: string; seq: number; pushedAt: string }>>();
  for (const { step, evaluations } of perHead) {
    for (const [hash, e] of newestByPoint(evaluations.filter((x) => x.version === version))) {
      const series = commitSeries.get(hash) ?? { parameters: e.parameters, points: [] };
      series.points.push({ ...pointOf(e), sha: step.sha, seq: step.seq, pushedAt: step.pushedAt });
      commitSeries.set(hash, series);
    }
  }

  const newest = perHead.at(-1);
  const versionSeries = new Map<string, TrendSeries<{ version: number }>>();
  if (newest) {
    const versions = [...new Set(newest.evaluations.map((e) => e.version))].sort((a, b) => a - b);
    for (const v of versions) {
      for (const [hash, e] of newestByPoint(newest.evaluations.filter((x) => x.version === v))) {
        const series = versionSeries.get(hash) ?? { parameters: e.parameters, points: [] };
        series.points.push({ ...pointOf(e), version: v });
        versionSeries.set(hash, series);
      }
    }
  }

  return {
    pipeline: query.pipeline,
    metric: query.metric,
    goal: spec.goal,
    tolerance,
    dataset: query.dataset,
    repository,
    metrics: Object.entries(pipeline.metrics).map(([name, metric]) => ({ name, goal: metric.goal })),
    datasets: [...pipeline.datasets],
    repositories,
    commits: { version, series: [...commitSeries.values()] },
    versions: { ...(newest ? { sha: newest.step.sha } : {}), series: [...versionSeries.values()] },
  };
}
