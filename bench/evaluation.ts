import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Endpoints } from '#local/endpoints';
import { median, type Benchmark, type Figure } from './harness.ts';

/**
 * What the evaluation machinery costs per evaluation: one request of N points of a pipeline whose
 * single stage does nothing but write `metrics.json`, run through the local runtime — the
 * evaluation queue, start-evaluation, the state machine under aws-local-stepfunctions, the tasks
 * and their table writes, the stage runner in a git worktree with its uploads — beside spawning
 * the same no-op command N times. The runtime runs in a process of its own, as `npm start` does
 * (its handlers read their settings once per process, and other benchmarks start runtimes here).
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The no-op stage: a shell that writes the one metric. */
const NOOP = ['sh', '-c', 'printf \'{"score":1}\' > "$SYMBIONT_OUTPUT/metrics.json"'];

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
  const dir = mkdtempSync(join(tmpdir(), 'symbiont-bench-evaluation-'));
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
        bench: {
          stages: [{ repository: 'noop', image: 'bench/noop', command: NOOP }],
          datasets: ['readings'],
          metrics: { score: { goal: 'max' } },
          parameters: { seed: Array.from({ length: count + 1 }, (_, i) => i) },
        },
      },
      stack: example.stack,
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
    await s3.send(
      new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: 'api/readings/bench/readings.csv', Body: readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')) }),
    );
    s3.destroy();
    await until('a readings version', async () => ((await api<{ latest?: unknown }>('GET', '/datasets/readings')).latest ? true : undefined));
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

    const durations: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await api<{ items: { durationMs?: number }[]; cursor?: string }>('GET', `/evaluations?request=${request.requestId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      durations.push(...page.items.map((e) => e.durationMs ?? 0));
      cursor = page.cursor;
    } while (cursor);

    const worktree = join(dataDir, 'worktrees', 'noop', sha);
    const output = join(dir, 'bare');
    mkdirSync(output);
    const bareStart = performance.now();
    for (let i = 0; i < count; i++) execFileSync(NOOP[0]!, NOOP.slice(1), { cwd: worktree, env: { ...process.env, SYMBIONT_OUTPUT: output } });
    const bareMs = performance.now() - bareStart;

    return { evaluations: count, requestMs, bareMs, medianEvaluationMs: median(durations), failed: request.failed };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm start` in a child process, resolved once its banner is printed. */
export function startRuntime(configFile: string, dataDir: string): Promise<ChildProcess> {
  const ports = ['api', 's3', 'dynamodb', 'sqs', 'sftp', 'stepfunctions'].flatMap((service) => [`--${service}-port`, '0']);
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'local', 'main.ts'), '--config', configFile, '--data-dir', dataDir, ...ports], {
    cwd: repoRoot,
    // Warnings only: a hundred evaluations log thousands of lines otherwise.
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the local runtime exited with ${code} before it was ready:\n${output.slice(-2000)}`)));
  });
}

/** Polls `probe` every 20 ms until it returns a value. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The benchmark `npm run bench` runs (the lead registers it in bench/benchmarks.ts). */
export const evaluationBenchmark: Benchmark = {
  name: 'evaluation',
  description: 'orchestration overhead per evaluation: a no-op stage evaluated N times through the local runtime, beside spawning it N times',
  async run({ quick }) {
    const t = await measureEvaluations(quick ? 20 : 100);
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
