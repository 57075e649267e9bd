import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * Backfills, sweeps, repeats, reruns and cancels through the local runtime: a repository of ten
 * default-branch commits whose one stage (`node stage.mjs`) scores a known function of its
 * parameters, sleeps when asked to (so that a cancel lands midway), and writes a `noisy` metric
 * that varies with SYMBIONT_REPEAT around the commit's `level.txt`; two readings versions; points
 * evaluated two at a time (`local.evaluationConcurrency`). Results go back to a fake of the GitHub
 * API (a node:http server recording every call), with a token in SYMBIONT_GITHUB_TOKEN.
 */

interface GithubCall {
  method: string;
  path: string;
  authorization?: string;
  body?: Record<string, unknown>;
}

/** The GitHub REST API as far as Symbiont uses it: statuses, the pulls of a commit, issue comments. */
function fakeGithub(openPulls: (sha: string) => number[]): Promise<{ server: Server; url: string; calls: GithubCall[] }> {
  const calls: GithubCall[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const path = request.url ?? '';
      calls.push({ method: request.method ?? '', path, authorization: request.headers.authorization, ...(text ? { body: JSON.parse(text) as Record<string, unknown> } : {}) });
      const answer = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const pulls = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/pulls/.exec(path);
      if (request.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]+$/.test(path)) return answer(201, { id: calls.length });
      if (request.method === 'GET' && pulls) return answer(200, openPulls(pulls[1]!).map((number) => ({ number, state: 'open' })));
      if (request.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/.test(path)) return answer(201, { id: calls.length });
      return answer(404, { message: 'Not Found' });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls })));
}

const run = promisify(execFile);

/** The stage: score peaks at x = 3, y = 2; noisy = level ± noise by repeat (−1, 0, +1). */
const STAGE = `
import { readFileSync, writeFileSync } from 'node:fs';
const params = JSON.parse(process.env.SYMBIONT_PARAMS);
const repeat = Number(process.env.SYMBIONT_REPEAT);
const level = Number(readFileSync('level.txt', 'utf8'));
if (params.sleep) await new Promise((resolve) => setTimeout(resolve, params.sleep));
const offset = [-1, 0, 1][(repeat - 1) % 3];
writeFileSync(process.env.SYMBIONT_OUTPUT + '/metrics.json', JSON.stringify({
  score: -((params.x - 3) ** 2) - (params.y - 2) ** 2,
  noisy: level + params.noise * offset,
}));
`;

interface Request {
  requestId: string;
  status: string;
  reason: string;
  done: number;
  failed: number;
  cancelled: number;
  total: number;
  executions: string[];
  rerunOf?: string;
  summary?: Record<string, { goal: string; best: { evaluationId: string; parameters: Record<string, number>; mean: number; n: number }[] }>;
}
interface Evaluation {
  evaluationId: string;
  requestId: string;
  status: string;
  commitSet: Record<string, string>;
  version: number;
  parameters: Record<string, number>;
  isBaselineCommitSet: boolean;
  baselineEvaluationId?: string;
  reason?: string;
  scores?: Record<string, { mean: number; spread?: number; n?: number; values: number[] }>;
  comparison?: Record<string, { verdict: string; noise?: number; delta?: number; allowed?: number }>;
  verdict?: string;
}

