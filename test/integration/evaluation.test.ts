import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '#local/runtime';
import { localAwsEnv } from '#local/endpoints';
import { startExampleEvaluation, type ExampleEvaluation } from './evaluation-helpers.ts';
import { AWS_CLI_MISSING, awsCliVersion, waitFor } from './local-helpers.ts';

/**
 * Continuous evaluation through the local runtime as `npm start` runs it: the example
 * repositories (examples/create-repos.mjs), a readings version uploaded to landing, commits
 * reported and evaluations requested through the API, the synthesized state machine run by
 * aws-local-stepfunctions, and each stage run for real in a git worktree at its commit.
 */

const run = promisify(execFile);
const itWithAws = awsCliVersion ? it : (name: string, fn: () => Promise<void>) => it.skip(`${name} (${AWS_CLI_MISSING})`, fn);

interface Request {
  requestId: string;
  status: string;
  done: number;
  failed: number;
  regressed: number;
  total: number;
  executions: string[];
  report?: { status: string; evaluationIds: string[] };
}
interface Evaluation {
  evaluationId: string;
  status: string;
  phase: string;
  commitSet: Record<string, string>;
  parameters: Record<string, unknown>;
  scores?: Record<string, { mean: number }>;
  verdict?: string;
  regressed?: boolean;
  baselineEvaluationId?: string;
  failure?: { error: string; stage?: string; exitCode?: number | null; stderrTail?: string };
}

