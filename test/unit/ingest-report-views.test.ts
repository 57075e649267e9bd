import { afterEach, describe, expect, it } from 'vitest';
import type { UploadRecord } from '#store/store';
import { run } from '../../cli/main.ts';
import { bearer, json, localApi, MemoryUploads, request, tokens, upload } from './api-fixtures.ts';
import { captureIo, startMockApi, type MockApi } from './cli-fixtures.ts';

/**
 * Where people read an upload's outcome: `GET /uploads/{id}` (the report summary of a quarantined
 * upload, the version of a published one) and `symbiont uploads show`, which prints them readably.
 */

const QUARANTINED = '01JHB4000000000000000000Q1';
const PUBLISHED = '01JHB4000000000000000000P1';

const quarantined: UploadRecord = upload({
  uploadId: QUARANTINED,
  status: 'quarantined',
  reason: 'Row 2, column "temperature": "hot" is not a number. (2 problems in 3 rows: type.number 1, enum 1)',
  outcomeKey: `quarantine/${QUARANTINED}/readings.csv`,
  report: {
    errorCount: 2,
    rows: 3,
    bytes: 143,
    sha256: 'a'.repeat(64),
    specRevision: 'b'.repeat(64),
    countsByRule: { 'type.number': 1, enum: 1 },
    countsByColumn: { temperature: 1, status: 1 },
    examples: [
      { rule: 'type.number', row: 2, line: 3, column: 'temperature', value: 'hot', message: 'Row 2, column "temperature": "hot" is not a number. Write a decimal number such as 21.5.' },
      { rule: 'enum', row: 3, line: 4, column: 'status', value: 'sunny', message: 'Row 3, column "status": "sunny" is not one of ok, degraded, failed.' },
    ],
    jsonKey: `quarantine/${QUARANTINED}/report.json`,
    textKey: `quarantine/${QUARANTINED}/report.txt`,
  },
});
const published: UploadRecord = upload({ uploadId: PUBLISHED, status: 'published', version: 3, outcomeKey: 'datasets/readings/v3/readings.csv' });

const api = localApi(new MemoryUploads([quarantined, published]));

let mock: MockApi | undefined;

afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

/** Runs `symbiont …` against a server that answers with what the real router answers. */
async function cli(args: readonly string[]) {
  const answers = new Map<string, { status: number; body: unknown }>();
  for (const path of [`/uploads/${QUARANTINED}`, `/uploads/${PUBLISHED}`]) {
    const result = await api.handle(request('GET', path, bearer('admin')));
    answers.set(path, { status: result.statusCode, body: json(result) });
  }
  mock = await startMockApi((seen) => answers.get(new URL(seen.url, 'http://x').pathname) ?? { status: 404, body: {} });
  const { io, stdout } = captureIo();
  const code = await run([...args, '--api', mock.url, '--token', tokens.admin], io);
  return { code, stdout: stdout() };
}

describe('GET /uploads/{id} for an upload with an outcome', () => {
  it('shows a quarantined upload’s reason and report summary: counts by rule and column, the first problems, the report keys', async () => {
    // Act
    const result = await api.handle(request('GET', `/uploads/${QUARANTINED}`, bearer('scientist')));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ status: 'quarantined', reason: quarantined.reason, report: quarantined.report });
  });

  it('shows the version a published upload became', async () => {
    // Act
    const result = await api.handle(request('GET', `/uploads/${PUBLISHED}`, bearer('scientist')));

    // Assess
    expect(json(result)).toMatchObject({ status: 'published', version: 3 });
  });

  it('leaves the report summaries out of upload listings', async () => {
    // Act
    const result = await api.handle(request('GET', '/uploads?status=quarantined', bearer('admin')));

    // Assess
    const items = json<{ items: object[] }>(result).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ uploadId: QUARANTINED, reason: quarantined.reason });
    expect(items[0]).not.toHaveProperty('report');
  });
});

describe('symbiont uploads show for an upload with an outcome', () => {
  it('prints the first problems of a quarantined upload as a table of row, column, rule, value and message', async () => {
    // Act
    const { code, stdout } = await cli(['uploads', 'show', QUARANTINED]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ROW +COLUMN +RULE +VALUE +MESSAGE$/m);
    expect(stdout).toMatch(/^2 +temperature +type\.number +"hot" +Row 2, column "temperature": "hot" is not a number\./m);
    expect(stdout).toMatch(/^3 +status +enum +"sunny" +Row 3, column "status"/m);
  });

  it('prints the counts by rule and by column and where the full report is', async () => {
    // Act
    const { stdout } = await cli(['uploads', 'show', QUARANTINED]);

    // Assess
    expect(stdout).toContain('Validation found 2 problems in 3 rows.');
    expect(stdout).toMatch(/Problems by rule:\n {2}type\.number +1\n {2}enum +1\n/);
    expect(stdout).toMatch(/Problems by column:\n {2}temperature +1\n {2}status +1\n/);
    expect(stdout).toContain(`Full report in the data bucket: quarantine/${QUARANTINED}/report.txt`);
  });

  it('prints the version a published upload became', async () => {
    // Act
    const { stdout } = await cli(['uploads', 'show', PUBLISHED]);

    // Assess
    expect(stdout).toMatch(/^version +3 of readings$/m);
    expect(stdout).not.toContain('Validation found');
  });

  it('prints the report as the API sent it with --json', async () => {
    // Act
    const { stdout } = await cli(['uploads', 'show', QUARANTINED, '--json']);

    // Assess
    expect(JSON.parse(stdout).report).toEqual(quarantined.report);
  });
});