describe('backfills, sweeps, repeats, reruns and cancels, locally', () => {
  const dir = tempDataDir('backfills');
  const repo = join(dir.path, 'repos', 'lab');
  let runtime: LocalRuntime;
  const history: string[] = [];
  let within: string;
  let beyond: string;
  let github: Awaited<ReturnType<typeof fakeGithub>>;

  const git = async (...args: string[]) =>
    (await run('git', ['-C', repo, '-c', 'user.name=Test', '-c', 'user.email=test@symbiont.invalid', '-c', 'commit.gpgsign=false', ...args])).stdout.trim();

  async function api<T>(method: string, path: string, body?: unknown, token = runtime.endpoints.tokens.admin): Promise<{ status: number; body: T }> {
    const response = await fetch(`${runtime.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  const ended = (status: string) => ['finished', 'failed', 'cancelled'].includes(status);

  async function waitForRequest(requestId: string, timeoutMs = 120_000): Promise<Request> {
    return waitFor(
      `request ${requestId} to end`,
      async () => {
        const { body } = await api<Request>('GET', `/evaluations/requests/${requestId}`);
        return ended(body.status) ? body : undefined;
      },
      timeoutMs,
    );
  }

  async function evaluationsOf(requestId: string): Promise<Evaluation[]> {
    const all: Evaluation[] = [];
    let cursor: string | undefined;
    do {
      const { body } = await api<{ items: Evaluation[]; cursor?: string }>('GET', `/evaluations?request=${requestId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...body.items);
      cursor = body.cursor;
    } while (cursor);
    return all;
  }

  /** `symbiont …` as a person runs it, with the admin token. */
  async function symbiont(...args: string[]): Promise<string> {
    const argv = [join(repoRoot, 'cli', 'bin', 'symbiont.mjs'), ...args, '--api', runtime.endpoints.api, '--token', runtime.endpoints.tokens.admin];
    return (await run(process.execPath, argv, { cwd: dir.path, timeout: 120_000 })).stdout;
  }

  async function ask(body: Record<string, unknown>): Promise<Request> {
    const asked = await api<{ request: Request } & { error?: unknown }>('POST', '/evaluations', { pipeline: 'lab', ...body });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    return asked.body.request;
  }

  beforeAll(async () => {
    mkdirSync(repo, { recursive: true });
    await git('init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repo, 'stage.mjs'), STAGE);
    for (let i = 1; i <= 10; i++) {
      writeFileSync(join(repo, 'level.txt'), '1.0\n');
      writeFileSync(join(repo, 'CHANGES'), `change ${i}\n`);
      await git('add', '-A');
      await git('commit', '--quiet', '-m', `change ${i}`);
      history.push(await git('rev-parse', 'HEAD'));
    }
    // Two commits off the default branch: noisy moves by 0.05 (within the noise) and by 0.5 (beyond it).
    await git('checkout', '--quiet', '-b', 'within');
    writeFileSync(join(repo, 'level.txt'), '1.05\n');
    await git('commit', '--quiet', '-am', 'noisy +0.05');
    within = await git('rev-parse', 'HEAD');
    await git('checkout', '--quiet', '-b', 'beyond', 'main');
    writeFileSync(join(repo, 'level.txt'), '1.5\n');
    await git('commit', '--quiet', '-am', 'noisy +0.5');
    beyond = await git('rev-parse', 'HEAD');
    await git('checkout', '--quiet', 'main');

    github = await fakeGithub((sha) => (sha === beyond ? [7] : []));
    process.env.SYMBIONT_GITHUB_TOKEN = 'ghp_test-token';
    const example = JSON.parse(readFileSync(exampleConfig, 'utf8'));
    const config = {
      datasets: example.datasets,
      repositories: { lab: { url: 'https://github.com/acme/lab', defaultBranch: 'main', path: 'repos/lab', pullRequestComments: true } },
      github: { apiUrl: github.url },
      pipelines: {
        lab: {
          stages: [{ repository: 'lab', image: 'acme/lab', command: ['node', 'stage.mjs'] }],
          datasets: ['readings'],
          metrics: { score: { goal: 'max', tolerance: { absolute: 0.5 } }, noisy: { goal: 'min', tolerance: { relative: 0.01 } } },
          parameters: { x: [3], y: [2], sleep: [0], noise: [0] },
        },
      },
      stack: example.stack,
      local: { evaluationConcurrency: 2 },
    };
    const configFile = join(dir.path, 'symbiont.config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    runtime = await startLocal({ configFile, dataDir: join(dir.path, '.symbiont'), ports: freePorts });

    const { endpoints } = runtime;
    const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    for (const [i, file] of ['readings-2025-01-06.csv', 'readings-2025-01-09.csv'].entries()) {
      await s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: `api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1Y${i}/${file}`, Body: readFileSync(join(repoRoot, 'examples', 'data', file)) }));
      await waitFor(`readings version ${i + 1}`, async () => ((await api<{ latest?: { version: number } }>('GET', '/datasets/readings')).body.latest?.version === i + 1 ? true : undefined), 30_000);
    }
    s3.destroy();
    // The default branch's history, one push after another: each moves the head.
    for (const sha of history) expect((await api('POST', '/commits', { repository: 'lab', sha })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    delete process.env.SYMBIONT_GITHUB_TOKEN;
    github?.server.close();
    await runtime?.stop();
    dir.remove();
  });

  it('backfills the last 10 default-branch commits × readings v1..v2 as 20 evaluations, never moving the baseline back', async () => {
    // Act
    const request = await ask({ commits: { repository: 'lab', last: 10 }, datasetVersions: [{ dataset: 'readings', from: 1, to: 2 }], parameters: { x: [4] } });
    const finished = await waitForRequest(request.requestId);
    const evaluations = await evaluationsOf(request.requestId);

    // Assess
    expect(request).toMatchObject({ reason: 'backfill', total: 20 });
    expect(finished).toMatchObject({ status: 'finished', done: 20, failed: 0, cancelled: 0 });
    expect(evaluations).toHaveLength(20);
    expect(new Set(evaluations.map((e) => `${e.commitSet.lab}@${e.version}`)).size).toBe(20);
    expect(new Set(evaluations.map((e) => e.commitSet.lab))).toEqual(new Set(history));
    // Only the head's evaluations are the baseline commit set; every other commit compares with the head's on its version.
    const headOf = new Map(evaluations.filter((e) => e.commitSet.lab === history.at(-1)).map((e) => [e.version, e.evaluationId]));
    for (const evaluation of evaluations.filter((e) => e.commitSet.lab !== history.at(-1))) {
      expect(evaluation.isBaselineCommitSet).toBe(false);
      expect(evaluation.baselineEvaluationId).toBe(headOf.get(evaluation.version));
    }

    // Act: a later candidate on the same point still compares with the head, not with an older backfilled commit.
    const later = await ask({ commitSets: [{ lab: within }], datasetVersions: [{ dataset: 'readings', version: 2 }], parameters: { x: [4] } });
    await waitForRequest(later.requestId);
    const [candidate] = await evaluationsOf(later.requestId);

    // Assess
    expect(candidate!.baselineEvaluationId).toBe(headOf.get(2));
  }, 180_000);

  it('cancels a backfill midway: its execution stops and what had not run is counted cancelled', async () => {
    // Arrange: each point sleeps 1.5 s, two at a time
    const request = await ask({ commits: { repository: 'lab', from: history[0]!.slice(0, 10), to: history[9] }, datasetVersions: [{ dataset: 'readings', from: 1 }], parameters: { sleep: [1500] } });
    expect(request.total).toBe(20);
    await waitFor('a few points done', async () => ((await api<Request>('GET', `/evaluations/requests/${request.requestId}`)).body.done >= 3 ? true : undefined), 90_000);

    // Act
    const cancelled = await api<{ request: Request; cancelled: boolean }>('POST', `/evaluations/requests/${request.requestId}/cancel`, undefined, runtime.endpoints.tokens.scientist);
    const again = await api<{ request: Request; cancelled: boolean }>('POST', `/evaluations/requests/${request.requestId}/cancel`);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toBe(true);
    expect(again.body.cancelled).toBe(false);
    const { request: after } = cancelled.body;
    expect(after.status).toBe('cancelled');
    expect(after.done).toBeGreaterThanOrEqual(3);
    expect(after.cancelled).toBeGreaterThan(0);
    expect(after.done + after.failed + after.cancelled).toBe(20);
    const sfn = new SFNClient({ endpoint: runtime.endpoints.stepfunctions, region: runtime.endpoints.region, credentials: { ...runtime.endpoints.credentials } });
    const execution = await waitFor(
      'the execution to stop',
      async () => {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: `${runtime.endpoints.stateMachines.evaluate.replace(':stateMachine:', ':execution:')}:${after.executions[0]}` }));
        return described.status === 'RUNNING' ? undefined : described;
      },
      15_000,
    );
    sfn.destroy();
    expect(execution.status).toBe('ABORTED');
    // Nothing runs on: a few seconds later no evaluation is running and the counts stand.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const evaluations = await evaluationsOf(request.requestId);
    const { body: settled } = await api<Request>('GET', `/evaluations/requests/${request.requestId}`);
    expect(evaluations.filter((e) => e.status === 'running')).toEqual([]);
    // Every point is succeeded (ran before the cancel) or cancelled without scores (never ran to the end).
    expect(evaluations.every((e) => e.status === 'succeeded' || (e.status === 'cancelled' && e.scores === undefined))).toBe(true);
    expect(evaluations.filter((e) => e.status === 'cancelled').length + (20 - evaluations.length)).toBe(settled.cancelled);
    expect(settled).toMatchObject({ status: 'cancelled', done: evaluations.filter((e) => e.status === 'succeeded').length });
    expect(settled.done + settled.failed + settled.cancelled).toBe(20);
  }, 180_000);

  it('sweeps a 5 × 5 grid of ranges as 25 evaluations and names the best point per metric', async () => {
    // Act
    const request = await ask({ parameters: { x: { from: 1, to: 5 }, y: { from: 0, to: 4, step: 1 } }, datasetVersions: [{ dataset: 'readings', version: 1 }] });
    const finished = await waitForRequest(request.requestId);
    const evaluations = await evaluationsOf(request.requestId);

    // Assess
    expect(request).toMatchObject({ reason: 'sweep', total: 25 });
    expect(finished).toMatchObject({ status: 'finished', done: 25 });
    expect(evaluations).toHaveLength(25);
    expect(new Set(evaluations.map((e) => `${e.parameters.x},${e.parameters.y}`)).size).toBe(25);
    const best = finished.summary!.score!;
    expect(best.goal).toBe('max');
    expect(best.best[0]).toMatchObject({ parameters: { x: 3, y: 2 }, mean: 0, n: 1 });
    expect(best.best.map((b) => b.mean)).toEqual([...best.best.map((b) => b.mean)].sort((a, b) => b - a));
    expect(best.best[1]!.mean).toBe(-1);
  }, 180_000);

  it('runs each point n times; a noisy change within its spread is not flagged, beyond it is', async () => {
    // Act: noisy ± 0.1 over 3 repeats (spread 0.1); base level 1.0
    const inNoise = await ask({ commitSets: [{ lab: within }], datasetVersions: [{ dataset: 'readings', version: 1 }], parameters: { noise: [0.1] }, repeats: 3 });
    await waitForRequest(inNoise.requestId);
    const outOfNoise = await ask({ commitSets: [{ lab: beyond }], datasetVersions: [{ dataset: 'readings', version: 1 }], parameters: { noise: [0.1] }, repeats: 3 });
    await waitForRequest(outOfNoise.requestId);
    const [quiet] = (await evaluationsOf(inNoise.requestId)).filter((e) => e.commitSet.lab === within);
    const [loud] = (await evaluationsOf(outOfNoise.requestId)).filter((e) => e.commitSet.lab === beyond);

    // Assess
    expect(quiet!.scores!.noisy!.n).toBe(3);
    quiet!.scores!.noisy!.values.forEach((value, i) => expect(value).toBeCloseTo([0.95, 1.05, 1.15][i]!, 9));
    expect(quiet!.scores!.noisy!.spread).toBeCloseTo(0.1, 9);
    expect(quiet!.comparison!.noisy!.delta).toBeGreaterThan(quiet!.comparison!.noisy!.allowed!);
    expect(quiet!.comparison!.noisy).toMatchObject({ verdict: 'unchanged' });
    expect(quiet!.comparison!.noisy!.noise).toBeGreaterThan(quiet!.comparison!.noisy!.delta!);
    expect(loud!.comparison!.noisy).toMatchObject({ verdict: 'regressed' });
    expect(loud!.verdict).toBe('regressed');

    // Back on GitHub: a status on each commit, failure for the regression with a link to its request, and the table on its open pull request.
    const statusOf = (sha: string) => github.calls.filter((c) => c.method === 'POST' && c.path === `/repos/acme/lab/statuses/${sha}`).at(-1);
    expect(statusOf(within)).toMatchObject({ authorization: 'token ghp_test-token', body: { state: 'success', context: 'symbiont/lab' } });
    expect(statusOf(beyond)?.body).toMatchObject({ state: 'failure', context: 'symbiont/lab', description: '1 evaluated: 1 regressed' });
    expect(statusOf(beyond)?.body?.target_url).toBe(`${runtime.endpoints.api}/evaluations/requests/${outOfNoise.requestId}`);
    const comments = github.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/comments'));
    expect(comments.map((c) => c.path)).toEqual(['/repos/acme/lab/issues/7/comments']);
    expect(String(comments[0]!.body!.body)).toMatch(/\| readings v1 \| noise=0\.1 .*\| noisy \(min\) \| 1 \| 1\.5 \| 0\.5 \| regressed \|/);
  }, 180_000);

  it('reruns one evaluation as a request of its own (admins only), keeping the earlier attempt', async () => {
    // Arrange
    const first = await ask({ commitSets: [{ lab: history[4]! }], datasetVersions: [{ dataset: 'readings', version: 1 }], parameters: { x: [5] } });
    await waitForRequest(first.requestId);
    const [earlier] = (await evaluationsOf(first.requestId)).filter((e) => e.commitSet.lab === history[4]);

    // Act
    const refused = await api('POST', '/evaluations/reruns', { evaluationId: earlier!.evaluationId }, runtime.endpoints.tokens.scientist);
    const rerun = await api<{ request: Request }>('POST', '/evaluations/reruns', { evaluationId: earlier!.evaluationId });
    const finished = await waitForRequest(rerun.body.request.requestId);
    const [again] = (await evaluationsOf(finished.requestId)).filter((e) => e.commitSet.lab === history[4]);
    const { body: both } = await api<{ items: Evaluation[] }>('GET', `/evaluations?repository=lab&commit=${history[4]}&limit=100`);

    // Assess
    expect(refused.status).toBe(403);
    expect(rerun.status).toBe(202);
    expect(finished).toMatchObject({ reason: 'rerun', rerunOf: earlier!.evaluationId, status: 'finished', done: 1 });
    expect(again!.evaluationId).not.toBe(earlier!.evaluationId);
    expect(again).toMatchObject({ parameters: earlier!.parameters, version: 1, status: 'succeeded', reason: 'rerun' });
    const { body: kept } = await api<Evaluation>('GET', `/evaluations/${earlier!.evaluationId}`);
    expect(kept.status).toBe('succeeded');
    expect(both.items.map((e) => e.evaluationId)).toEqual(expect.arrayContaining([earlier!.evaluationId, again!.evaluationId]));
  }, 180_000);
  it('shows the trend of a metric over the default branch and over dataset versions, by API and CLI', async () => {
    // Act: after the backfill, x = 4 has an evaluation of every head on both versions
    const { status, body: trend } = await api<{
      goal: string;
      commits: { version: number; series: { parameters: Record<string, number>; points: { sha: string; seq: number; value: number; base?: number; band?: { low: number; high: number }; regressed: boolean }[] }[] };
      versions: { sha?: string; series: { parameters: Record<string, number>; points: { version: number; value: number }[] }[] };
    }>('GET', '/pipelines/lab/trend?metric=score&dataset=readings');
    const table = await symbiont('trend', 'lab', '--metric', 'score', '--dataset', 'readings');
    const refused = await api<{ error: { message: string } }>('GET', '/pipelines/lab/trend?metric=rmse&dataset=readings');

    // Assess
    expect(status).toBe(200);
    expect(trend.goal).toBe('max');
    expect(trend.commits.version).toBe(2);
    const x4 = trend.commits.series.find((s) => s.parameters.x === 4)!;
    expect(x4.points.map((p) => p.sha)).toEqual(history);
    expect(x4.points.map((p) => p.seq)).toEqual(history.map((_, i) => i + 1));
    expect(x4.points.every((p) => p.value === -1 && !p.regressed)).toBe(true);
    for (const point of x4.points.filter((p) => p.base !== undefined)) expect(point.band).toEqual({ low: point.base! - 0.5, high: point.base! + 0.5 });
    expect(trend.versions.sha).toBe(history[9]);
    expect(trend.versions.series.find((s) => s.parameters.x === 4)!.points.map((p) => p.version)).toEqual([1, 2]);
    expect(table).toContain(`${history[9]!.slice(0, 12)} (#10)`);
    expect(table).toMatch(/COMMIT\s+VALUE\s+BASELINE\s+BAND\s+VERDICT/);
    expect(table).toContain('readings@1');
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('has no metric rmse');
  }, 120_000);

  it('backfills, sweeps, cancels and reruns from the CLI', async () => {
    // Act
    const sweep = JSON.parse(await symbiont('evaluations', 'sweep', 'lab', '--param', 'x=2..4', '--param', 'y=2', '--dataset', 'readings@1', '--wait', '--json')) as {
      request: Request;
      evaluations: Evaluation[];
    };
    const backfill = JSON.parse(await symbiont('evaluations', 'backfill', 'lab', '--repository', 'lab', '--last', '2', '--dataset', 'readings@1..2', '--param', 'x=6', '--json')) as {
      request: Request;
    };
    const cancelled = await symbiont('evaluations', 'cancel', backfill.request.requestId);
    const shown = await symbiont('evaluations', 'request', sweep.request.requestId);

    // Assess
    expect(sweep.request).toMatchObject({ reason: 'sweep', total: 3, status: 'finished' });
    expect(sweep.evaluations.map((e) => e.parameters.x).sort()).toEqual([2, 3, 4]);
    expect(backfill.request).toMatchObject({ reason: 'backfill', total: 4 });
    expect(cancelled).toMatch(/^(Cancelled|Not cancelled: it had ended)/);
    expect(shown).toMatch(/score \(higher is better\)\s+1\s+0\s+noise=0 sleep=0 x=3 y=2/);
  }, 180_000);
});
