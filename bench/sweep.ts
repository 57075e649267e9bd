import type { Benchmark, Figure } from './harness.ts';
import { evaluationDurations, startNoopRuntime, until } from './noop-runtime.ts';

/**
 * A sweep's wall time against the work in it: one request of N parameter points of a no-op stage
 * through the local runtime (`npm start`'s, in a process of its own), with the points Map's
 * concurrency at 1 and at 8 (`local.evaluationConcurrency`), beside the sum of the points' own
 * durations (each evaluation's `durationMs`, StartPoint → scored) in the same run. Wall below the
 * sum is what running points side by side buys; at concurrency 1 the gap is the orchestration
 * between points.
 */

export interface SweepTimings {
  readonly concurrency: number;
  readonly points: number;
  readonly wallMs: number;
  readonly sumOfPointsMs: number;
  readonly failed: number;
}

/** Times one sweep of `points` points at `concurrency` on a throwaway runtime. */
export async function measureSweep(points: number, concurrency: number): Promise<SweepTimings> {
  const runtime = await startNoopRuntime({ label: 'sweep', parameters: { seed: [0] }, config: { local: { evaluationConcurrency: concurrency } } });
  try {
    const { api } = runtime;
    await api('POST', '/commits', { repository: 'noop', sha: runtime.shas[0] });

    type Request = { requestId: string; status: string; failed: number; reason: string };
    const sweep = async (parameters: Record<string, unknown>) => {
      const { request } = await api<{ request: Request }>('POST', '/evaluations', { pipeline: 'bench', parameters });
      return until(`request ${request.requestId}`, async () => {
        const current = await api<Request>('GET', `/evaluations/requests/${request.requestId}`);
        return ['finished', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
      });
    };
    // Untimed: the worktree, the dataset file and every handler warm.
    await sweep({ seed: [-1] });

    const start = performance.now();
    const request = await sweep({ seed: { from: 1, to: points } });
    const wallMs = performance.now() - start;
    if (request.reason !== 'sweep') throw new Error(`expected a sweep, got reason ${request.reason}`);
    const sumOfPointsMs = (await evaluationDurations(runtime, request.requestId)).reduce((sum, ms) => sum + ms, 0);
    return { concurrency, points, wallMs, sumOfPointsMs, failed: request.failed };
  } finally {
    await runtime.stop();
  }
}

export const sweepBenchmark: Benchmark = {
  name: 'sweep',
  description: 'a 30-point sweep (10 with --quick) of a no-op stage at Map concurrency 1 and 8 through the local runtime, beside the sum of the points’ own durations',
  async run({ quick }) {
    // 30 in a full run (100 took four minutes): the whole `npm run bench` must fit in 10 minutes on 2 cores.
    const points = quick ? 10 : 30;
    const figures: Figure[] = [];
    for (const concurrency of [1, 8]) {
      const t = await measureSweep(points, concurrency);
      if (t.failed > 0) throw new Error(`${t.failed} of ${t.points} no-op points failed; the figures would mean nothing`);
      figures.push({
        metric: `${t.points}-point sweep, concurrency ${t.concurrency}: POST /evaluations → finished`,
        value: t.wallMs,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'sum of the points’ own durations (StartPoint → scored)', value: t.sumOfPointsMs },
        note: `wall / sum = ${(t.wallMs / t.sumOfPointsMs).toFixed(2)}`,
      });
    }
    return figures;
  },
};
