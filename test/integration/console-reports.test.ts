import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { hasChromium, itWithChromium, startBrowser, type ConsoleBrowser } from './console-helpers.ts';
import { evaluateExperiment, startExampleEvaluation, type EvaluationView, type ExampleEvaluation } from './evaluation-helpers.ts';
import { repoRoot, waitFor } from './local-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/**
 * The console's trend and reports pages in headless Chromium (Debian's chromium, through
 * playwright-core) against the local runtime with the example repositories and data, as
 * diagnostics.test.ts sets them up: main's commits reported, the regressing commit of `model`'s
 * `experiment` branch evaluated (flagged, its diagnostic report rendered on this machine's Jupyter
 * kernel), then merged into main, so the default branch's trend shows the regression. The test opens
 * the trend (the chart drawn, the regressed point in its table, linked), the diagnostic report in its
 * sandboxed frame (an opaque origin: its scripts cannot reach the console), and re-runs an explore
 * report on another readings version. The pages keep the console's own Content-Security-Policy (axe-core
 * is evaluated through the DevTools protocol, which the policy does not govern), so the frame is only
 * seen when the policy allows the data bucket's origin. axe-core: no serious or critical violation.
 *
 * With SYMBIONT_SCREENSHOTS=<dir> (`npm run screenshots`) the pages are saved there as PNG.
 */

interface Trend {
  commits: { series: { points: { sha: string; regressed: boolean; evaluationId: string }[] }[] };
}

