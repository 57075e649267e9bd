import { createHmac } from 'node:crypto';
import webhookExamples from '@octokit/webhooks-examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeMessage } from '#evaluation/commit-messages';
import { createGithubWebhook, type PushPayload } from '#evaluation/github-webhook';
import { planEvaluations } from '#evaluation/plan-evaluations';
import { Table } from '#store/table';
import { config, memoryQueue, publishVersion, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * A replayed webhook (the Doors issue). GitHub signs the body only, not the X-GitHub-Delivery
 * header, so whoever captured a signed push can send it again under a delivery id of their own,
 * and the webhook queues it. What must hold is that the replay asks for nothing new: planning finds
 * the evaluation request the first delivery made (requests are idempotent by what they evaluate)
 * and at most sends its start message again, unchanged.
 */

const SECRET = 'doors-webhook-secret';
const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const pushExample = (webhookExamples as { name: string; examples: Record<string, any>[] }[])
  .find((e) => e.name === 'push')!
  .examples.find((e) => e.ref.startsWith('refs/heads/') && !e.deleted)!;
const now = new Date('2030-05-01T12:00:00Z');

function push(repository: string, after: string): PushPayload {
  const payload = structuredClone(pushExample);
  payload.repository = { ...payload.repository, name: repository, full_name: `acme/${repository}`, pushed_at: 1_900_000_000 };
  payload.ref = 'refs/heads/main';
  payload.after = after;
  return payload as PushPayload;
}

describe('a signed push replayed under a new delivery id', () => {
  let testTable: TestTable;
  let table: Table;

  beforeAll(async () => {
    testTable = await startTestTable('symbiont-doors-replay');
    table = new Table(testTable.client, testTable.tableName);
    await publishVersion(table, 'readings', 1);
    // Every repository of the pipeline has a head, so a push to `model` is evaluated.
    await planEvaluations({ repository: 'features', sha: sha('1'), branch: 'main', pushedAt: '2030-01-01T00:00:00Z', source: 'api' }, { table, config, queue: memoryQueue() });
  });

  afterAll(async () => {
    await testTable.close();
  });

  it('asks for no second evaluation: planning finds the request the first delivery made', async () => {
    // Prepare
    const sent: IntakeMessage[] = [];
    const hook = createGithubWebhook({ table, config, secret: async () => SECRET, now: () => now, queue: { send: async (message) => void sent.push(message) } });
    const body = JSON.stringify(push('model', sha('7')));
    const deliver = (deliveryId: string) =>
      hook.receive({ headers: { 'x-github-event': 'push', 'x-github-delivery': deliveryId, 'x-hub-signature-256': sign(body) }, body: Buffer.from(body) });
    const queue = memoryQueue();

    // Act
    await deliver('delivery-original');
    await deliver('delivery-replayed-by-someone-else');
    const plans = [];
    const queuedAfter: number[] = [];
    for (const message of sent) {
      plans.push(await planEvaluations(message as Parameters<typeof planEvaluations>[0], { table, config, queue }));
      queuedAfter.push(queue.messages.length);
    }

    // Assess: both deliveries were queued (the door GitHub leaves open), one evaluation was asked for.
    expect(sent).toHaveLength(2);
    const [first, replay] = plans.map((plan) => plan.pipelines[0]);
    expect(first).toMatchObject({ pipeline: 'forecast', created: true });
    expect(replay).toMatchObject({ pipeline: 'forecast', requestId: first?.requestId, created: false });
    // A request still queued gets its start message again (in case the first was lost): the very
    // same message, for the same request and part, which starting dedupes by execution name.
    expect(queuedAfter).toEqual([1, 2]);
    expect(queue.messages[1]).toEqual(queue.messages[0]);
  });
});
