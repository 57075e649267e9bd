import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { startLocal, type LocalRuntime, type StartLocalOptions } from '#local/runtime';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * Shared by the tests of continuous evaluation through the local runtime: the example
 * repositories (examples/create-repos.mjs) in a fresh folder, the example config pointed at them,
 * the runtime booted on free ports, and the example readings file published as version 1.
 */

const run = promisify(execFile);

export interface ExampleEvaluation {
  readonly runtime: LocalRuntime;
  /** The folder holding `repos/` and the runtime's data. */
  readonly dir: string;
  /** The default-branch heads of the example repositories. */
  readonly heads: Readonly<Record<'features' | 'model', string>>;
  /** `git -C repos/<repo> …` as a test user; answers stdout, trimmed. */
  git(repo: string, ...args: string[]): Promise<string>;
  /** A call to the runtime's API with the admin token. */
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Reports the default-branch heads with `POST /commits`, as CI would. */
  reportHeads(): Promise<void>;
  stop(): Promise<void>;
}

export interface ExampleEvaluationOptions {
  readonly label: string;
  /** Changes to the example config before the runtime reads it. */
  readonly configure?: (config: Record<string, any>) => void;
  /** More options for `startLocal` (queue overrides, an interposed proxy). */
  readonly start?: Omit<StartLocalOptions, 'configFile' | 'dataDir' | 'ports'>;
}

export async function startExampleEvaluation(options: ExampleEvaluationOptions): Promise<ExampleEvaluation> {
  const dir = tempDataDir(options.label);
  const repos = join(dir.path, 'repos');
  await run(process.execPath, [join(repoRoot, 'examples', 'create-repos.mjs'), '--dir', repos, '--no-report', '--quiet']);
  const git = async (repo: string, ...args: string[]) =>
    (await run('git', ['-C', join(repos, repo), '-c', 'user.name=Test', '-c', 'user.email=test@symbiont.invalid', '-c', 'commit.gpgsign=false', ...args])).stdout.trim();
  const heads = { features: await git('features', 'rev-parse', 'main'), model: await git('model', 'rev-parse', 'main') };

  // The example config, its paths made to work from the test's folder.
  const config = JSON.parse(readFileSync(exampleConfig, 'utf8')) as Record<string, any>;
  config.repositories.features.path = 'repos/features';
  config.repositories.model.path = 'repos/model';
  for (const spec of Object.values(config.templates ?? {}) as { notebook: string }[]) spec.notebook = join(repoRoot, spec.notebook);
  options.configure?.(config);
  const configFile = join(dir.path, 'symbiont.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const runtime = await startLocal({ ...options.start, configFile, dataDir: join(dir.path, '.symbiont'), ports: freePorts });

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${runtime.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${runtime.endpoints.tokens.admin}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const { endpoints } = runtime;
  const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(
    new PutObjectCommand({
      Bucket: endpoints.buckets.landing,
      Key: 'api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1YB/readings.csv',
      Body: readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')),
    }),
  );
  s3.destroy();
  await waitFor('a readings version', async () => ((await api<{ latest?: unknown }>('GET', '/datasets/readings')).body.latest ? true : undefined), 30_000);

  return {
    runtime,
    dir: dir.path,
    heads,
    git,
    api,
    async reportHeads() {
      for (const [repository, sha] of Object.entries(heads)) await api('POST', '/commits', { repository, sha });
    },
    async stop() {
      await runtime.stop();
      dir.remove();
    },
  };
}

/** An evaluation as GET /evaluations answers it, the fields these tests read. */
export interface EvaluationView {
  evaluationId: string;
  requestId: string;
  phase: string;
  status: string;
  regressed?: boolean;
  baselineEvaluationId?: string;
  report?: { status: string; reportId?: string; template?: string; reason?: string; html?: string };
}

export interface ExperimentOptions {
  /** Reports main's history first, as examples/create-repos.mjs does (features' head, then model's `main~1`), so a trend has a head before the current one. */
  readonly history?: boolean;
  /** How long the request may take to finish (ms). */
  readonly timeout: number;
}

/**
 * What the README tells a new user to run: the heads reported, the regressing commit of `model`'s
 * `experiment` branch reported on its branch and evaluated (one point, window 3, to keep it short),
 * the request waited for; answers the commit, the request and its regressed evaluation.
 */
export async function evaluateExperiment(ctx: ExampleEvaluation, options: ExperimentOptions): Promise<{ experiment: string; requestId: string; regressed: EvaluationView }> {
  const experiment = await ctx.git('model', 'rev-parse', 'experiment');
  if (options.history) {
    await ctx.api('POST', '/commits', { repository: 'features', sha: ctx.heads.features });
    await ctx.api('POST', '/commits', { repository: 'model', sha: await ctx.git('model', 'rev-parse', 'main~1') });
  }
  await ctx.reportHeads();
  await ctx.api('POST', '/commits', { repository: 'model', sha: experiment, branch: 'experiment' });
  const asked = await ctx.api<{ request: { requestId: string } }>('POST', '/evaluations', { pipeline: 'forecast', commitSets: [{ model: experiment }], parameters: { window: [3] } });
  expect(asked.status).toBe(202);
  const requestId = asked.body.request.requestId;
  await waitFor(
    `request ${requestId} to finish`,
    async () => {
      const { body } = await ctx.api<{ status: string }>('GET', `/evaluations/requests/${requestId}`);
      return body.status === 'finished' || body.status === 'failed' ? body : undefined;
    },
    options.timeout,
  );
  const { body: listed } = await ctx.api<{ items: EvaluationView[] }>('GET', `/evaluations?request=${requestId}&limit=100`);
  const regressed = listed.items.find((e) => e.regressed)!;
  expect(regressed).toBeDefined();
  return { experiment, requestId, regressed };
}

/** Waits for an evaluation's diagnostic report to render or fail; answers the evaluation then. */
export function diagnosisSettled(ctx: ExampleEvaluation, evaluationId: string, timeout = 180_000): Promise<EvaluationView> {
  return waitFor(
    'the diagnostic report to render',
    async () => {
      const { body } = await ctx.api<EvaluationView>('GET', `/evaluations/${evaluationId}`);
      return body.report?.status === 'succeeded' || body.report?.status === 'failed' ? body : undefined;
    },
    timeout,
  );
}
