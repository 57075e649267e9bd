import type { Trend } from './types.ts';

/**
 * A trend view (over the default branch's heads, or over dataset versions) as a chart sees it: one
 * x position per head or version, and per parameter point four y series — its value, its baseline
 * and the tolerance band's low and high edge — aligned on those positions (null where the point
 * has no value there). Pure, so the page's drawing (uPlot) and its tests share it.
 */

/** One point of a series, wherever it comes from. */
export interface ChartPoint {
  readonly evaluationId: string;
  readonly value: number;
  readonly base?: number;
  readonly band?: { readonly low: number; readonly high: number };
  readonly verdict?: string;
  readonly regressed: boolean;
  /** Where it sits on the x axis: the head's sequence number or the dataset version. */
  readonly key: number;
  /** How the x axis names it: a short sha or `v3`. */
  readonly label: string;
}

export interface ChartSet {
  /** The parameter point, as `window=3, lr=0.1` (`no parameters` when there are none). */
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

export interface ChartModel {
  /** The x axis labels, one per position (oldest first). */
  readonly labels: readonly string[];
  /** uPlot's aligned data: x positions, then per set its value, baseline, band low, band high. */
  readonly data: readonly (readonly (number | null)[])[];
  readonly sets: readonly ChartSet[];
  /** The regressed points: position, value and the set they belong to. */
  readonly regressed: readonly { readonly x: number; readonly y: number; readonly set: number; readonly evaluationId: string }[];
}

/** The y series each parameter point contributes, in the order `data` holds them. */
export const SERIES_PER_SET = 4;

/** `window=3, lr=0.1`: a parameter point in words. */
export function parameterName(parameters: Readonly<Record<string, string | number | boolean>>): string {
  const entries = Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? 'no parameters' : entries.map(([name, value]) => `${name}=${String(value)}`).join(', ');
}

/** The commit view's sets: each head by its sequence number, named by its short sha. */
export function commitSets(trend: Pick<Trend, 'commits'>): ChartSet[] {
  return trend.commits.series.map((series) => ({
    name: parameterName(series.parameters),
    points: series.points.map((p) => ({ ...pointOf(p), key: p.seq, label: p.sha.slice(0, 7) })),
  }));
}

/** The version view's sets: each dataset version by its number. */
export function versionSets(trend: Pick<Trend, 'versions'>): ChartSet[] {
  return trend.versions.series.map((series) => ({
    name: parameterName(series.parameters),
    points: series.points.map((p) => ({ ...pointOf(p), key: p.version, label: `v${p.version}` })),
  }));
}

function pointOf(p: Trend['commits']['series'][number]['points'][number] | Trend['versions']['series'][number]['points'][number]): Omit<ChartPoint, 'key' | 'label'> {
  return {
    evaluationId: p.evaluationId,
    value: p.value,
    ...(p.base !== undefined ? { base: p.base } : {}),
    ...(p.band ? { band: p.band } : {}),
    ...(p.verdict !== undefined ? { verdict: p.verdict } : {}),
    regressed: p.regressed,
  };
}

/** The sets aligned on one x axis: every key any set has, in order, at positions 0, 1, 2, … */
export function chartModel(sets: readonly ChartSet[]): ChartModel {
  const labelOf = new Map<number, string>();
  for (const set of sets) for (const p of set.points) labelOf.set(p.key, p.label);
  const keys = [...labelOf.keys()].sort((a, b) => a - b);
  const position = new Map(keys.map((key, i) => [key, i]));
  const data: (number | null)[][] = [keys.map((_, i) => i)];
  const regressed: { x: number; y: number; set: number; evaluationId: string }[] = [];
  sets.forEach((set, s) => {
    const value: (number | null)[] = keys.map(() => null);
    const base: (number | null)[] = keys.map(() => null);
    const low: (number | null)[] = keys.map(() => null);
    const high: (number | null)[] = keys.map(() => null);
    for (const p of set.points) {
      const x = position.get(p.key)!;
      value[x] = p.value;
      base[x] = p.base ?? null;
      low[x] = p.band?.low ?? null;
      high[x] = p.band?.high ?? null;
      if (p.regressed) regressed.push({ x, y: p.value, set: s, evaluationId: p.evaluationId });
    }
    data.push(value, base, low, high);
  });
  return { labels: keys.map((key) => labelOf.get(key)!), data, sets, regressed };
}

/** What a chart shows, in one sentence, for its text alternative. */
export function chartSummary(model: ChartModel, what: { metric: string; over: string }): string {
  const points = model.sets.reduce((n, set) => n + set.points.length, 0);
  if (points === 0) return `No values of ${what.metric} ${what.over}.`;
  const range = (label: string | undefined) => label ?? '';
  const span = model.labels.length === 1 ? `at ${range(model.labels[0])}` : `from ${range(model.labels[0])} to ${range(model.labels.at(-1))}`;
  const sets = model.sets.length === 1 ? `one parameter point (${model.sets[0]!.name})` : `${model.sets.length} parameter points`;
  const flagged =
    model.regressed.length === 0
      ? 'none regressed'
      : `${model.regressed.length} regressed: ${model.regressed.map((r) => `${model.sets[r.set]!.name} at ${model.labels[r.x]}`).join('; ')}`;
  return `${what.metric} ${what.over}, ${span}: ${points} value${points === 1 ? '' : 's'} of ${sets}, each with its baseline and tolerance band; ${flagged}.`;
}
