import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SendMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { logger } from '#shared/observability';

/**
 * Symbiont's own redrive (DESIGN.md "Messages"): receive from a DLQ, send to the source queue,
 * delete from the DLQ — the same code in AWS and locally, where the SQS emulator has no
 * message-move task. A message is deleted from the DLQ only after its send succeeded, so a failure
 * leaves it where it was: nothing is lost. The worst case is a message in both queues (the send
 * succeeded, the delete did not), which the consumers' delivery dedupe absorbs.
 */

/** SQS hands out at most 10 messages per receive, and takes at most 10 entries per batch. */
const BATCH = 10;

export interface RedriveOptions {
  readonly sqs: SQSClient;
  /** The DLQ's URL. */
  readonly from: string;
  /** The source queue's URL. */
  readonly to: string;
  /** Messages to move at most. @default every message the DLQ hands out */
  readonly max?: number;
  /**
   * Seconds a received message stays hidden from other receivers while it is being moved; one
   * that fails reappears in the DLQ after this. @default 60
   */
  readonly visibilityTimeout?: number;
  /** Seconds each receive waits for messages; an empty receive ends the run. @default 1 */
  readonly waitTimeSeconds?: number;
}

/** A message that stayed in the DLQ, and why. */
export interface RedriveFailure {
  readonly messageId: string;
  readonly reason: string;
}

export interface RedriveResult {
  /** Sent to the source queue and deleted from the DLQ. */
  readonly moved: number;
  /** Not sent: still in the DLQ only (visible again after the visibility timeout). */
  readonly failed: number;
  /** Sent, but the DLQ delete failed: in both queues until the next redrive deletes it. */
  readonly notDeleted: number;
  readonly failures: readonly RedriveFailure[];
}

/** Moves messages from a DLQ back to its source queue, keeping their bodies and attributes. */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const failures: RedriveFailure[] = [];
  let moved = 0;
  let notDeleted = 0;

  while (seen.size < max) {
    const { Messages = [] } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.from,
        MaxNumberOfMessages: Math.min(BATCH, max - seen.size),
        VisibilityTimeout: options.visibilityTimeout ?? 60,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    // A message handed out again in this run failed before; taking it again would loop.
    const fresh = Messages.filter((message) => message.MessageId !== undefined && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) seen.add(message.MessageId!);

    const sent: Message[] = [];
    await Promise.all(
      fresh.map(async (message) => {
        try {
          await options.sqs.send(new SendMessageCommand(resendInput(message, options.to)));
          sent.push(message);
        } catch (error) {
          failures.push({ messageId: message.MessageId!, reason: `not sent: ${(error as Error).message}` });
        }
      }),
    );
    if (sent.length === 0) continue;

    const deleted = await deleteFromDeadLetterQueue(options.sqs, options.from, sent);
    moved += deleted.length;
    for (const message of sent.filter((m) => !deleted.includes(m))) {
      notDeleted += 1;
      failures.push({ messageId: message.MessageId!, reason: 'sent, but not deleted from the DLQ: it is in both queues' });
    }
  }

  const result = { moved, failed: failures.length - notDeleted, notDeleted, failures };
  logger.info('redrive finished', { from: options.from, to: options.to, moved, failed: result.failed, notDeleted });
  return result;
}

/** The send that puts a received message back as it was first sent. */
export function resendInput(message: Message, queueUrl: string): SendMessageCommandInput {
  const attributes = message.MessageAttributes ?? {};
  const fifo = queueUrl.endsWith('.fifo');
  return {
    QueueUrl: queueUrl,
    MessageBody: message.Body ?? '',
    ...(Object.keys(attributes).length > 0 ? { MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, sendable(value)])) } : {}),
    ...(message.Attributes?.AWSTraceHeader
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: message.Attributes.AWSTraceHeader } } }
      : {}),
    ...(fifo && message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
    ...(fifo && message.Attributes?.MessageDeduplicationId ? { MessageDeduplicationId: message.Attributes.MessageDeduplicationId } : {}),
  };
}

/** A received attribute as SendMessage takes it: the list fields SQS reserves are left out. */
function sendable(value: MessageAttributeValue): MessageAttributeValue {
  return {
    DataType: value.DataType,
    ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
  };
}

/** Deletes sent messages from the DLQ; answers the ones deleted. */
async function deleteFromDeadLetterQueue(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<Message[]> {
  try {
    const { Successful = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    const ok = new Set(Successful.map((entry) => entry.Id));
    return messages.filter((_, index) => ok.has(String(index)));
  } catch (error) {
    logger.warn('deleting redriven messages from the DLQ failed', { queueUrl, error: error as Error });
    return [];
  }
}
