import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchOutcome } from '#local/sqs-poller';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { exampleConfig, freePorts, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * A message the real ingest handler refuses on every receive ends in the DLQ after the queue's
 * maxReceiveCount (from #shared/resources), moved by the queue's own redrive policy. The
 * visibility timeout is shortened so the retries take seconds, not the production 90 minutes.
 */
describe('local runtime dead letters', () => {
  const dataDir = tempDataDir('dlq');
  const batches: BatchOutcome[] = [];
  let runtime: LocalRuntime;
  let sqs: SQSClient;

  beforeAll(async () => {
    runtime = await startLocal({
      configFile: exampleConfig,
      dataDir: dataDir.path,
      ports: freePorts,
      queueOverrides: { ingest: { visibilityTimeoutSeconds: 1 } },
      onBatch: (outcome) => batches.push(outcome),
    });
    const { endpoints } = runtime;
    sqs = new SQSClient({ endpoint: endpoints.sqs, region: endpoints.region, credentials: { ...endpoints.credentials } });
  });

  afterAll(async () => {
    sqs?.destroy();
    await runtime?.stop();
    dataDir.remove();
  });

  it('moves a message the handler fails on every receive to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const queue = runtime.endpoints.queues.ingest;
    const body = JSON.stringify({ not: 'an S3 event notification' });

    // Act
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const dead = await waitFor(
      'the message in the DLQ',
      async () => {
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, WaitTimeSeconds: 1, VisibilityTimeout: 30 }));
        return received.Messages?.find((m) => m.MessageId === sent.MessageId);
      },
      30_000,
    );
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );

    // Assess
    expect(dead.Body).toBe(body);
    const deliveries = batches.filter((b) => b.messageIds.includes(sent.MessageId ?? ''));
    expect(deliveries).toHaveLength(queue.maxReceiveCount);
    expect(deliveries.every((b) => b.failedIds.includes(sent.MessageId ?? ''))).toBe(true);
    expect(left.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});
