import { afterAll, beforeAll, expect, it } from 'vitest';
import { startExampleEvaluation, type ExampleEvaluation } from './evaluation-helpers.ts';
import { waitFor } from './local-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/**
 * Diagnostic reports as a new user meets them: the example repositories and config (the `forecast`
 * pipeline's onRegression is the `diagnose` template), a readings version, the heads reported, and
 * the regressing commit of `model`'s `experiment` branch evaluated through the API. The evaluation
 * is flagged, the state machine's Diagnose task queues its report, render-report renders it on this
 * machine's Jupyter kernel, and the evaluation links to it.
 */

interface Evaluation {
  evaluationId: string;
  phase: string;
  status: string;
  regressed?: boolean;
  baselineEvaluationId?: string;
  report?: { status: string; reportId?: string; template?: string; reason?: string; html?: string };
}

describeWithKernel('diagnostic reports, locally', () => {
  let ctx: ExampleEvaluation;
  let regressed: Evaluation;

  const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);

  beforeAll(async () => {
    // The example config as it is: the forecast pipeline's onRegression is the diagnose template.
    ctx = await startExampleEvaluation({ label: 'diagnostics' });
    const experiment = await ctx.git('model', 'rev-parse', 'experiment');
    await ctx.reportHeads();
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
    await ctx?.stop();
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
