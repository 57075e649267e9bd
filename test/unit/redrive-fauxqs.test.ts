import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '#operations/redrive';

/**
 * The mover against the local SQS emulator (fauxqs, in process, loopback only): the same code
 * the local runtime and AWS run, so a message that reached the DLQ is really back in its queue.
 */

let server: Awaited<ReturnType<typeof startFauxqs>>;
let sqs: SQSClient;
let queueUrl: string;
let deadLetterUrl: string;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false, defaultRegion: 'eu-west-1' });
  sqs = new SQSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ingest-dlq' }))).QueueUrl!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ingest' }))).QueueUrl!;
});

afterAll(async () => {
  sqs?.destroy();
  await server?.stop();
});

describe('redrive on the local SQS', () => {
  it('puts a dead letter back in its queue with its body and attributes, and empties the DLQ', async () => {
    // Prepare
    const body = JSON.stringify({ Records: [{ s3: { object: { key: 'api/readings/slot/day.csv' } } }] });
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: body, MessageAttributes: { origin: { DataType: 'String', StringValue: 'bridge' } } }));

    // Act
    const result = await redrive({ sqs, from: deadLetterUrl, to: queueUrl, waitTimeSeconds: 0 });

    // Assess
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    expect(back.Messages?.map((m) => [m.Body, m.MessageAttributes?.origin?.StringValue])).toEqual([[body, 'bridge']]);
    expect(left.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});
