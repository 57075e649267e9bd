import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import webhookExamples from '@octokit/webhooks-examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * Commit intake through the local runtime: GitHub push payloads from @octokit/webhooks-examples,
 * pointed at the example repositories (examples/create-repos.mjs) and signed with the config's
 * webhook secret, are POSTed to /webhooks/github; plan-evaluations turns them into evaluation
 * requests that run for real. A new readings version is uploaded to landing and re-evaluated.
 */

const run = promisify(execFile);
const SECRET = 'commit-intake-test-secret';

interface Evaluation {
  evaluationId: string;
  requestId: string;
  status: string;
  commitSet: Record<string, string>;
  dataset: string;
  version: number;
  reason?: string;
  trigger?: Record<string, unknown>;
  isBaselineCommitSet: boolean;
  baselineEvaluationId?: string;
  verdict?: string;
}
interface Request {
  requestId: string;
  status: string;
  reason: string;
  trigger?: Record<string, unknown>;
  commitSets: Record<string, string>[];
  datasetVersions: { dataset: string; version: number }[];
  baselineCommitSet?: Record<string, string>;
}
interface CommitPage {
  items: { sha: string; branch: string; source: string; deliveryId?: string; evaluations: { evaluationId: string; status: string; verdict?: string; version: number }[] }[];
  cursor?: string;
}

type PushExample = Record<string, any>;
const pushExamples = (webhookExamples as { name: string; examples: PushExample[] }[]).find((e) => e.name === 'push')!.examples;
const pingExample = (webhookExamples as { name: string; examples: PushExample[] }[]).find((e) => e.name === 'ping')!.examples[0]!;
/** GitHub's own example of a push creating a branch, and of a tag push. */
const branchPush = pushExamples.find((e) => e.ref.startsWith('refs/heads/') && !e.deleted)!;
const tagPush = pushExamples.find((e) => e.ref.startsWith('refs/tags/') && !e.deleted)!;

