import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Endpoints } from '#local/endpoints';
import { startRuntime, until } from './evaluation.ts';
import type { Benchmark, Figure } from './harness.ts';

/**
 * A sweep's wall time against the work in it: one request of N parameter points of a no-op stage
 * through the local runtime (`npm start`'s, in a process of its own), with the points Map's
 * concurrency at 1 and at 8 (`local.evaluationConcurrency`), beside the sum of the points' own
 * durations (each evaluation's `durationMs`, StartPoint → scored) in the same run. Wall below the
 * sum is what running points side by side buys; at concurrency 1 the gap is the orchestration
 * between points.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const NOOP = ['sh', '-c', 'printf \'{"score":1}\' > "$SYMBIONT_OUTPUT/metrics.json"'];

export interface SweepTimings {
  readonly concurrency: number;
  readonly points: number;
  readonly wallMs: number;
  readonly sumOfPointsMs: number;
  readonly failed: number;
}

/** Times one sweep of `points` points at `concurrency` on a throwaway runtime. */
export async function measureSweep(points: number, concurrency: number): Promise<SweepTimings> {
  const dir = mkdtempSync(join(tmpdir(), 'symbiont-bench-sweep-'));
  let child: ChildProcess | undefined;
  try {
    const repository = join(dir, 'noop');
    mkdirSync(repository);
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repository, '-c', 'user.name=Bench', '-c', 'user.email=bench@symbiont.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();
    git('init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'README.md'), 'A stage that does nothing but write metrics.json.\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'no-op stage');
    const sha = git('rev-parse', 'HEAD');

    const example = JSON.parse(readFileSync(join(repoRoot, 'symbiont.config.json'), 'utf8'));
    const config = {
      datasets: example.datasets,
      repositories: { noop: { url: 'https://example.invalid/noop', defaultBranch: 'main', path: 'noop' } },
      pipelines: {
        bench: { stages: [{ repository: 'noop', image: 'bench/noop', command: NOOP }], datasets: ['readings'], metrics: { score: { goal: 'max' } }, parameters: { seed: [0] } },
      },
      stack: example.stack,
      local: { evaluationConcurrency: concurrency },
    };
    const configFile = join(dir, 'symbiont.config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const dataDir = join(dir, '.symbiont');
    child = await startRuntime(configFile, dataDir);
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${endpoints.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${endpoints.tokens.admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: 'api/readings/bench/readings.csv', Body: readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')) }));
    s3.destroy();
    await until('a readings version', async () => ((await api<{ latest?: unknown }>('GET', '/datasets/readings')).latest ? true : undefined));
    await api('POST', '/commits', { repository: 'noop', sha });

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

    let sumOfPointsMs = 0;
    let cursor: string | undefined;
    do {
      const page = await api<{ items: { durationMs?: number }[]; cursor?: string }>('GET', `/evaluations?request=${request.requestId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      sumOfPointsMs += page.items.reduce((sum, e) => sum + (e.durationMs ?? 0), 0);
      cursor = page.cursor;
    } while (cursor);
    return { concurrency, points, wallMs, sumOfPointsMs, failed: request.failed };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sweepBenchmark: Benchmark = {
  name: 'sweep',
  description: 'a 100-point sweep of a no-op stage at Map concurrency 1 and 8 through the local runtime, beside the sum of the points’ own durations',
  async run({ quick }) {
    const points = quick ? 20 : 100;
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
