import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redrive } from '#operations/redrive';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/symbiont-dev-ingest-dlq';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/symbiont-dev-ingest';

const sqsClient = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const sqs = mockClient(sqsClient);

/** A message as ReceiveMessage hands it out. */
function received(n: number, extra: Partial<Message> = {}): Message {
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: JSON.stringify({ Records: [{ n }] }),
    Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1736240000000' },
    ...extra,
  };
}

/** The DLQ hands out these batches, one per receive, then nothing. */
function dlqHolds(...batches: Message[][]): void {
  const receive = sqs.on(ReceiveMessageCommand);
  for (const batch of batches) receive.resolvesOnce({ Messages: batch });
  receive.resolves({ Messages: [] });
}

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'new' });
  sqs.on(DeleteMessageBatchCommand).callsFake((input) => ({ Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id })), Failed: [] }));
});

describe('redrive', () => {
  it('sends each message to the source queue with its body and message attributes', async () => {
    // Prepare
    dlqHolds([
      received(1, {
        MessageAttributes: {
          origin: { DataType: 'String', StringValue: 'sftp', StringListValues: [], BinaryListValues: [] },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) },
        },
      }),
    ]);

    // Act
    await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE });

    // Assess
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueueUrl: QUEUE,
        MessageBody: JSON.stringify({ Records: [{ n: 1 }] }),
        MessageAttributes: {
          origin: { DataType: 'String', StringValue: 'sftp' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) },
        },
      },
    ]);
  });

  it('deletes a message from the DLQ by its receipt handle after it was sent', async () => {
    dlqHolds([received(1)]);
    const log: string[] = [];
    sqs.on(SendMessageCommand).callsFake(() => (log.push('send'), { MessageId: 'new' }));
    sqs.on(DeleteMessageBatchCommand).callsFake((input) => (log.push(`delete ${input.Entries[0].ReceiptHandle}`), { Successful: [{ Id: '0' }] }));

    const result = await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE });

    expect(log).toEqual(['send', 'delete rh-1']);
    expect(result).toMatchObject({ moved: 1, failed: 0, notDeleted: 0 });
  });

  it('receives batches of ten with every attribute until the DLQ hands out nothing', async () => {
    dlqHolds(
      Array.from({ length: 10 }, (_, i) => received(i)),
      [received(10), received(11)],
    );

    const result = await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE, visibilityTimeout: 120 });

    const receives = sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input);
    expect(receives).toHaveLength(3);
    expect(receives[0]).toMatchObject({
      QueueUrl: DLQ,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 120,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    });
    expect(result.moved).toBe(12);
  });

  it('leaves a message whose send fails in the DLQ and counts it as failed', async () => {
    dlqHolds([received(1), received(2)]);
    sqs.on(SendMessageCommand).callsFake((input) => {
      if (input.MessageBody.includes('"n":2')) throw new Error('queue is throttling');
      return { MessageId: 'new' };
    });

    const result = await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE });

    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!.map((entry) => entry.ReceiptHandle));
    expect(deleted).toEqual(['rh-1']);
    expect(result).toMatchObject({ moved: 1, failed: 1, failures: [{ messageId: 'm-2', reason: 'not sent: queue is throttling' }] });
  });

  it('stops when the DLQ hands back only messages it failed to move before, instead of looping', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('access denied'));
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [received(1)] });

    const result = await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE });

    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(result).toMatchObject({ moved: 0, failed: 1 });
  });

  it('moves at most max messages', async () => {
    dlqHolds([received(1), received(2), received(3)]);

    await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE, max: 3 });

    const receives = sqs.commandCalls(ReceiveMessageCommand);
    expect(receives).toHaveLength(1);
    expect(receives[0]?.args[0].input.MaxNumberOfMessages).toBe(3);
  });

  it('counts a message that was sent but not deleted apart, since it is in both queues', async () => {
    dlqHolds([received(1), received(2)]);
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] });

    const result = await redrive({ sqs: sqsClient, from: DLQ, to: QUEUE });

    expect(result).toMatchObject({ moved: 1, failed: 0, notDeleted: 1 });
  });

  it('keeps the message group and deduplication id when the source queue is FIFO', async () => {
    dlqHolds([received(1, { Attributes: { MessageGroupId: 'readings', MessageDeduplicationId: 'd-1' } })]);

    await redrive({ sqs: sqsClient, from: `${DLQ}.fifo`, to: `${QUEUE}.fifo` });

    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({ MessageGroupId: 'readings', MessageDeduplicationId: 'd-1' });
  });
});