describe('commit intake, locally', () => {
  const dir = tempDataDir('commit-intake');
  const repos = join(dir.path, 'repos');
  let runtime: LocalRuntime;
  let s3: S3Client;
  let heads: { features: string; model: string };
  let regressing: string;
  let modelPushEvaluations: Evaluation[];
  /** Messages plan-evaluations has handled (the local poller reports each batch). */
  let planned = 0;

  const git = async (repo: string, ...args: string[]) => (await run('git', ['-C', join(repos, repo), ...args])).stdout.trim();

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${runtime.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${runtime.endpoints.tokens.scientist}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** A push of GitHub's example, pointed at `repository`'s `branch` moving to `sha`. */
  function pushTo(repository: string, branch: string, sha: string, before = '0'.repeat(40)): PushExample {
    const push = structuredClone(branchPush);
    push.ref = `refs/heads/${branch}`;
    push.before = before;
    push.after = sha;
    push.head_commit = { ...push.head_commit, id: sha };
    push.commits = [{ ...push.commits[0], id: sha }];
    push.repository = { ...push.repository, name: repository, full_name: `acme/${repository}`, pushed_at: Math.floor(Date.now() / 1000) };
    return push;
  }

  /** POSTs a delivery as GitHub does: the raw JSON, its HMAC-SHA256 (computed here), event and delivery id. */
  async function deliver(event: string, payload: unknown, options: { deliveryId?: string; signature?: string | null } = {}) {
    const body = JSON.stringify(payload);
    const signature = options.signature === undefined ? `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` : options.signature;
    const response = await fetch(`${runtime.endpoints.api}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': options.deliveryId ?? randomUUID(),
        'user-agent': 'GitHub-Hookshot/test',
        ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as { outcome?: string; reason?: string; error?: { code: string } } };
  }

  /** The evaluations whose request was triggered by `trigger`, once every one of them has finished. */
  async function finishedEvaluationsOf(trigger: Record<string, unknown>): Promise<Evaluation[]> {
    return waitFor(
      `the evaluations triggered by ${JSON.stringify(trigger)} to finish`,
      async () => {
        const { body } = await api<{ items: Evaluation[] }>('GET', '/evaluations?pipeline=forecast&limit=100');
        const found = body.items.filter((e) => JSON.stringify(e.trigger) === JSON.stringify(trigger));
        if (found.length === 0) return undefined;
        const { body: request } = await api<Request>('GET', `/evaluations/requests/${found[0]!.requestId}`);
        if (request.status !== 'finished') return undefined;
        return (await api<{ items: Evaluation[] }>('GET', `/evaluations?request=${request.requestId}&limit=100`)).body.items;
      },
      90_000,
    );
  }

  async function commitsOf(repository: string, query = ''): Promise<CommitPage> {
    const { status, body } = await api<CommitPage>('GET', `/commits?repository=${repository}${query}`);
    expect(status).toBe(200);
    return body;
  }

  async function upload(key: string, body: Buffer): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: runtime.endpoints.buckets.landing, Key: key, Body: body }));
  }

  beforeAll(async () => {
    await run(process.execPath, [join(repoRoot, 'examples', 'create-repos.mjs'), '--dir', repos, '--no-report', '--quiet']);
    heads = { features: await git('features', 'rev-parse', 'main'), model: await git('model', 'rev-parse', 'main') };
    regressing = await git('model', 'rev-parse', 'experiment');

    const config = JSON.parse(readFileSync(exampleConfig, 'utf8'));
    config.repositories.features.path = 'repos/features';
    config.repositories.model.path = 'repos/model';
    config.webhooks = { githubSecret: SECRET };
    config.templates = {};
    // Diagnostic reports are their own tests' business (they need a Jupyter kernel).
    delete config.pipelines.forecast.onRegression;
    const configFile = join(dir.path, 'symbiont.config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    runtime = await startLocal({
      configFile,
      dataDir: join(dir.path, '.symbiont'),
      ports: freePorts,
      onBatch: (batch) => {
        if (batch.queue === runtime?.endpoints.queues.commit.url) planned += batch.messageIds.length - batch.failedIds.length;
      },
    });
    const { endpoints } = runtime;
    s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });

    await upload('api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1YB/readings.csv', readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')));
    await waitFor('readings version 1', async () => ((await api<{ latest?: unknown }>('GET', '/datasets/readings')).body.latest ? true : undefined), 30_000);
    // Version 1 was announced before any head exists: planned, and nothing to evaluate yet.
    await waitFor('version 1 planned', () => (planned >= 1 ? true : undefined));

    // features first: with no head of model yet, its push records the commit and evaluates nothing.
    expect((await deliver('push', pushTo('features', 'main', heads.features))).body.outcome).toBe('queued');
    await waitFor('the head of features', async () =>
      (await api<{ items: { repository: string; head?: { sha: string } }[] }>('GET', '/repositories')).body.items.find((r) => r.repository === 'features')?.head?.sha === heads.features ? true : undefined,
    );
    expect((await deliver('push', pushTo('model', 'main', heads.model))).body.outcome).toBe('queued');
    modelPushEvaluations = await finishedEvaluationsOf({ repository: 'model', sha: heads.model });
  }, 240_000);

  afterAll(async () => {
    s3?.destroy();
    await runtime?.stop();
    dir.remove();
  });

  it('evaluates a push to the second repository with the first repository’s default-branch head', () => {
    // Assess
    expect(modelPushEvaluations).toHaveLength(2);
    for (const evaluation of modelPushEvaluations) {
      expect(evaluation).toMatchObject({ status: 'succeeded', commitSet: heads, reason: 'commit', trigger: { repository: 'model', sha: heads.model }, dataset: 'readings', version: 1 });
    }
  });

  it('records the pushed commits as coming from GitHub with their delivery ids', async () => {
    // Act
    const page = await commitsOf('model');

    // Assess
    expect(page.items[0]).toMatchObject({ sha: heads.model, branch: 'main', source: 'github', deliveryId: expect.any(String) });
    expect(page.items[0]!.evaluations.map((e) => e.evaluationId).sort()).toEqual(modelPushEvaluations.map((e) => e.evaluationId).sort());
    expect(page.items[0]!.evaluations.every((e) => e.verdict === 'no-baseline')).toBe(true);
  });

  it('refuses a delivery without a signature', async () => {
    // Act
    const answer = await deliver('push', pushTo('model', 'main', heads.model), { signature: null });

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('unauthorized');
  });

  it('refuses a delivery signed with another secret', async () => {
    // Prepare
    const payload = pushTo('model', 'main', heads.model);
    const forged = `sha256=${createHmac('sha256', 'not-the-secret').update(JSON.stringify(payload)).digest('hex')}`;

    // Act
    const answer = await deliver('push', payload, { signature: forged });

    // Assess
    expect(answer.status).toBe(401);
  });

  it('answers a ping', async () => {
    // Act
    const answer = await deliver('ping', pingExample);

    // Assess
    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'pong' }) });
  });

  it('starts nothing for a tag push, a branch deletion, an unknown repository or another event, and says why', async () => {
    // Prepare
    const tag = structuredClone(tagPush);
    tag.repository = { ...tag.repository, name: 'model', full_name: 'acme/model' };
    const deletion = { ...pushTo('model', 'experiment', '0'.repeat(40), regressing), deleted: true, head_commit: null, commits: [] };

    // Act
    const answers = await Promise.all([deliver('push', tag), deliver('push', deletion), deliver('push', branchPush), deliver('issues', { action: 'opened' })]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(answers.map((a) => a.body.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    expect(answers[0]!.body.reason).toMatch(/refs\/tags\/simple-tag is not a branch/);
    expect(answers[1]!.body.reason).toMatch(/deleted/);
    expect(answers[2]!.body.reason).toMatch(/Codertocat\/Hello-World is not configured/);
    expect(answers[3]!.body.reason).toMatch(/issues events start nothing/);
  });

  it('re-evaluates the default-branch commit set on a new dataset version, which becomes its baseline', async () => {
    // Prepare: the second example file is another readings version.
    await upload('api/readings/01JD8X5Q3ZC9W8M2V7K4T6R1YC/readings.csv', readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-09.csv')));

    // Act
    const evaluations = await finishedEvaluationsOf({ dataset: 'readings', version: 2 });
    const { body: request } = await api<Request>('GET', `/evaluations/requests/${evaluations[0]!.requestId}`);

    // Assess
    expect(request).toMatchObject({ reason: 'data', commitSets: [heads], datasetVersions: [{ dataset: 'readings', version: 2 }], baselineCommitSet: heads });
    for (const evaluation of evaluations) expect(evaluation).toMatchObject({ status: 'succeeded', commitSet: heads, version: 2, isBaselineCommitSet: true });

    // A push to a branch is compared with exactly these evaluations: they are version 2's baselines.
    const delivered = await deliver('push', pushTo('model', 'experiment', regressing, heads.model));
    const branch = await finishedEvaluationsOf({ repository: 'model', sha: regressing });
    expect(delivered.body.outcome).toBe('queued');
    expect(branch.map((e) => e.baselineEvaluationId).sort()).toEqual(evaluations.map((e) => e.evaluationId).sort());
    expect(branch.every((e) => e.verdict !== undefined && e.verdict !== 'no-baseline')).toBe(true);
    expect(branch.every((e) => e.commitSet.features === heads.features && e.commitSet.model === regressing)).toBe(true);
  });

  it('drops a redelivered delivery id: nothing is queued again', async () => {
    // Prepare: two new commits on a branch of their own; the first delivery announces the head.
    const commit = async (message: string) => {
      await git('model', '-c', 'user.name=Test', '-c', 'user.email=test@symbiont.invalid', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--allow-empty', '-m', message);
      return git('model', 'rev-parse', 'HEAD');
    };
    await git('model', 'checkout', '--quiet', '-b', 'replay', 'main');
    const replayed = await commit('replayed');
    const sentinel = await commit('sentinel');
    await git('model', 'checkout', '--quiet', 'main');
    const deliveryId = randomUUID();
    await deliver('push', pushTo('model', 'replay', heads.model), { deliveryId });

    // Act: the same delivery id again, now announcing another commit; then a fresh delivery.
    const again = await deliver('push', pushTo('model', 'replay', replayed), { deliveryId });
    await deliver('push', pushTo('model', 'sentinel', sentinel));
    await waitFor('the sentinel commit', async () => ((await commitsOf('model', '&limit=100')).items.some((c) => c.sha === sentinel) ? true : undefined));

    // Assess
    expect(again).toEqual({ status: 202, body: expect.objectContaining({ outcome: 'ignored', reason: `delivery ${deliveryId} was received before` }) });
    expect((await commitsOf('model', '&limit=100')).items.map((c) => c.sha)).not.toContain(replayed);
  });

  it('lists a repository’s commits newest first, a page at a time', async () => {
    // Act
    const first = await commitsOf('model', '&limit=1');
    const second = await commitsOf('model', `&limit=1&cursor=${encodeURIComponent(first.cursor!)}`);
    const all = await commitsOf('model', '&limit=100');

    // Assess
    expect(first.items).toHaveLength(1);
    expect(second.items[0]!.sha).toBe(all.items[1]!.sha);
    expect(all.items.map((c) => c.sha)).toEqual(expect.arrayContaining([heads.model, regressing]));
    expect(all.items.findIndex((c) => c.sha === regressing)).toBeLessThan(all.items.findIndex((c) => c.sha === heads.model));
    expect(all.items.find((c) => c.sha === regressing)!.evaluations).toHaveLength(2);
    expect(all.items.find((c) => c.sha === regressing)!.evaluations.every((e) => e.status === 'succeeded' && e.verdict !== 'no-baseline')).toBe(true);
  });
});
