import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Endpoints } from '#local/endpoints';

/**
 * What the evaluation benchmarks share (evaluation, sweep, commit-intake): `npm start`'s runtime in
 * a process of its own (its handlers read their settings once per process, and other benchmarks
 * start runtimes in this one), on a throwaway folder holding a git repository `noop` whose one
 * stage does nothing but write `metrics.json`, a pipeline `bench` over it, and the example readings
 * file published as version 1.
 */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The no-op stage: a shell that writes the one metric. */
export const NOOP = ['sh', '-c', 'printf \'{"score":1}\' > "$SYMBIONT_OUTPUT/metrics.json"'];

export interface NoopRuntimeOptions {
  readonly label: string;
  /** Empty commits made after the first, one per sha a benchmark needs. @default 0 */
  readonly extraCommits?: number;
  /** The `bench` pipeline's parameter grid. @default none */
  readonly parameters?: Readonly<Record<string, readonly unknown[]>>;
  /** The repository's URL (a github.com one is what webhooks name). */
  readonly repositoryUrl?: string;
  /** More top-level config fields (`local`, `webhooks`). */
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface NoopRuntime {
  readonly dir: string;
  readonly dataDir: string;
  readonly endpoints: Endpoints;
  /** The `noop` repository's commits, oldest first. */
  readonly shas: readonly string[];
  /** An API call with the admin token; a non-2xx answer throws. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Stops the runtime (as Ctrl-C does) and removes the folder. */
  stop(): Promise<void>;
}

export async function startNoopRuntime(options: NoopRuntimeOptions): Promise<NoopRuntime> {
  const dir = mkdtempSync(join(tmpdir(), `symbiont-bench-${options.label}-`));
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const repository = join(dir, 'noop');
    mkdirSync(repository);
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repository, '-c', 'user.name=Bench', '-c', 'user.email=bench@symbiont.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();
    git('init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'README.md'), 'A stage that does nothing but write metrics.json.\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'no-op stage');
    for (let i = 0; i < (options.extraCommits ?? 0); i++) git('commit', '--quiet', '--allow-empty', '-m', `commit ${i + 1}`);
    const shas = git('rev-list', '--reverse', 'HEAD').split('\n');

    const example = JSON.parse(readFileSync(join(repoRoot, 'symbiont.config.json'), 'utf8'));
    const config = {
      datasets: example.datasets,
      repositories: { noop: { url: options.repositoryUrl ?? 'https://example.invalid/noop', defaultBranch: 'main', path: 'noop' } },
      pipelines: {
        bench: {
          stages: [{ repository: 'noop', image: 'bench/noop', command: NOOP }],
          datasets: ['readings'],
          metrics: { score: { goal: 'max' } },
          ...(options.parameters ? { parameters: options.parameters } : {}),
        },
      },
      stack: example.stack,
      ...options.config,
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
    return { dir, dataDir, endpoints, shas, api, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The durations of a request's evaluations, every page of them. */
export async function evaluationDurations(runtime: Pick<NoopRuntime, 'api'>, requestId: string): Promise<number[]> {
  const durations: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await runtime.api<{ items: { durationMs?: number }[]; cursor?: string }>(
      'GET',
      `/evaluations?request=${requestId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    durations.push(...page.items.map((e) => e.durationMs ?? 0));
    cursor = page.cursor;
  } while (cursor);
  return durations;
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
