import { createHmac, randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startNoopRuntime, until } from './noop-runtime.ts';
import { median, type Benchmark, type Figure } from './harness.ts';

/**
 * Commit intake's latency as a repository owner feels it: a signed GitHub push POSTed to
 * /webhooks/github → the evaluation's state machine execution started (webhook route, delivery
 * claim, commit queue, plan-evaluations recording the commit and the request, evaluation queue,
 * start-evaluation, StartExecution), one push at a time, each of a new commit, through a runtime
 * in its own process — beside the API's bare round trip (GET /health) in the same run. Each
 * execution is let finish before the next push, so the figure is the path's own latency rather
 * than queueing behind earlier evaluations.
 */

const SECRET = 'bench-webhook-secret';

export interface CommitIntakeTimings {
  readonly pushes: number;
  /** Per push, ms from sending the delivery to the execution's start date. */
  readonly latenciesMs: readonly number[];
  /** Per GET /health, ms. */
  readonly healthMs: readonly number[];
}

/** The value below which `p` (0–1) of the values lie (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export async function measureCommitIntake(pushes: number): Promise<CommitIntakeTimings> {
  // One commit per push (plus the first head), so every push is of a new sha.
  const runtime = await startNoopRuntime({ label: 'intake', extraCommits: pushes, repositoryUrl: 'https://github.com/bench/noop', config: { webhooks: { githubSecret: SECRET } } });
  const { endpoints, shas } = runtime;
  const sfn = new SFNClient({ endpoint: endpoints.stepfunctions, region: endpoints.region, credentials: { ...endpoints.credentials } });
  const stateMachineArn = endpoints.stateMachines.evaluate;
  try {
    const push = async (sha: string) => {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        before: '0'.repeat(40),
        after: sha,
        deleted: false,
        repository: { name: 'noop', full_name: 'bench/noop', pushed_at: Math.floor(Date.now() / 1000) },
        head_commit: { id: sha },
      });
      const sent = Date.now();
      const response = await fetch(`${endpoints.api}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      if (response.status !== 202) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
      return sent;
    };
    const seen = new Set<string>();
    /** The next execution not seen before, once it has ended (so the next push finds a quiet runtime). */
    const nextExecution = async () => {
      const started = await until('an execution started by the push', async () => {
        const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 5 }));
        return executions?.find((e) => !seen.has(e.executionArn!));
      });
      seen.add(started.executionArn!);
      const ended = await until('the execution to end', async () => {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
        return described.status === 'RUNNING' ? undefined : described;
      });
      if (ended.status !== 'SUCCEEDED') throw new Error(`execution ${started.name} ended ${ended.status}; the figures would mean nothing`);
      return started.startDate!.getTime();
    };

    // Untimed: the first head (its evaluation creates the worktree machinery and warms every handler).
    await push(shas[0]!);
    await nextExecution();

    const latenciesMs: number[] = [];
    for (const sha of shas.slice(1)) {
      const sent = await push(sha);
      latenciesMs.push((await nextExecution()) - sent);
    }

    const healthMs: number[] = [];
    for (let i = 0; i < Math.max(pushes, 20); i++) {
      const start = performance.now();
      const response = await fetch(`${endpoints.api}/health`);
      await response.text();
      healthMs.push(performance.now() - start);
    }
    return { pushes, latenciesMs, healthMs };
  } finally {
    sfn.destroy();
    await runtime.stop();
  }
}

/** The benchmark `npm run bench` runs. */
export const commitIntakeBenchmark: Benchmark = {
  name: 'commit-intake',
  description: 'signed GitHub push → evaluation execution started, through the local runtime, beside the API’s bare round trip (GET /health)',
  async run({ quick }) {
    // 30 in a full run (p99 is then the slowest push): the whole `npm run bench` must fit in 10 minutes on 2 cores.
    const t = await measureCommitIntake(quick ? 10 : 30);
    const healthP50 = median(t.healthMs);
    const figures: Figure[] = [
      {
        metric: `webhook → execution started, p50 of ${t.pushes} signed pushes`,
        value: median(t.latenciesMs),
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'GET /health round trip, p50', value: healthP50 },
        note: 'one push at a time, each execution ended before the next push; the SQS pollers long-poll',
      },
      {
        metric: `webhook → execution started, p99 of ${t.pushes} signed pushes`,
        value: percentile(t.latenciesMs, 0.99),
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'GET /health round trip, p99', value: percentile(t.healthMs, 0.99) },
      },
    ];
    return figures;
  },
};
