import { afterAll, beforeAll, expect, it } from 'vitest';
import { diagnosisSettled, evaluateExperiment, startExampleEvaluation, type EvaluationView, type ExampleEvaluation } from './evaluation-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/**
 * Diagnostic reports as a new user meets them: the example repositories and config (the `forecast`
 * pipeline's onRegression is the `diagnose` template), a readings version, the heads reported, and
 * the regressing commit of `model`'s `experiment` branch evaluated through the API. The evaluation
 * is flagged, the state machine's Diagnose task queues its report, render-report renders it on this
 * machine's Jupyter kernel, and the evaluation links to it.
 */

describeWithKernel('diagnostic reports, locally', () => {
  let ctx: ExampleEvaluation;
  let regressed: EvaluationView;

  const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);

  beforeAll(async () => {
    // The example config as it is: the forecast pipeline's onRegression is the diagnose template.
    ctx = await startExampleEvaluation({ label: 'diagnostics' });
    // What the README tells a new user to run: the regressing commit, evaluated (one point, to keep it short).
    ({ regressed } = await evaluateExperiment(ctx, { timeout: 90_000 }));
  }, 240_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  it('links the regressed evaluation to a diagnose report, which renders', async () => {
    // Act
    const evaluation = await diagnosisSettled(ctx, regressed.evaluationId);

    // Assess
    expect(evaluation.report).toMatchObject({ status: 'succeeded', template: 'diagnose', reportId: expect.any(String), html: expect.stringMatching(/^http/) });
    const { body: report } = await api<{ evaluationId: string; template: string; status: string }>('GET', `/reports/${evaluation.report!.reportId}`);
    expect(report).toMatchObject({ evaluationId: regressed.evaluationId, template: 'diagnose', status: 'succeeded' });
  }, 240_000);

  it('shows the metric deltas against the baseline and the slices where the forecasts disagree', async () => {
    // Prepare
    const { body: evaluation } = await api<EvaluationView>('GET', `/evaluations/${regressed.evaluationId}`);

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
