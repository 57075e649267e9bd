import { createHmac } from 'node:crypto';
import webhookExamples from '@octokit/webhooks-examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeMessage } from '#evaluation/commit-messages';
import { InvalidEvaluationMessageError, WebhookSignatureError } from '#evaluation/errors';
import { createGithubWebhook, pushToCommitEvent, verifyGithubSignature, type PushPayload } from '#evaluation/github-webhook';
import { parseIntakeRecord } from '#evaluation/commit-messages';
import { planEvaluations } from '#evaluation/plan-evaluations';
import { getCommit, getRepositoryHead } from '#store/commits';
import { getRequest } from '#store/evaluations';
import { Table } from '#store/table';
import { config, memoryQueue, publishVersion, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** Commit intake without servers: the webhook's signature check and push mapping, delivery dedupe, and planning. */

const SECRET = 'unit-test-secret';
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const pushExamples = (webhookExamples as { name: string; examples: Record<string, any>[] }[]).find((e) => e.name === 'push')!.examples;
const branchPush = pushExamples.find((e) => e.ref.startsWith('refs/heads/') && !e.deleted)!;
const now = new Date('2030-05-01T12:00:00Z');

/** GitHub's example branch push, pointed at `acme/<repository>`. */
function push(repository: string, changes: Partial<PushPayload> & Record<string, unknown> = {}): PushPayload {
  const payload = structuredClone(branchPush);
  payload.repository = { ...payload.repository, name: repository, full_name: `acme/${repository}`, pushed_at: 1_900_000_000 };
  payload.ref = 'refs/heads/main';
  payload.after = sha('a');
  return { ...payload, ...changes } as PushPayload;
}

describe('webhook signatures', () => {
  const body = Buffer.from(JSON.stringify(branchPush));

  it('accepts the HMAC-SHA256 of the raw body with the shared secret', () => {
    // Assess
    expect(verifyGithubSignature(SECRET, body, sign(body.toString()))).toBe(true);
  });

  it('refuses a signature made with another secret', () => {
    // Assess
    expect(verifyGithubSignature(SECRET, body, sign(body.toString(), 'another-secret'))).toBe(false);
  });

  it('refuses a body changed by one byte', () => {
    // Prepare
    const changed = Buffer.from(body);
    changed[10] = changed[10]! ^ 1;

    // Assess
    expect(verifyGithubSignature(SECRET, changed, sign(body.toString()))).toBe(false);
  });

  it('refuses a missing, unprefixed or truncated signature', () => {
    // Prepare
    const good = sign(body.toString());

    // Assess
    expect(verifyGithubSignature(SECRET, body, undefined)).toBe(false);
    expect(verifyGithubSignature(SECRET, body, good.slice('sha256='.length))).toBe(false);
    expect(verifyGithubSignature(SECRET, body, good.slice(0, -2))).toBe(false);
    expect(verifyGithubSignature(SECRET, body, good.replace('sha256=', 'sha1='))).toBe(false);
  });
});

describe('pushes as commit events', () => {
  it('maps a branch push to the configured repository whose url names it', () => {
    // Act
    const outcome = pushToCommitEvent(push('model', { ref: 'refs/heads/experiment', after: sha('B') }), config, 'delivery-1', now);

    // Assess
    expect(outcome).toEqual({
      kind: 'commit',
      message: { repository: 'model', sha: sha('b'), branch: 'experiment', pushedAt: '2030-03-17T17:46:40.000Z', source: 'github', deliveryId: 'delivery-1' },
    });
  });

  it('takes the delivery time when the push says none', () => {
    // Act
    const outcome = pushToCommitEvent(push('model', { repository: { name: 'model', full_name: 'acme/model' } }), config, 'delivery-2', now);

    // Assess
    expect(outcome.kind === 'commit' && outcome.message.pushedAt).toBe(now.toISOString());
  });

  it('ignores a tag push', () => {
    // Act
    const outcome = pushToCommitEvent(push('model', { ref: 'refs/tags/v1' }), config, 'd', now);

    // Assess
    expect(outcome).toEqual({ kind: 'ignored', reason: 'refs/tags/v1 is not a branch (tag pushes start nothing)' });
  });

  it('ignores a branch deletion', () => {
    // Act
    const outcome = pushToCommitEvent(push('model', { ref: 'refs/heads/old', deleted: true, after: '0'.repeat(40) }), config, 'd', now);

    // Assess
    expect(outcome).toEqual({ kind: 'ignored', reason: 'branch old of model was deleted' });
  });

  it('ignores a repository the config does not have', () => {
    // Act
    const outcome = pushToCommitEvent(branchPush as PushPayload, config, 'd', now);

    // Assess
    expect(outcome).toEqual({ kind: 'ignored', reason: 'repository Codertocat/Hello-World is not configured in Symbiont' });
  });

  it('ignores a branch outside the repository’s evaluated branches', () => {
    // Prepare
    const narrowed = { repositories: { ...config.repositories, model: { ...config.repositories.model!, branches: ['main'] } } };

    // Act
    const outcome = pushToCommitEvent(push('model', { ref: 'refs/heads/wip' }), narrowed, 'd', now);

    // Assess
    expect(outcome).toEqual({ kind: 'ignored', reason: 'branch wip of model is not one of its evaluated branches (main)' });
  });
});

describe('commit-queue messages', () => {
  it('names what is wrong with a message that is neither a commit nor a dataset version', () => {
    // Prepare
    const record = { messageId: 'm-1', body: JSON.stringify({ repository: 'model', sha: 'abc' }), attributes: {}, messageAttributes: {} };

    // Assess
    expect(() => parseIntakeRecord(record as never)).toThrow(InvalidEvaluationMessageError);
  });
});

describe('the webhook and planning, on a table', () => {
  let testTable: TestTable;
  let table: Table;

  beforeAll(async () => {
    testTable = await startTestTable('symbiont-commit-intake');
    table = new Table(testTable.client, testTable.tableName);
    await publishVersion(table, 'readings', 1);
  });

  afterAll(async () => {
    await testTable.close();
  });

  function webhook(clock: () => Date = () => now, failSend = false) {
    const sent: IntakeMessage[] = [];
    const hook = createGithubWebhook({
      table,
      config,
      secret: async () => SECRET,
      now: clock,
      queue: {
        async send(message) {
          if (failSend) throw new Error('queue unavailable');
          sent.push(message);
        },
      },
    });
    const deliver = (payload: unknown, deliveryId: string, event = 'push') => {
      const body = JSON.stringify(payload);
      return hook.receive({ headers: { 'x-github-event': event, 'x-github-delivery': deliveryId, 'x-hub-signature-256': sign(body) }, body: Buffer.from(body) });
    };
    return { hook, sent, deliver };
  }

  it('refuses a delivery without a signature before reading it', async () => {
    // Act
    const receiving = webhook().hook.receive({ headers: { 'x-github-event': 'push', 'x-github-delivery': 'x' }, body: Buffer.from('not json') });

    // Assess
    await expect(receiving).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  it('queues a push once, and ignores its redelivery', async () => {
    // Prepare
    const { sent, deliver } = webhook();

    // Act
    const first = await deliver(push('model', { after: sha('c') }), 'delivery-dedupe');
    const again = await deliver(push('model', { after: sha('c') }), 'delivery-dedupe');

    // Assess
    expect(first).toMatchObject({ status: 202, outcome: 'queued', commit: { repository: 'model', sha: sha('c'), branch: 'main' } });
    expect(again).toEqual({ status: 202, outcome: 'ignored', reason: 'delivery delivery-dedupe was received before', deliveryId: 'delivery-dedupe' });
    expect(sent).toHaveLength(1);
  });

  it('takes a delivery id again once its record has expired', async () => {
    // Prepare
    await webhook().deliver(push('model', { after: sha('d') }), 'delivery-expiring');
    const later = webhook(() => new Date(now.getTime() + 8 * 24 * 3600 * 1000));

    // Act
    const answer = await later.deliver(push('model', { after: sha('d') }), 'delivery-expiring');

    // Assess
    expect(answer.outcome).toBe('queued');
    expect(later.sent).toHaveLength(1);
  });

  it('lets GitHub redeliver a push it could not queue', async () => {
    // Prepare
    const failing = webhook(() => now, true);
    await expect(failing.deliver(push('model', { after: sha('e') }), 'delivery-unqueued')).rejects.toThrow('queue unavailable');
    const working = webhook();

    // Act
    const answer = await working.deliver(push('model', { after: sha('e') }), 'delivery-unqueued');

    // Assess
    expect(answer.outcome).toBe('queued');
  });

  it('records a commit and evaluates nothing while another repository of the pipeline has no head', async () => {
    // Prepare
    const queue = memoryQueue();

    // Act
    const outcome = await planEvaluations({ repository: 'features', sha: sha('1'), branch: 'main', pushedAt: '2030-01-01T00:00:00Z', source: 'github', deliveryId: 'd-1' }, { table, config, queue });

    // Assess
    expect(outcome.pipelines).toEqual([{ pipeline: 'forecast', skipped: expect.stringMatching(/repository model has no default-branch head/) }]);
    expect(await getCommit(table, 'features', sha('1'))).toMatchObject({ source: 'github', deliveryId: 'd-1' });
    expect(queue.messages).toEqual([]);
  });

  it('evaluates a commit with the other repositories’ heads, reason commit, naming the commit as trigger', async () => {
    // Prepare
    const queue = memoryQueue();

    // Act
    const outcome = await planEvaluations({ repository: 'model', sha: sha('2'), branch: 'main', pushedAt: '2030-01-01T00:00:00Z', source: 'github' }, { table, config, queue });
    const request = await getRequest(table, outcome.pipelines[0]!.requestId!);

    // Assess
    expect((await getRepositoryHead(table, 'model'))?.sha).toBe(sha('2'));
    expect(request).toMatchObject({ reason: 'commit', trigger: { repository: 'model', sha: sha('2') }, commitSets: [{ features: sha('1'), model: sha('2') }] });
    expect(queue.messages).toHaveLength(1);
  });

  it('compares a commit on another branch with the default-branch heads', async () => {
    // Prepare
    const queue = memoryQueue();

    // Act
    const outcome = await planEvaluations({ repository: 'model', sha: sha('3'), branch: 'experiment', pushedAt: '2030-01-02T00:00:00Z', source: 'api', reportedBy: 'ci' }, { table, config, queue });
    const request = await getRequest(table, outcome.pipelines[0]!.requestId!);

    // Assess
    expect((await getRepositoryHead(table, 'model'))?.sha).toBe(sha('2'));
    expect(request).toMatchObject({ commitSets: [{ features: sha('1'), model: sha('3') }], baselineCommitSet: { features: sha('1'), model: sha('2') }, createdBy: 'ci' });
  });

  it('evaluates the default-branch commit set on a new dataset version, reason data', async () => {
    // Prepare
    const queue = memoryQueue();
    await publishVersion(table, 'readings', 2);

    // Act
    const outcome = await planEvaluations({ dataset: 'readings', version: 2, publishedAt: '2030-01-03T00:00:00Z' }, { table, config, queue });
    const request = await getRequest(table, outcome.pipelines[0]!.requestId!);

    // Assess
    expect(request).toMatchObject({
      reason: 'data',
      trigger: { dataset: 'readings', version: 2 },
      commitSets: [{ features: sha('1'), model: sha('2') }],
      datasetVersions: [{ dataset: 'readings', version: 2 }],
      baselineCommitSet: { features: sha('1'), model: sha('2') },
    });
  });

  it('plans nothing for a dataset no pipeline is evaluated on', async () => {
    // Act
    const outcome = await planEvaluations({ dataset: 'sites', version: 1, publishedAt: '2030-01-03T00:00:00Z' }, { table, config, queue: memoryQueue() });

    // Assess
    expect(outcome).toEqual({ kind: 'data', pipelines: [] });
  });
});