describeWithKernel('the console’s trend and reports pages in headless Chromium', () => {
  let ctx: ExampleEvaluation;
  let chromium: ConsoleBrowser;
  let page: Page;
  let experiment: string;
  let regressed: EvaluationView;
  let diagnosis: string;
  let explore: string;

  const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);

  /** Waits for a report to be rendered (or to fail). */
  const rendered = (reportId: string) =>
    waitFor(
      `report ${reportId} to render`,
      async () => {
        const { body } = await api<{ status: string }>('GET', `/reports/${reportId}`);
        return body.status === 'succeeded' || body.status === 'failed' ? body.status : undefined;
      },
      240_000,
    );

  beforeAll(async () => {
    if (!hasChromium) return;
    // As diagnostics.test.ts: the example config as it is, the heads, the experiment commit evaluated.
    ctx = await startExampleEvaluation({ label: 'console-reports' });
    // main's history in order, as examples/create-repos.mjs reports it: the trend has a head before the current one.
    ({ experiment, regressed } = await evaluateExperiment(ctx, { history: true, timeout: 180_000 }));

    // The experiment merged into main: the default branch's newest head is the regressing commit,
    // evaluated against the previous heads when its push is planned.
    await ctx.git('model', 'update-ref', 'refs/heads/main', experiment);
    expect((await api('POST', '/commits', { repository: 'model', sha: experiment })).status).toBeLessThan(300);
    await waitFor(
      'the merged head to be evaluated',
      async () => {
        const { body } = await api<Trend>('GET', '/pipelines/forecast/trend?metric=mae&dataset=readings');
        return body.commits.series.some((s) => s.points.some((p) => p.sha === experiment && p.regressed)) ? true : undefined;
      },
      240_000,
    );

    // The diagnostic report of the regressed evaluation, and an explore report on readings version 1.
    const evaluation = await waitFor(
      'the diagnostic report',
      async () => {
        const { body } = await api<EvaluationView>('GET', `/evaluations/${regressed.evaluationId}`);
        return body.report?.reportId ? body : undefined;
      },
      120_000,
    );
    diagnosis = evaluation.report!.reportId!;
    const asks = await api<{ reports: { reportId: string }[] }>('POST', '/reports', { template: 'explore', dataset: { name: 'readings', version: 1 } });
    expect(asks.status).toBe(202);
    explore = asks.body.reports[0]!.reportId;
    expect(await rendered(diagnosis)).toBe('succeeded');
    expect(await rendered(explore)).toBe('succeeded');

    // The console's CSP stays on: the report's frame must be allowed by it. axe-core leaves the frames out: the report is not the console's.
    chromium = await startBrowser({ axeFrames: false });
    page = chromium.page;
    await page.goto(ctx.runtime.endpoints.console);
    await page.getByText('Signed in as').waitFor();
  }, 900_000);

  afterAll(async () => {
    await chromium?.browser.close();
    await ctx?.stop();
  });

  itWithChromium('draws the trend of mae over the default branch, the regressed head marked and linked to its evaluation', async () => {
    // Act
    await page.goto(`${ctx.runtime.endpoints.api}/#/pipelines/forecast/trend`);
    await page.locator('main figure.trend canvas').first().waitFor();

    // Assess: the chart, its text alternative, the regressed point in the table and its link.
    await page.getByRole('heading', { level: 1, name: 'Trend of pipeline forecast' }).waitFor();
    const commits = page.locator('section', { has: page.getByRole('heading', { name: 'Over the default branch of model' }) });
    const chart = commits.getByRole('img');
    await expect(chart.getAttribute('aria-label')).resolves.toMatch(new RegExp(`^mae over the default branch of model on readings version 1, .*\\d+ regressed: window=\\d+ at ${experiment.slice(0, 7)}`));
    await expect(page.getByLabel('Metric').inputValue()).resolves.toBe('mae');
    await commits.getByText('Every value, point by point').click();
    const row = commits.getByRole('table', { name: /Values of mae/ }).getByRole('row').filter({ hasText: 'window=3' }).filter({ hasText: experiment.slice(0, 7) });
    await expect(row.textContent()).resolves.toContain('▲ Regressed');
    const link = row.getByRole('link');
    const id = /#\/evaluations\/([0-9A-Z]{26})$/.exec((await link.getAttribute('href')) ?? '')?.[1];
    expect(id).toBeDefined();
    const { body: linked } = await api<EvaluationView>('GET', `/evaluations/${id}`);
    expect(linked.regressed).toBe(true);
    await chromium.snapshot('trend');
    expect(await chromium.seriousViolations()).toEqual([]);

    await link.click();
    await page.waitForURL(new RegExp(`#/evaluations/${id}$`));
  }, 240_000);

  itWithChromium('lists the reports and opens the diagnostic report in a frame whose scripts cannot reach the console', async () => {
    // Act
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: diagnosis }).filter({ hasText: `evaluation ${regressed.evaluationId}` });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Succeeded');
    await expect(page.getByRole('row').filter({ hasText: explore }).filter({ hasText: 'readings version 1' }).count()).resolves.toBe(1);
    await chromium.snapshot('reports');
    expect(await chromium.seriousViolations()).toEqual([]);
    await row.getByRole('link', { name: diagnosis }).click();

    // Assess: the page, then the frame: sandboxed without allow-same-origin, its report loaded.
    await page.getByRole('heading', { level: 1, name: `Report diagnose on evaluation ${regressed.evaluationId}` }).waitFor();
    const iframe = page.locator('iframe.report');
    await expect(iframe.getAttribute('sandbox')).resolves.toBe('allow-scripts');
    const frame = await waitFor(
      'the report in its frame',
      async () => {
        for (const f of page.frames()) if (f !== page.mainFrame() && (await f.content().catch(() => '')).includes('Metric deltas')) return f;
        return undefined;
      },
      60_000,
    );
    expect(new URL(frame.url()).origin).toBe(new URL(ctx.runtime.endpoints.s3).origin);
    await expect(frame.evaluate('self.origin')).resolves.toBe('null');
    await expect(canReachConsole(frame)).resolves.toBe('SecurityError');
    await expect(page.getByRole('link', { name: 'Open the report in a new tab' }).getAttribute('target')).resolves.toBe('_blank');
    await chromium.snapshot('report');
    expect(await chromium.seriousViolations()).toEqual([]);
  }, 240_000);

  itWithChromium('re-runs the explore report on another readings version and follows it until it has rendered', async () => {
    // Prepare: readings version 2.
    await publishReadings(ctx, 'readings-2025-01-09.csv', '01JD8X5Q3ZC9W8M2V7K4T6R2YB');
    await waitFor('readings version 2', async () => ((await api<{ latest?: { version: number } }>('GET', '/datasets/readings')).body.latest?.version === 2 ? true : undefined), 60_000);
    await page.goto(`${ctx.runtime.endpoints.api}/#/reports/${explore}`);
    await page.getByRole('heading', { level: 1, name: 'Report explore on readings version 1' }).waitFor();

    // A value that does not fit its type is refused before anything is sent.
    await page.getByLabel('bins', { exact: true }).fill('many');
    await page.getByRole('button', { name: 'Render again' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('bins takes a whole number (int), not “many”');

    // Act
    await page.getByLabel('bins', { exact: true }).fill('12');
    await page.getByLabel('readings version').selectOption('2');
    await page.getByRole('button', { name: 'Render again' }).click();

    // Assess: a new report on version 2, with bins 12, followed until it has rendered.
    await page.waitForURL((url) => /#\/reports\/[0-9A-Z]{26}$/.test(url.hash) && !url.hash.endsWith(explore));
    const rerun = /#\/reports\/([0-9A-Z]{26})$/.exec(new URL(page.url()).hash)![1]!;
    await page.getByRole('heading', { level: 1, name: 'Report explore on readings version 2' }).waitFor();
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 240_000 });
    await page.locator('iframe.report').waitFor();
    const { body } = await api<{ status: string; dataset: { version: number }; parameters: Record<string, unknown> }>('GET', `/reports/${rerun}`);
    expect(body).toMatchObject({ status: 'succeeded', dataset: { name: 'readings', version: 2 }, parameters: { bins: 12 } });
  }, 240_000);
});

/** What a script in the frame meets when it reaches for the console's document: the error's name. */
async function canReachConsole(frame: Frame): Promise<string> {
  return frame.evaluate<string>(`(() => { try { return 'read ' + parent.document.title; } catch (error) { return error.name; } })()`);
}

/** Sends an example readings file through the landing bucket, as evaluation-helpers does for version 1. */
async function publishReadings(ctx: ExampleEvaluation, file: string, uploadId: string): Promise<void> {
  const { endpoints } = ctx.runtime;
  const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  try {
    await s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: `api/readings/${uploadId}/readings.csv`, Body: readFileSync(join(repoRoot, 'examples', 'data', file)) }));
  } finally {
    s3.destroy();
  }
}
