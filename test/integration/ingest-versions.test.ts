import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleConfig } from './local-helpers.ts';
import { type IngestRuntime, outcomeOfSlot, putLanding, readObject, startIngestRuntime, symbiont, tagsOf } from './ingest-helpers.ts';

/**
 * Dataset versions from the sender's side, through the local runtime with the real handlers: files
 * PUT into landing become versions 1, 2, …; the same bytes sent again are the same version; an
 * invalid file is quarantined with its report; and the CLI shows it all.
 */

const readingsSpec = JSON.parse(readFileSync(exampleConfig, 'utf8')).datasets.readings;
const HEADER = 'sensor_id,taken_at,temperature,status';
const FILE_A = `${HEADER}\nS0001,2025-01-07T09:00:00Z,21.5,ok\nS0002,2025-01-07T09:00:00Z,,degraded\n`;
const FILE_B = `${HEADER}\nS0001,2025-01-08T09:00:00Z,19.0,ok\n`;
const INVALID = `${HEADER}\nS0001,2025-01-09T09:00:00Z,21.5,ok\nS0002,2025-01-09T09:00:00Z,hot,ok\nS0003,2025-01-09T09:00:00Z,20,sunny\n`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('dataset versions through the local runtime', () => {
  let ctx: IngestRuntime;

  beforeAll(async () => {
    ctx = await startIngestRuntime({
      label: 'ingest-versions',
      // One dataset per behaviour, so each test's version numbers are its own.
      config: { datasets: { readings: readingsSpec, twins: readingsSpec, repeats: readingsSpec, checks: readingsSpec }, uploaderDatasets: ['readings'] },
      queueOverrides: { ingest: { visibilityTimeoutSeconds: 5 } },
    });
  });

  afterAll(async () => {
    await ctx?.stop();
  });

  const data = () => ctx.runtime.endpoints.buckets.data;

  it('numbers two valid files sent at once 1 and 2, each stored under its own version', async () => {
    // Act
    await Promise.all([putLanding(ctx, 'api/twins/slot-a/a.csv', FILE_A), putLanding(ctx, 'api/twins/slot-b/b.csv', FILE_B)]);
    const [a, b] = await Promise.all([outcomeOfSlot(ctx, 'slot-a'), outcomeOfSlot(ctx, 'slot-b')]);

    // Assess
    expect([a.status, b.status]).toEqual(['published', 'published']);
    expect([a.version, b.version].sort()).toEqual([1, 2]);
    expect(String(await readObject(ctx, data(), `datasets/twins/v${a.version}/a.csv`))).toBe(FILE_A);
    expect(String(await readObject(ctx, data(), `datasets/twins/v${b.version}/b.csv`))).toBe(FILE_B);
  });

  it('publishes the same bytes sent twice as one version, the second upload pointing at it', async () => {
    // Prepare
    await putLanding(ctx, 'api/repeats/slot-first/monday.csv', FILE_A);
    const first = await outcomeOfSlot(ctx, 'slot-first');

    // Act
    await putLanding(ctx, 'api/repeats/slot-again/monday-again.csv', FILE_A);
    const again = await outcomeOfSlot(ctx, 'slot-again');

    // Assess
    expect([first.status, first.version]).toEqual(['published', 1]);
    expect(again).toMatchObject({ status: 'published', version: 1, outcomeKey: 'datasets/repeats/v1/monday.csv' });
    expect((await ctx.store.listVersions('repeats')).items.map((v) => [v.version, v.sha256])).toEqual([[1, sha(FILE_A)]]);
  });

  it('quarantines an invalid file with its report: on the upload, and as JSON and text beside the original', async () => {
    // Act
    await putLanding(ctx, 'api/checks/slot-bad/bad.csv', INVALID);
    const upload = await outcomeOfSlot(ctx, 'slot-bad');

    // Assess
    expect(upload.status).toBe('quarantined');
    expect(upload.reason).toBe('Row 2, column "temperature": "hot" is not a number. (2 problems in 3 rows: type.number 1, enum 1)');
    expect(upload.report?.examples.map((e) => [e.rule, e.row, e.column])).toEqual([
      ['type.number', 2, 'temperature'],
      ['enum', 3, 'status'],
    ]);
    expect(String(await readObject(ctx, data(), `quarantine/${upload.uploadId}/bad.csv`))).toBe(INVALID);
    expect(JSON.parse(String(await readObject(ctx, data(), upload.report!.jsonKey)))).toMatchObject({ verdict: 'invalid', errorCount: 2 });
    expect(String(await readObject(ctx, data(), upload.report!.textKey))).toContain('bad.csv: INVALID — 2 problems found in 3 rows.');
    expect(await tagsOf(ctx, ctx.runtime.endpoints.buckets.landing, upload.arrivalKey!)).toEqual({ 'symbiont-outcome': 'recorded' });
  });

  it('shows a new user who sent one invalid and two valid files, one of them twice, two versions and the report with the CLI', async () => {
    // Prepare: the user's four PUTs.
    await putLanding(ctx, 'api/readings/slot-1/readings-bad.csv', INVALID);
    await putLanding(ctx, 'api/readings/slot-2/readings-a.csv', FILE_A);
    await putLanding(ctx, 'api/readings/slot-3/readings-b.csv', FILE_B);
    const outcomes = [await outcomeOfSlot(ctx, 'slot-1'), await outcomeOfSlot(ctx, 'slot-2'), await outcomeOfSlot(ctx, 'slot-3')];
    await putLanding(ctx, 'api/readings/slot-4/readings-a-again.csv', FILE_A);
    outcomes.push(await outcomeOfSlot(ctx, 'slot-4'));

    // Act
    const versions = JSON.parse(await symbiont(ctx, ['datasets', 'versions', 'readings', '--json'])) as { items: { version: number; sha256: string; rows: number }[] };
    const shown = await symbiont(ctx, ['uploads', 'show', outcomes[0]!.uploadId]);

    // Assess
    expect(outcomes.map((u) => [u.status, u.version])).toEqual([
      ['quarantined', undefined],
      ['published', 1],
      ['published', 2],
      ['published', 1],
    ]);
    expect(versions.items.map((v) => [v.version, v.sha256, v.rows])).toEqual([
      [2, sha(FILE_B), 1],
      [1, sha(FILE_A), 2],
    ]);
    expect(shown).toMatch(/^status +quarantined$/m);
    expect(shown).toMatch(/^2 +temperature +type\.number +"hot" +Row 2, column "temperature": "hot" is not a number\./m);
    expect(shown).toMatch(/^3 +status +enum +"sunny" +Row 3, column "status"/m);
  });
});
