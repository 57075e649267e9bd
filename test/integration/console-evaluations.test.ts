import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ABSENT, startBrowser, type ConsoleBrowser } from './console-helpers.ts';
import { diagnosisSettled, evaluateExperiment, startExampleEvaluation, type EvaluationView, type ExampleEvaluation } from './evaluation-helpers.ts';
import { KERNEL_MISSING } from './reports-helpers.ts';

/**
 * The console's evaluation pages in headless Chromium against the local runtime with the example
 * repositories, as a new user meets them (the diagnostics test's set-up): the heads reported, the
 * regressing commit of `model`'s `experiment` branch evaluated, and its diagnose report rendered on
 * this machine's Jupyter kernel. The test filters the evaluations list, finds the regression marked,
 * opens it (scores against its baseline, stages, the link to its report and its trend), compares it
 * with its baseline, and follows a request's progress and cancels a running one. axe-core finds no
 * serious or critical violation on any page.
 *
 * With SYMBIONT_SCREENSHOTS=<dir> (`npm run screenshots`) each page is also saved there as PNG.
 */

const MISSING = CHROMIUM_ABSENT ?? KERNEL_MISSING;
const describeInBrowser = MISSING ? (name: string, fn: () => void) => describe.skip(`${name} (${MISSING})`, fn) : describe;

