import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/**
 * Diagnostic reports as a new user meets them: the example repositories and config (the `forecast`
 * pipeline's onRegression is the `diagnose` template), a readings version, the heads reported, and
 * the regressing commit of `model`'s `experiment` branch evaluated through the API. The evaluation
 * is flagged, the state machine's Diagnose task queues its report, render-report renders it on this
 * machine's Jupyter kernel, and the evaluation links to it.
 */

const run = promisify(execFile);

interface Evaluation {
  evaluationId: string;
  phase: string;
  status: string;
  regressed?: boolean;
  baselineEvaluationId?: string;
  report?: { status: string; reportId?: string; template?: string; reason?: string; html?: string };
}

describeWithKernel('diagnostic reports, locally', () => {
  const dir = tempDataDir('diagnostics');
  const repos = join(dir.path, 'repos');
  let runtime: LocalRuntime;
  let regressed: Evaluation;

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${runtime.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${runtime.endpoints.tokens.admin}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  beforeAll(async () => {
    await run(process.execPath, [join(repoRoot, 'examples', 'create-repos.mjs'), '--dir', repos, '--no-report', '--quiet']);
    const git = async (repo: string, ...args: string[]) => (await run('git', ['-C', join(repos, repo), ...args])).stdout.trim();
    const heads = { features: await git('features', 'rev-parse', 'main'), model: await git('model', 'rev-parse', 'main') };
    const experiment = await git('model', 'rev-parse', 'experiment');

    // The example config as it is, its paths made to work from the test's folder.
    const config = JSON.parse(readFileSync(exampleConfig, 'utf8'));
    config.repositories.features.path = 'repos/features';
    config.repositories.model.path = 'repos/model';
    for (const spec of Object.values(config.templates) as { notebook: string }[]) spec.notebook = join(repoRoot, spec.notebook);
    const configFile = join(dir.path, 'symbiont.config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    runtime = await startLocal({ configFile, dataDir: join(dir.path, '.symbiont'), ports: freePorts });

    const { endpoints } = runtime;
    const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(
      new PutObjectCommand({
        Bucket: endpoints.buckets.landing,
        Key: 'api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1YB/readings.csv',
        Body: readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')),
      }),
    );
    s3.destroy();
    await waitFor('a readings version', async () => ((await api<{ latest?: unknown }>('GET', '/datasets/readings')).body.latest ? true : undefined), 30_000);
    for (const [repository, sha] of Object.entries(heads)) await api('POST', '/commits', { repository, sha });
    await api('POST', '/commits', { repository: 'model', sha: experiment, branch: 'experiment' });

    // What the README tells a new user to run: the regressing commit, evaluated (one point, to keep it short).
    const asked = await api<{ request: { requestId: string } }>('POST', '/evaluations', { pipeline: 'forecast', commitSets: [{ model: experiment }], parameters: { window: [3] } });
    expect(asked.status).toBe(202);
    const requestId = asked.body.request.requestId;
    await waitFor(
      `request ${requestId} to finish`,
      async () => {
        const { body } = await api<{ status: string }>('GET', `/evaluations/requests/${requestId}`);
        return body.status === 'finished' || body.status === 'failed' ? body : undefined;
      },
      90_000,
    );
    const { body: page } = await api<{ items: Evaluation[] }>('GET', `/evaluations?request=${requestId}&limit=100`);
    regressed = page.items.find((e) => e.regressed)!;
    expect(regressed).toBeDefined();
  }, 240_000);

  afterAll(async () => {
    await runtime?.stop();
    dir.remove();
  });

  it('links the regressed evaluation to a diagnose report, which renders', async () => {
    // Act
    const evaluation = await waitFor(
      'the diagnostic report to render',
      async () => {
        const { body } = await api<Evaluation>('GET', `/evaluations/${regressed.evaluationId}`);
        return body.report?.status === 'succeeded' || body.report?.status === 'failed' ? body : undefined;
      },
      180_000,
    );

    // Assess
    expect(evaluation.report).toMatchObject({ status: 'succeeded', template: 'diagnose', reportId: expect.any(String), html: expect.stringMatching(/^http/) });
    const { body: report } = await api<{ evaluationId: string; template: string; status: string }>('GET', `/reports/${evaluation.report!.reportId}`);
    expect(report).toMatchObject({ evaluationId: regressed.evaluationId, template: 'diagnose', status: 'succeeded' });
  }, 240_000);

  it('shows the metric deltas against the baseline and the slices where the forecasts disagree', async () => {
    // Prepare
    const { body: evaluation } = await api<Evaluation>('GET', `/evaluations/${regressed.evaluationId}`);

    // Act
    const html = await (await fetch(evaluation.report!.html!)).text();

    // Assess: the deltas table, with mae regressed, and slices read from both evaluations' forecast.csv.
    expect(html).toContain('Metric deltas');
    const table = html.slice(html.indexOf('Metric deltas'));
    expect(table).toMatch(/<th>relative delta<\/th>/);
    expect(table).toMatch(/<th>mae<\/th>[\s\S]*?regressed/);
    expect(html).toContain(regressed.baselineEvaluationId!);
    expect(html).toMatch(/<td>sensor_id=S\d{4}<\/td>/);
    expect(html).toMatch(/<td>hour=\d+<\/td>/);
    expect(html).not.toContain('No <code>forecast.csv</code>');
    expect(html).toContain('data:image/png;base64,');
  }, 60_000);
});