describe('continuous evaluation, locally', () => {
  let ctx: ExampleEvaluation;
  let runtime: LocalRuntime;
  let heads: Record<string, string>;
  let regressing: string;
  let broken: string;
  let headsRequest: Request;

  const git = (repo: string, ...args: string[]) => ctx.git(repo, ...args);
  const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);

  async function evaluate(body: Record<string, unknown>): Promise<{ request: Request; evaluations: Evaluation[] }> {
    const asked = await api<{ request: Request }>('POST', '/evaluations', { pipeline: 'forecast', ...body });
    // 200: commit intake asked for the same evaluation first (the reported heads are planned too).
    expect([200, 202]).toContain(asked.status);
    const requestId = asked.body.request.requestId;
    const request = await waitFor(
      `request ${requestId} to finish`,
      async () => {
        const { body: current } = await api<Request>('GET', `/evaluations/requests/${requestId}`);
        return current.status === 'finished' || current.status === 'failed' ? current : undefined;
      },
      60_000,
    );
    const { body: page } = await api<{ items: Evaluation[] }>('GET', `/evaluations?request=${requestId}&limit=100`);
    return { request, evaluations: page.items };
  }

  beforeAll(async () => {
    ctx = await startExampleEvaluation({
      label: 'evaluation',
      // The pipeline names no template: diagnostics are test/integration/diagnostics.test.ts's (they need a Jupyter kernel).
      configure: (config) => delete config.pipelines.forecast.onRegression,
    });
    runtime = ctx.runtime;
    heads = { ...ctx.heads };
    regressing = await git('model', 'rev-parse', 'experiment');
    // A commit whose model stage fails, on a branch of its own.
    await git('model', 'checkout', '--quiet', '-b', 'broken', 'main');
    writeFileSync(join(ctx.dir, 'repos', 'model', 'run.mjs'), "console.error('model: cannot read features.csv: column rolling_mean is missing');\nprocess.exit(3);\n");
    await git('model', 'commit', '--quiet', '-am', 'model: broken');
    broken = await git('model', 'rev-parse', 'HEAD');
    await git('model', 'checkout', '--quiet', 'main');
    await ctx.reportHeads();
    headsRequest = (await evaluate({})).request;
  }, 180_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  it('evaluates the default-branch heads on the latest version over the pipeline’s grid', async () => {
    // Act
    const { body: page } = await api<{ items: Evaluation[] }>('GET', `/evaluations?request=${headsRequest.requestId}`);

    // Assess
    expect(headsRequest).toMatchObject({ status: 'finished', total: 2, done: 2, failed: 0 });
    expect(page.items.map((e) => e.parameters.window).sort()).toEqual([3, 7]);
    for (const evaluation of page.items) {
      expect(evaluation).toMatchObject({ status: 'succeeded', commitSet: heads, verdict: 'no-baseline' });
      expect(evaluation.scores?.mae?.mean).toBeGreaterThan(0);
    }
  });

  it('flags the commit that makes mae worse, measured for real against the heads', async () => {
    // Act
    const { request, evaluations } = await evaluate({ commitSets: [{ model: regressing }] });

    // Assess
    expect(request).toMatchObject({ status: 'finished', regressed: 2, report: { status: 'wanted' } });
    for (const evaluation of evaluations) {
      const { body: comparison } = await api<{ base: Evaluation; metrics: { mae: { base: number; head: number; delta: number; verdict: string } } }>(
        'GET',
        `/compare?head=${evaluation.evaluationId}`,
      );
      expect(evaluation).toMatchObject({ status: 'succeeded', regressed: true, verdict: 'regressed' });
      expect(comparison.base.commitSet).toEqual(heads);
      expect(comparison.metrics.mae.head).toBeGreaterThan(comparison.metrics.mae.base * 1.02);
      expect(comparison.metrics.mae.verdict).toBe('regressed');
    }
  });

  it('records a failing stage as a failed evaluation with the tail of its stderr', async () => {
    // Act
    const { request, evaluations } = await evaluate({ commitSets: [{ model: broken }], parameters: { window: [3] } });

    // Assess
    expect(request).toMatchObject({ status: 'finished', failed: 1 });
    expect(evaluations[0]).toMatchObject({ status: 'failed', failure: { error: 'StageFailedError', stage: 'model', exitCode: 3 } });
    expect(evaluations[0]!.failure!.stderrTail).toContain('column rolling_mean is missing');
  });

  it('starts nothing when the same evaluation is asked again', async () => {
    // Act
    const again = await api<{ request: Request; created: boolean }>('POST', '/evaluations', { pipeline: 'forecast' });
    const sfn = new SFNClient({ endpoint: runtime.endpoints.stepfunctions, region: runtime.endpoints.region, credentials: { ...runtime.endpoints.credentials } });
    const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: runtime.endpoints.stateMachines.evaluate }));
    sfn.destroy();

    // Assess
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, request: { requestId: headsRequest.requestId } });
    expect(executions!.filter((e) => e.name === headsRequest.executions[0])).toHaveLength(1);
  });

  it('refuses an evaluation request from an uploader', async () => {
    // Act
    const response = await fetch(`${runtime.endpoints.api}/evaluations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.endpoints.tokens.uploader}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pipeline: 'forecast' }),
    });

    // Assess
    expect(response.status).toBe(403);
  });

  it('keeps a worktree per repository and sha', () => {
    // Assess
    for (const [repository, sha] of Object.entries(heads)) expect(existsSync(join(ctx.dir, '.symbiont', 'worktrees', repository, sha, 'run.mjs'))).toBe(true);
  });

  itWithAws('answers `aws stepfunctions describe-execution` for the heads’ execution', async () => {
    // Prepare
    const env: NodeJS.ProcessEnv = { ...process.env, ...localAwsEnv(runtime.endpoints), AWS_PAGER: '' };
    delete env.AWS_PROFILE;
    const arn = runtime.endpoints.stateMachines.evaluate.replace(':stateMachine:', ':execution:') + `:${headsRequest.executions[0]}`;

    // Act
    const { stdout } = await run('aws', ['stepfunctions', 'describe-execution', '--endpoint-url', runtime.endpoints.stepfunctions, '--execution-arn', arn], { env, timeout: 60_000 });

    // Assess
    expect(JSON.parse(stdout)).toMatchObject({ status: 'SUCCEEDED', name: headsRequest.executions[0] });
  });
});
