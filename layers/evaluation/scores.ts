import type { PipelineSpec } from '#config/schema';
import type { MetricComparison, Score, Verdict } from '#store/evaluations';
import { InvalidMetricsError } from './errors.ts';

/**
 * Scores and their comparison with a baseline. A stage's `metrics.json` is an object of numbers;
 * a point run `repeats` times scores each metric by the mean of its repeats (and their standard
 * sample standard deviation as the spread, and their number n). Each metric of the pipeline is
 * then compared with the baseline's score: the change the tolerance allows is
 * `absolute + relative × |base|`. Repeated scores are noisy, so the change must also stand out of
 * the noise: its size must exceed `NOISE_K` × the combined standard error of the two means,
 * `sqrt(spread_head² / n_head + spread_base² / n_base)` (a score run once adds nothing). A change
 * beyond both, in the metric's goal direction, is `improved`, against it `regressed`; anything
 * else is `unchanged`.
 */

/** How many combined standard errors a change must exceed to count (about 95 % for a normal difference). */
export const NOISE_K = 2;

/** Reads a `metrics.json` text: a JSON object whose values are finite numbers. */
export function parseMetrics(text: string, where: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidMetricsError(`${where} is not JSON (${(error as Error).message}); write {"metric": number, …}`, undefined, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidMetricsError(`${where} must be a JSON object of numbers, like {"mae": 1.25}`);
  }
  const metrics: Record<string, number> = {};
  const bad: string[] = [];
  for (const [name, metric] of Object.entries(value as Record<string, unknown>)) {
    if (typeof metric === 'number' && Number.isFinite(metric)) metrics[name] = metric;
    else bad.push(`${name} is ${JSON.stringify(metric) ?? String(metric)}`);
  }
  if (bad.length > 0) throw new InvalidMetricsError(`${where} must hold only finite numbers: ${bad.join(', ')}`);
  return metrics;
}

/**
 * Scores from the metrics of each repeat. Every metric the pipeline declares must be in every
 * repeat; other metrics are kept when every repeat has them.
 */
export function scoreRepeats(repeats: readonly Record<string, number>[], declared: readonly string[]): Record<string, Score> {
  if (repeats.length === 0) throw new InvalidMetricsError('no repeat produced metrics');
  for (const [i, metrics] of repeats.entries()) {
    const missing = declared.filter((name) => !(name in metrics));
    if (missing.length > 0) {
      throw new InvalidMetricsError(`metrics.json${repeats.length > 1 ? ` of repeat ${i + 1}` : ''} lacks ${missing.join(', ')}, which the pipeline declares`);
    }
  }
  const names = Object.keys(repeats[0]!).filter((name) => repeats.every((metrics) => name in metrics));
  const scores: Record<string, Score> = {};
  for (const name of names) {
    const values = repeats.map((metrics) => metrics[name]!);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    scores[name] =
      values.length > 1
        ? { mean, spread: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)), n: values.length, values }
        : { mean, n: 1, values };
  }
  return scores;
}

/** The comparison of each declared metric, and the evaluation's overall verdict. */
export interface Comparison {
  readonly metrics: Record<string, MetricComparison>;
  /** `regressed` when any metric regressed, else `improved` when any improved, else `unchanged`; `no-baseline` without one. */
  readonly verdict: Verdict;
  readonly regressed: boolean;
}

/** Compares scores with the baseline's (absent: every metric says `no-baseline`). */
export function compareScores(head: Record<string, Score>, base: Record<string, Score> | undefined, metrics: PipelineSpec['metrics']): Comparison {
  const compared: Record<string, MetricComparison> = {};
  for (const [name, spec] of Object.entries(metrics)) {
    const headValue = head[name]?.mean;
    const baseValue = base?.[name]?.mean;
    const noise = noiseOf(head[name], base?.[name]);
    if (headValue === undefined || baseValue === undefined) {
      compared[name] = { goal: spec.goal, ...(headValue !== undefined ? { head: headValue } : {}), ...(baseValue !== undefined ? { base: baseValue } : {}), verdict: 'no-baseline' };
      continue;
    }
    const delta = headValue - baseValue;
    const allowed = (spec.tolerance?.absolute ?? 0) + (spec.tolerance?.relative ?? 0) * Math.abs(baseValue);
    // Positive `better` means the change went the metric's way.
    const better = spec.goal === 'max' ? delta : -delta;
    const verdict: Verdict = Math.abs(delta) <= allowed || Math.abs(delta) <= noise ? 'unchanged' : better > 0 ? 'improved' : 'regressed';
    compared[name] = {
      goal: spec.goal,
      head: headValue,
      base: baseValue,
      delta,
      ...(baseValue !== 0 ? { relativeDelta: delta / Math.abs(baseValue) } : {}),
      allowed,
      ...(noise > 0 ? { noise } : {}),
      verdict,
    };
  }
  const verdicts = Object.values(compared).map((c) => c.verdict);
  const verdict: Verdict = verdicts.includes('regressed')
    ? 'regressed'
    : verdicts.every((v) => v === 'no-baseline')
      ? 'no-baseline'
      : verdicts.includes('improved')
        ? 'improved'
        : 'unchanged';
  return { metrics: compared, verdict, regressed: verdict === 'regressed' };
}

/** `NOISE_K` × the combined standard error of two scores' means; 0 when neither has a spread. */
export function noiseOf(head: Score | undefined, base: Score | undefined): number {
  const variance = (score: Score | undefined) => {
    if (!score?.spread) return 0;
    const n = score.n ?? score.values.length;
    return (score.spread * score.spread) / n;
  };
  return NOISE_K * Math.sqrt(variance(head) + variance(base));
}
