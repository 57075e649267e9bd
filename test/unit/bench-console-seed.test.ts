import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trend } from '#evaluation/trend';
import { getBaseline, listEvaluations, getRequest } from '#store/evaluations';
import { listHeadHistory } from '#store/commits';
import { Table } from '#store/table';
import { pointHash } from '#evaluation/identity';
import { evaluationsOfHead, seedEvaluations, seedMetric, seedSha, type SeedResult } from '../../bench/console-seed.ts';
import { config, publishVersion } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** The console benchmark's seed: what it writes is what the list and trend routes read. */

let testTable: TestTable;
let table: Table;
let seeded: SeedResult;

beforeAll(async () => {
  testTable = await startTestTable('symbiont-bench-console-seed');
  table = new Table(testTable.client, testTable.tableName);
  await publishVersion(table, 'readings', 1);
  await publishVersion(table, 'readings', 2);
  seeded = await seedEvaluations(table, config, { pipeline: 'forecast', dataset: 'readings', latestVersion: 2, evaluations: 70, heads: 7, regressionEvery: 3 });
}, 60_000);

afterAll(async () => {
  await testTable.close();
});

describe('the console benchmark seed', () => {
  it('shares the evaluations out among the heads so that they add up', () => {
    expect(Array.from({ length: 200 }, (_, i) => evaluationsOfHead(i, 200, 10_000)).reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Array.from({ length: 3 }, (_, i) => evaluationsOfHead(i, 3, 10))).toEqual([3, 3, 4]);
    expect(seedMetric(3, 2, 2, 3) - seedMetric(2, 2, 2, 3)).toBeGreaterThan(0.05);
  });

  it('lists every evaluation, newest first, a page at a time', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listEvaluations(table, { limit: 25, cursor });
      seen.push(...page.items.map((e) => e.createdAt));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toHaveLength(70);
    expect(seen).toEqual([...seen].sort().reverse());
    expect(seeded).toMatchObject({ evaluations: 70, requests: 7, heads: 7, metric: 'mae', repository: 'model', regressedHeads: 2 });
    expect(seeded.failed + seeded.cancelled).toBeGreaterThan(0);
    const failed = await listEvaluations(table, { status: 'failed', limit: 100 });
    expect(failed.items).toHaveLength(seeded.failed);
  });

  it('moves the heads and records a finished request per head', async () => {
    const steps = await listHeadHistory(table, 'model', { order: 'asc' });
    expect(steps.map((s) => s.sha)).toEqual(Array.from({ length: 7 }, (_, i) => seedSha('model', i + 1)));
    const [newest] = (await listEvaluations(table, { limit: 1 })).items;
    await expect(getRequest(table, newest!.requestId)).resolves.toMatchObject({ status: 'finished', total: 10, pipeline: 'forecast' });
  });

  it('gives the trend route one series per point over the heads, with the regressions marked', async () => {
    const found = await trend({ pipeline: 'forecast', metric: 'mae', dataset: 'readings', limit: 200 }, { table, config });
    expect(found.commits.version).toBe(2);
    expect(found.commits.series).toHaveLength(2);
    for (const series of found.commits.series) {
      expect(series.points.map((p) => p.sha)).toEqual(Array.from({ length: 7 }, (_, i) => seedSha('model', i + 1)));
      expect(series.points.map((p) => p.regressed)).toEqual([false, false, false, true, false, false, true]);
      expect(series.points[0]!.verdict).toBe('no-baseline');
      expect(series.points[1]!.band).toBeDefined();
    }
    expect(found.versions.series[0]!.points.map((p) => p.version)).toEqual([1, 2]);
  });

  it('leaves the baseline pointer on the newest head', async () => {
    const pointer = await getBaseline(table, 'forecast', 'readings', 2, pointHash({ window: 3 }));
    expect(pointer?.commitSet.model).toBe(seedSha('model', 7));
  });
});
