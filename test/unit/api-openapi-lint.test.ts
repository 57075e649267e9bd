import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '#api/api';
import { buildOpenApiDocument } from '#api/openapi';

/**
 * The generated OpenAPI document, linted by Redocly CLI with the project's redocly.yaml (the
 * recommended rules; what is turned off says why there). Any error or warning fails the test.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const redocly = join(root, 'node_modules', '.bin', 'redocly');
const dir = mkdtempSync(join(tmpdir(), 'symbiont-openapi-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
}

async function lint(document: unknown, name: string): Promise<LintReport> {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(document, null, 2));
  const run = promisify(execFile);
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  // Redocly exits 1 when it finds errors; the JSON report is on stdout either way.
  const { stdout } = await run(redocly, ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'], { cwd: root, env }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return JSON.parse(stdout) as LintReport;
}

const describeProblems = (report: LintReport) => report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`);

describe('redocly lint', () => {
  it('finds nothing wrong with the document the API serves', async () => {
    const report = await lint(buildOpenApiDocument(apiRoutes), 'openapi.json');

    expect(describeProblems(report)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('fails a document with two operations of the same id', async () => {
    const document = structuredClone(buildOpenApiDocument(apiRoutes)) as unknown as { paths: Record<string, Record<string, { operationId?: string }>> };
    document.paths['/docs']!.get!.operationId = 'getHealth';

    const report = await lint(document, 'broken.json');

    expect(report.totals.errors).toBeGreaterThan(0);
    expect(report.problems.map((p) => p.ruleId)).toContain('operation-operationId-unique');
  }, 60_000);
});
