import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { median, type Benchmark, type Figure } from './harness.ts';
import { evaluationDurations, NOOP, startNoopRuntime, until } from './noop-runtime.ts';

/**
 * What the evaluation machinery costs per evaluation: one request of N points of a pipeline whose
 * single stage does nothing but write `metrics.json`, run through the local runtime — the
 * evaluation queue, start-evaluation, the state machine under aws-local-stepfunctions, the tasks
 * and their table writes, the stage runner in a git worktree with its uploads — beside spawning
 * the same no-op command N times. The runtime runs in a process of its own, as `npm start` does
 * (its handlers read their settings once per process, and other benchmarks start runtimes here).
 */

export interface EvaluationTimings {
  readonly evaluations: number;
  /** POST /evaluations → the request finished. */
  readonly requestMs: number;
  /** The no-op command spawned `evaluations` times, one after another. */
  readonly bareMs: number;
  /** Median of the evaluations' own durations (StartPoint → scored). */
  readonly medianEvaluationMs: number;
  readonly failed: number;
}

/** Boots a runtime in a child process on a throwaway config and data directory, and times one request of `count` points. */
export async function measureEvaluations(count: number): Promise<EvaluationTimings> {
  const runtime = await startNoopRuntime({ label: 'evaluation', parameters: { seed: Array.from({ length: count + 1 }, (_, i) => i) } });
  try {
    const { api } = runtime;
    const sha = runtime.shas[0]!;
    await api('POST', '/commits', { repository: 'noop', sha });

    type Request = { requestId: string; status: string; failed: number };
    const evaluate = async (seeds: number[]) => {
      const { request } = await api<{ request: Request }>('POST', '/evaluations', { pipeline: 'bench', parameters: { seed: seeds } });
      return until(`request ${request.requestId}`, async () => {
        const current = await api<Request>('GET', `/evaluations/requests/${request.requestId}`);
        return current.status === 'finished' || current.status === 'failed' ? current : undefined;
      });
    };
    // Untimed: creates the worktree, caches the dataset file, warms every handler.
    await evaluate([0]);

    const seeds = Array.from({ length: count }, (_, i) => i + 1);
    const start = performance.now();
    const request = await evaluate(seeds);
    const requestMs = performance.now() - start;
    const durations = await evaluationDurations(runtime, request.requestId);

    const worktree = join(runtime.dataDir, 'worktrees', 'noop', sha);
    const output = join(runtime.dir, 'bare');
    mkdirSync(output);
    const bareStart = performance.now();
    for (let i = 0; i < count; i++) execFileSync(NOOP[0]!, NOOP.slice(1), { cwd: worktree, env: { ...process.env, SYMBIONT_OUTPUT: output } });
    const bareMs = performance.now() - bareStart;

    return { evaluations: count, requestMs, bareMs, medianEvaluationMs: median(durations), failed: request.failed };
  } finally {
    await runtime.stop();
  }
}

/** The benchmark `npm run bench` runs (the lead registers it in bench/benchmarks.ts). */
export const evaluationBenchmark: Benchmark = {
  name: 'evaluation',
  description: 'orchestration overhead per evaluation: a no-op stage evaluated N times through the local runtime, beside spawning it N times',
  async run({ quick }) {
    // 50 in a full run: the whole `npm run bench` must fit in 10 minutes on 2 cores.
    const t = await measureEvaluations(quick ? 20 : 50);
    if (t.failed > 0) throw new Error(`${t.failed} of ${t.evaluations} no-op evaluations failed; the figures would mean nothing`);
    const figures: Figure[] = [
      {
        metric: `${t.evaluations} evaluations of a no-op stage, POST /evaluations → request finished`,
        value: t.requestMs,
        unit: 'ms',
        better: 'lower',
        baseline: { label: `the no-op command spawned ${t.evaluations} times`, value: t.bareMs },
      },
      {
        metric: 'orchestration overhead per evaluation (wall − bare spawns) / N',
        value: (t.requestMs - t.bareMs) / t.evaluations,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'one bare spawn', value: t.bareMs / t.evaluations },
        note: 'up to 40 points run at once; stage processes at most one per CPU',
      },
      { metric: 'median evaluation, StartPoint → scored', value: t.medianEvaluationMs, unit: 'ms', better: 'lower' },
    ];
    return figures;
  },
};
