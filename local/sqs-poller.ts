import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { log as logger } from './log.ts';
import { LOCAL_ACCOUNT_ID } from './emulators.ts';
import type { LocalQueue } from './provision.ts';

/**
 * The local stand-in for a Lambda event source mapping: it receives from a queue, calls the same
 * handler Lambda calls with a real SQS event, and applies the partial batch response — the records
 * the handler reports as failed stay in the queue and come back after the visibility timeout; the
 * rest are deleted. Moving a message that keeps failing to the DLQ is the queue's own redrive
 * policy (fauxqs), exactly as in AWS.
 */

/** A queue consumer as Lambda runs it (a middy handler fits). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | undefined>;

/** What one invocation did, for tests and the benchmark. */
export interface BatchOutcome {
  readonly queue: string;
  readonly messageIds: readonly string[];
  readonly failedIds: readonly string[];
}

/** What a poller receives from, and what it calls. */
export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queue: LocalQueue;
  readonly region: string;
  readonly handler: SqsHandler;
  /** Shown as the Lambda function name in the handler's context and logs. */
  readonly functionName: string;
  /**
   * Seconds one ReceiveMessage waits for messages. Kept short because a long poll cannot be
   * cancelled safely (fauxqs would still hand a message to the abandoned request), so stopping
   * waits for the current poll to end. A message arriving during the wait is returned at once.
   * @default 1
   */
  readonly waitTimeSeconds?: number;
  /** Milliseconds `stop()` waits for a batch in progress before releasing its messages. @default 10000 */
  readonly shutdownGraceMs?: number;
  readonly onBatch?: (outcome: BatchOutcome) => void;
}

/** A running poller. */
export interface SqsPoller {
  /**
   * Stops receiving and waits for the batch in progress. Messages received but not handled when
   * the grace period ends are made visible again at once, so the next start picks them up instead
   * of waiting out the visibility timeout.
   */
  stop(): Promise<void>;
}

/** Starts polling `queue` and calling `handler`, one batch at a time. */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { sqs, queue, handler } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const grace = options.shutdownGraceMs ?? 10_000;
  let stopping = false;
  let current: { messages: Message[]; done: Promise<void> } | undefined;

  async function loop(): Promise<void> {
    let backoffMs = 100;
    while (!stopping) {
      let messages: Message[];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: Math.min(queue.definition.batchSize, 10),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
        backoffMs = 100;
      } catch (error) {
        if (stopping) break;
        logger.error('receiving from the queue failed', { queue: queue.url, error: error as Error });
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      if (messages.length === 0) continue;
      if (stopping) {
        await release(sqs, queue.url, messages);
        break;
      }
      const done = invoke(messages);
      current = { messages, done };
      await done;
      current = undefined;
    }
  }

  async function invoke(messages: Message[]): Promise<void> {
    const event = toSqsEvent(messages, queue.arn, options.region);
    const ids = event.Records.map((r) => r.messageId);
    let failed: Set<string>;
    try {
      const result = await handler(event, lambdaContext(options.functionName, options.region, queue.definition.consumerTimeoutSeconds));
      failed = failedIds(result, ids);
    } catch (error) {
      // A handler that throws fails its whole batch, as in Lambda.
      logger.error('queue handler failed the whole batch', { queue: queue.url, error: error as Error });
      failed = new Set(ids);
    }
    const succeeded = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    try {
      await deleteMessages(sqs, queue.url, succeeded);
    } catch (error) {
      // Not deleted means delivered again: the handlers dedupe deliveries, so this costs a repeat only.
      logger.error('deleting handled messages failed', { queue: queue.url, error: error as Error });
    }
    options.onBatch?.({ queue: queue.url, messageIds: ids, failedIds: [...failed] });
  }

  const running = loop().catch((error: unknown) => logger.error('queue poller stopped unexpectedly', { queue: queue.url, error: error as Error }));

  return {
    async stop() {
      stopping = true;
      const batch = current;
      if (batch) {
        const finished = await Promise.race([batch.done.then(() => true), sleep(grace).then(() => false)]);
        if (!finished) {
          logger.warn('a batch was still running at shutdown; its messages are released for the next start', {
            queue: queue.url,
            messages: batch.messages.length,
          });
          await release(sqs, queue.url, batch.messages).catch(() => undefined);
          return;
        }
      }
      await running;
    },
  };
}

/** The SQS event Lambda builds from received messages. */
export function toSqsEvent(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return { Records: messages.map((message) => toSqsRecord(message, queueArn, region)) };
}

function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ...attributes,
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    } as SQSRecordAttributes,
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
          ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
          stringListValues: value.StringListValues ?? [],
          binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
        },
      ]),
    ) as SQSMessageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The records to keep, as Lambda reads a partial batch response: none when the handler reports
 * none, and all when it names a record that was not in the batch (Lambda then fails the batch).
 */
function failedIds(result: SQSBatchResponse | void | undefined, ids: readonly string[]): Set<string> {
  const reported = result?.batchItemFailures ?? [];
  const failed = new Set(reported.map((f) => f.itemIdentifier));
  if ([...failed].some((id) => !ids.includes(id))) {
    logger.error('the partial batch response names a message that is not in the batch; the whole batch fails', { reported: [...failed] });
    return new Set(ids);
  }
  return failed;
}

/** A Lambda context for a local invocation; the deadline is the consumer's timeout, reported but not enforced. */
export function lambdaContext(functionName: string, region: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
    if (result.Failed && result.Failed.length > 0) {
      logger.error('some handled messages were not deleted', { queueUrl, failed: result.Failed });
    }
  }
}

async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
      }),
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
