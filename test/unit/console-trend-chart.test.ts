import { describe, expect, it } from 'vitest';
import { chartModel, chartSummary, commitSets, parameterName, versionSets } from '../../console/trend-chart.ts';
import type { Trend } from '../../console/types.ts';

/** The trend page's chart data: a trend answer turned into uPlot's aligned series, and its text alternative. */

const point = (evaluationId: string, value: number, extra: Partial<Trend['commits']['series'][number]['points'][number]> = {}) => ({
  evaluationId,
  value,
  n: 1,
  regressed: false,
  sha: 'a'.repeat(40),
  seq: 1,
  pushedAt: '2030-01-01T00:00:00Z',
  ...extra,
});

const trend: Pick<Trend, 'commits' | 'versions'> = {
  commits: {
    version: 2,
    series: [
      {
        parameters: { window: 3 },
        points: [
          point('E1', 1.0, { sha: '1111111aaaa', seq: 1 }),
          point('E2', 1.01, { sha: '2222222bbbb', seq: 2, base: 1.0, band: { low: 0.95, high: 1.05 }, verdict: 'unchanged' }),
          point('E3', 1.3, { sha: '3333333cccc', seq: 3, base: 1.01, band: { low: 0.96, high: 1.06 }, verdict: 'regressed', regressed: true }),
        ],
      },
      // Evaluated on the second and third heads only, and its parameters out of order.
      { parameters: { window: 6, lag: 'x' }, points: [point('E4', 0.9, { sha: '3333333cccc', seq: 3 }), point('E5', 0.8, { sha: '2222222bbbb', seq: 2 })] },
    ],
  },
  versions: { sha: '3333333cccc', series: [{ parameters: {}, points: [{ evaluationId: 'E6', value: 1.2, n: 1, regressed: false, version: 1 }, { evaluationId: 'E3', value: 1.3, n: 1, regressed: true, version: 3 }] }] },
};

describe('the trend chart model', () => {
  it('aligns each parameter point on the heads in order, with its value, baseline and band, nulls where it has none', () => {
    // Act
    const model = chartModel(commitSets(trend));

    // Assess
    expect(model.labels).toEqual(['1111111', '2222222', '3333333']);
    expect(model.data).toEqual([
      [0, 1, 2],
      [1.0, 1.01, 1.3],
      [null, 1.0, 1.01],
      [null, 0.95, 0.96],
      [null, 1.05, 1.06],
      [null, 0.8, 0.9],
      [null, null, null],
      [null, null, null],
      [null, null, null],
    ]);
    expect(model.sets.map((s) => s.name)).toEqual(['window=3', 'lag=x, window=6']);
    expect(model.regressed).toEqual([{ x: 2, y: 1.3, set: 0, evaluationId: 'E3' }]);
  });

  it('puts dataset versions on the x axis by number, named v1, v3', () => {
    // Act
    const model = chartModel(versionSets(trend));

    // Assess
    expect(model.labels).toEqual(['v1', 'v3']);
    expect(model.data[0]).toEqual([0, 1]);
    expect(model.data[1]).toEqual([1.2, 1.3]);
    expect(model.sets[0]!.name).toBe('no parameters');
    expect(model.regressed).toEqual([{ x: 1, y: 1.3, set: 0, evaluationId: 'E3' }]);
  });

  it('says in words what the chart shows and which points regressed', () => {
    // Act
    const summary = chartSummary(chartModel(commitSets(trend)), { metric: 'mae', over: 'over the default branch of model' });
    const empty = chartSummary(chartModel([]), { metric: 'mae', over: 'over the versions of readings' });

    // Assess
    expect(summary).toBe(
      'mae over the default branch of model, from 1111111 to 3333333: 5 values of 2 parameter points, each with its baseline and tolerance band; 1 regressed: window=3 at 3333333.',
    );
    expect(empty).toBe('No values of mae over the versions of readings.');
  });

  it('names a parameter point by its names in order', () => {
    expect(parameterName({ b: 2, a: true })).toBe('a=true, b=2');
    expect(parameterName({})).toBe('no parameters');
  });
});