describeInBrowser('the console evaluation pages in headless Chromium', () => {
  let ctx: ExampleEvaluation;
  let chromium: ConsoleBrowser;
  let page: Page;
  let requestId: string;
  let regressed: EvaluationView;

  const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);
  const open = (hash: string) => page.goto(`${ctx.runtime.endpoints.api}/${hash}`);

  beforeAll(async () => {
    ctx = await startExampleEvaluation({ label: 'console-evaluations' });
    ({ requestId, regressed } = await evaluateExperiment(ctx, { timeout: 90_000 }));
    // The diagnostic report renders after the request ends; the evaluation page shows its status as it is then.
    await diagnosisSettled(ctx, regressed.evaluationId);

    // bypassCSP: axe-core is injected as an inline script, which the console's CSP rightly refuses.
    chromium = await startBrowser({ bypassCSP: true });
    page = chromium.page;
    await page.goto(ctx.runtime.endpoints.console);
    await page.getByText('Signed in as').waitFor();
  }, 360_000);

  afterAll(async () => {
    await chromium?.browser.close();
    await ctx?.stop();
  });

  it('lists the evaluations, filters them in the hash and marks the regression in words', async () => {
    await open('#/evaluations');
    await page.getByRole('heading', { level: 1, name: 'Evaluations' }).waitFor();
    // The first meaningful paint the benchmark waits for: one row per evaluation.
    await page.locator('main table tbody tr').first().waitFor();
    await expect(page.locator('main table tbody tr').count()).resolves.toBeGreaterThanOrEqual(2);

    await page.getByLabel('Pipeline').fill('forecast');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Show evaluations' }).click();
    await page.waitForURL(/#\/evaluations\?pipeline=forecast&status=succeeded$/);
    await page.getByText(/Showing (all \d+ evaluations|the only evaluation)\./).waitFor();
    // Every regression the API lists is marked, and only those (the commit's own request regressed too).
    const { body: succeeded } = await api<{ items: EvaluationView[] }>('GET', '/evaluations?pipeline=forecast&status=succeeded&limit=100');
    const marked = page.locator('main table tbody tr.regressed');
    await expect(page.locator('main table tbody tr').count()).resolves.toBe(succeeded.items.length);
    await expect(marked.count()).resolves.toBe(succeeded.items.filter((e) => e.regressed).length);
    await expect(marked.allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`${regressed.evaluationId}.*Regressed`))]));
    await expect(page.locator('main table tbody tr:not(.regressed)').allTextContents()).resolves.not.toEqual(expect.arrayContaining([expect.stringContaining('Regressed')]));
    await chromium.snapshot('evaluations');
    expect(await chromium.seriousViolations()).toEqual([]);

    // A page at a time: two rows, then two more with the API's cursor.
    await open('#/evaluations?pipeline=forecast&limit=2');
    const more = page.getByRole('button', { name: 'Load more evaluations' });
    await more.waitFor();
    await expect(page.locator('main table tbody tr').count()).resolves.toBe(2);
    await more.click();
    await page.locator('main table tbody tr').nth(3).waitFor();
    await expect(page.locator('main table tbody tr').count()).resolves.toBe(4);

    // A commit without its repository is refused before the API is asked, and says why.
    await page.getByLabel('Commit (full sha)').fill('abc');
    await page.getByRole('button', { name: 'Show evaluations' }).click();
    await expect(page.locator('#filter-problem').textContent()).resolves.toContain('Give a repository and a commit together');
  });

  it('opens the regressing evaluation: scores against its baseline, stages, its diagnostic report and its trend', async () => {
    await open('#/evaluations?pipeline=forecast');
    await page.locator('main table tbody tr.regressed').getByRole('link', { name: new RegExp(`evaluation ${regressed.evaluationId}`) }).click();
    await page.getByRole('heading', { level: 1, name: `Evaluation ${regressed.evaluationId}` }).waitFor();

    const scores = page.getByRole('table', { name: /^Per metric, against baseline/ });
    await scores.waitFor();
    const mae = scores.getByRole('row', { name: /mae/ });
    await expect(mae.textContent()).resolves.toMatch(/lower is better.*Regressed/);
    await expect(mae.getAttribute('class')).resolves.toBe('regressed');
    await expect(scores.getByRole('link', { name: `baseline ${regressed.baselineEvaluationId}` }).count()).resolves.toBe(1);

    const stages = page.getByRole('table', { name: 'Stages, repeat by repeat' });
    await expect(stages.getByRole('row', { name: /1\. features/ }).textContent()).resolves.toContain('exit code 0');
    await expect(stages.getByRole('row', { name: /2\. model/ }).textContent()).resolves.toContain('exit code 0');
    // Each stage's logs open straight from the data bucket through a presigned URL.
    const stdout = await stages.getByRole('link', { name: 'stdout of stage model, repeat 1' }).getAttribute('href');
    const printed = await fetch(stdout!);
    expect(printed.status).toBe(200);
    expect(printed.headers.get('content-type')).toContain('text/plain');
    // Each stage's artifacts: the files it wrote to its output folder, each a download of those bytes.
    const modelRow = stages.getByRole('row', { name: /2\. model/ });
    await modelRow.getByRole('link', { name: 'forecast.csv of stage model, repeat 1' }).waitFor();
    await expect(modelRow.getByRole('link', { name: /of stage model, repeat 1$/ }).allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringMatching(/^forecast\.csv/), expect.stringMatching(/^metrics\.json/)]),
    );
    await expect(modelRow.textContent()).resolves.toMatch(/forecast\.csv of stage model, repeat 1 \d+(\.\d)? (B|kB)/);
    await expect(stages.getByRole('row', { name: /1\. features/ }).getByRole('link', { name: 'features.csv of stage features, repeat 1' }).count()).resolves.toBe(1);
    const forecastUrl = await modelRow.getByRole('link', { name: 'forecast.csv of stage model, repeat 1' }).getAttribute('href');
    const downloaded = await fetch(forecastUrl!);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-disposition')).toBe('attachment; filename="forecast.csv"');
    const { endpoints } = ctx.runtime;
    const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true });
    const stored = await s3.send(new GetObjectCommand({ Bucket: endpoints.buckets.data, Key: `evaluations/${regressed.evaluationId}/r1/2-model/output/forecast.csv` }));
    const written = Buffer.from(await stored.Body!.transformToByteArray());
    s3.destroy();
    expect(written.toString('utf8')).toMatch(/\n/);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(written)).toBe(true);

    const report = page.getByRole('region', { name: 'Diagnostic report' });
    await expect(report.textContent()).resolves.toMatch(/Succeeded\s*Template diagnose/);
    const { body: evaluation } = await api<EvaluationView>('GET', `/evaluations/${regressed.evaluationId}`);
    await expect(report.getByRole('link', { name: 'Open the diagnostic report' }).getAttribute('href')).resolves.toBe(`#/reports/${evaluation.report!.reportId}`);
    await expect(page.getByRole('link', { name: /^Trend of forecast’s mae on readings$/ }).getAttribute('href')).resolves.toBe('#/pipelines/forecast/trend?metric=mae&dataset=readings');
    await chromium.snapshot('evaluation');
    expect(await chromium.seriousViolations()).toEqual([]);
  });

  it('compares the regression with its baseline, and any two ticked evaluations, side by side', async () => {
    await open(`#/evaluations/${regressed.evaluationId}`);
    await page.getByRole('link', { name: 'Compare with its baseline side by side' }).click();
    await page.getByRole('heading', { level: 1, name: 'Compare two evaluations' }).waitFor();
    const metrics = page.getByRole('table', { name: 'Per metric, base against head' });
    await metrics.waitFor();
    await expect(metrics.getByRole('row', { name: /mae/ }).textContent()).resolves.toContain('Regressed');
    await expect(page.getByRole('region', { name: 'Head' }).textContent()).resolves.toContain(regressed.evaluationId);
    await expect(page.getByRole('region', { name: 'Base' }).textContent()).resolves.toContain(regressed.baselineEvaluationId!);
    await chromium.snapshot('compare');
    expect(await chromium.seriousViolations()).toEqual([]);

    // From the list: tick the regression and its baseline; the newer is the head.
    await open(`#/evaluations?request=${requestId}`);
    await page.locator('main table tbody tr').first().waitFor();
    await page.getByRole('checkbox', { name: `Compare evaluation ${regressed.baselineEvaluationId}` }).check();
    await page.getByRole('checkbox', { name: `Compare evaluation ${regressed.evaluationId}` }).check();
    const chosen = page.getByRole('link', { name: 'Compare the two ticked evaluations' });
    const [head, base] = regressed.evaluationId > regressed.baselineEvaluationId! ? [regressed.evaluationId, regressed.baselineEvaluationId!] : [regressed.baselineEvaluationId!, regressed.evaluationId];
    await expect(chosen.getAttribute('href')).resolves.toBe(`#/compare?head=${head}&base=${base}`);
    await chosen.click();
    await page.getByRole('table', { name: 'Per metric, base against head' }).waitFor();
    await expect(page.getByText('the head judged against the evaluation chosen as base').count()).resolves.toBe(1);
  });

  it('shows a request with its progress and evaluations, and cancels a running one after a confirm', async () => {
    await open(`#/evaluations?request=${requestId}`);
    await page.getByRole('link', { name: `Request ${requestId}` }).click();
    await page.getByRole('heading', { level: 1, name: `Evaluation request ${requestId}` }).waitFor();
    await page.getByText(/(\d+) of \1 evaluations settled/).waitFor();
    await page.getByRole('table', { name: `The evaluations of request ${requestId}` }).waitFor();
    await expect(page.getByRole('table', { name: `The evaluations of request ${requestId}` }).locator('tbody tr').count()).resolves.toBe(2);
    await expect(page.getByRole('button', { name: 'Cancel the request' }).count()).resolves.toBe(0);
    expect(await chromium.seriousViolations()).toEqual([]);

    // A sweep long enough to be cancelled while it runs.
    const sweep = await api<{ request: { requestId: string } }>('POST', '/evaluations', { pipeline: 'forecast', parameters: { window: { from: 10, to: 60 } } });
    expect(sweep.status).toBe(202);
    const sweepId = sweep.body.request.requestId;
    // Filtered by the running request, the list below its progress is loaded again as evaluations settle.
    await open(`#/evaluations?request=${sweepId}`);
    await page.getByRole('link', { name: `Request ${sweepId}` }).waitFor();
    // Generous for CI's shared cores; without the reload the row never shows, however long the wait.
    await page.locator('main table tbody tr').filter({ hasText: 'Succeeded' }).first().waitFor({ timeout: 60_000 });
    await open(`#/evaluations/requests/${sweepId}`);
    const cancel = page.getByRole('button', { name: 'Cancel the request' });
    await cancel.waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await cancel.click();
    await page.getByRole('status').filter({ hasText: 'The request is cancelled.' }).waitFor();
    await expect(page.getByRole('heading', { name: /Progress/ }).textContent()).resolves.toContain('Cancelled');
    const { body: after } = await api<{ status: string; cancelledBy?: string }>('GET', `/evaluations/requests/${sweepId}`);
    expect(after).toMatchObject({ status: 'cancelled', cancelledBy: expect.any(String) });
  }, 180_000);
});
