import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvaluation, type EvaluationRecord } from '#store/evaluations';
import { Table } from '#store/table';
import { InvalidEvaluationRequestError } from '#evaluation/errors';
import { pointHash } from '#evaluation/identity';
import { reportCommit } from '#evaluation/requests';
import { trend } from '#evaluation/trend';
import { config, publishVersion, scientist, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** The trend of a metric, read from the head history and each head's evaluation links. */

let testTable: TestTable;
let table: Table;
const heads = ['1', '2', '3'].map(sha);
let n = 0;

/** A succeeded evaluation of the forecast pipeline at model `model`, mae `value`, compared with `base`. */
async function evaluated(model: string, version: number, value: number, base: number | undefined, verdict: EvaluationRecord['verdict']): Promise<void> {
  n++;
  const id = `01JD8X5Q3ZC9W8M2V7K4T6R${String(n).padStart(3, '0')}`;
  const at = `2030-02-01T00:00:${String(n).padStart(2, '0')}.000Z`;
  await createEvaluation(table, {
    evaluationId: id,
    requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YC',
    pipeline: 'forecast',
    part: 1,
    phase: 'candidate',
    commitSet: { features: sha('a'), model },
    commitSetId: 'c'.repeat(64),
    isBaselineCommitSet: true,
    dataset: 'readings',
    version,
    parameters: { window: 3 },
    pointHash: pointHash({ window: 3 }),
    repeats: 1,
    status: 'succeeded',
    scores: { mae: { mean: value, n: 1, values: [value] } },
    comparison: { mae: { goal: 'min', head: value, ...(base !== undefined ? { base, delta: value - base } : {}), verdict: verdict! } },
    verdict,
    regressed: verdict === 'regressed',
    artifactsPrefix: `evaluations/${id}/`,
    createdAt: at,
    updatedAt: at,
    startedAt: at,
  });
}

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-trend');
  table = new Table(testTable.client, testTable.tableName);
  await publishVersion(table, 'readings', 1);
  await publishVersion(table, 'readings', 2);
  await reportCommit({ repository: 'features', sha: sha('a') }, scientist, { table, config });
  for (const [i, head] of heads.entries()) await reportCommit({ repository: 'model', sha: head, pushedAt: `2030-01-0${i + 1}T00:00:00Z` }, scientist, { table, config });
  await evaluated(heads[0]!, 2, 1.0, undefined, 'no-baseline');
  await evaluated(heads[1]!, 2, 1.01, 1.0, 'unchanged');
  await evaluated(heads[2]!, 2, 1.3, 1.01, 'regressed');
  await evaluated(heads[2]!, 1, 1.2, 1.1, 'regressed');
});

afterAll(async () => {
  await testTable.close();
});

describe('trend', () => {
  it('follows the heads in order on the latest version, with the baseline, the tolerance band and the regression marked', async () => {
    // Act
    const found = await trend({ pipeline: 'forecast', metric: 'mae', dataset: 'readings' }, { table, config });

    // Assess
    const tolerance = config.pipelines.forecast!.metrics.mae!.tolerance!;
    const allowed = (base: number) => (tolerance.absolute ?? 0) + (tolerance.relative ?? 0) * base;
    expect(found).toMatchObject({ goal: 'min', repository: 'model', commits: { version: 2 } });
    const [series] = found.commits.series;
    expect(series!.parameters).toEqual({ window: 3 });
    expect(series!.points.map((p) => [p.sha, p.seq, p.value, p.regressed])).toEqual([
      [heads[0], 1, 1.0, false],
      [heads[1], 2, 1.01, false],
      [heads[2], 3, 1.3, true],
    ]);
    expect(series!.points[0]!.band).toBeUndefined();
    expect(series!.points[2]!.band!.low).toBeCloseTo(1.01 - allowed(1.01), 12);
    expect(series!.points[2]!.band!.high).toBeCloseTo(1.01 + allowed(1.01), 12);
    expect(found.versions.sha).toBe(heads[2]);
    expect(found.versions.series[0]!.points.map((p) => [p.version, p.value, p.verdict])).toEqual([
      [1, 1.2, 'regressed'],
      [2, 1.3, 'regressed'],
    ]);
  });

  it('shows another version and fewer heads when asked', async () => {
    // Act
    const found = await trend({ pipeline: 'forecast', metric: 'mae', dataset: 'readings', version: 1, limit: 2 }, { table, config });

    // Assess
    expect(found.commits.series[0]!.points.map((p) => p.sha)).toEqual([heads[2]]);
  });

  it('shows the first metric on the first dataset when none is named, and lists what else it could show', async () => {
    // Act
    const found = await trend({ pipeline: 'forecast' }, { table, config });

    // Assess
    const pipeline = config.pipelines.forecast!;
    expect(found.metric).toBe(Object.keys(pipeline.metrics)[0]);
    expect(found.dataset).toBe(pipeline.datasets[0]);
    expect(found.metrics).toEqual(Object.entries(pipeline.metrics).map(([name, m]) => ({ name, goal: m.goal })));
    expect(found.datasets).toEqual(pipeline.datasets);
    expect(found.repositories).toEqual(['features', 'model']);
  });

  it('refuses a metric, dataset or repository the pipeline does not have', async () => {
    // Assess
    const deps = { table, config };
    await expect(trend({ pipeline: 'forecast', metric: 'rmse', dataset: 'readings' }, deps)).rejects.toThrow(/has no metric rmse/);
    await expect(trend({ pipeline: 'forecast', metric: 'mae', dataset: 'nope' }, deps)).rejects.toThrow(InvalidEvaluationRequestError);
    await expect(trend({ pipeline: 'forecast', metric: 'mae', dataset: 'readings', repository: 'nope' }, deps)).rejects.toThrow(/not a repository of pipeline forecast/);
  });
});
