import { GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createSqsClient } from '#shared/aws';
import { logger } from '#shared/observability';
import { env as envNames } from '#shared/resources';
import { InvalidDeadLetterRequestError, UnknownQueueError } from './errors.ts';
import { redrive, type RedriveResult } from './redrive.ts';

/**
 * The dead-letter queues, as an operator sees them (`symbiont dlq list|show|redrive`): how many
 * messages each holds, what they are, and moving them back to their queue once the cause is fixed.
 * The same code in AWS and locally: the queues are named by one environment variable,
 * `DEAD_LETTER_QUEUES` (`{"ingest": {"queueUrl": …, "deadLetterQueueUrl": …}, …}`), which the
 * stack and the local runtime both set.
 */

export const deadLetterQueuesSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9-]*$/),
  z.strictObject({ queueUrl: z.string().min(1), deadLetterQueueUrl: z.string().min(1) }),
);
/** Queue name → its URL and its DLQ's URL. */
export type DeadLetterQueues = z.infer<typeof deadLetterQueuesSchema>;

/** One DLQ and how many messages it holds. */
export interface DeadLetterSummary {
  readonly queue: string;
  /** Messages waiting to be redriven. */
  readonly messages: number;
  /** Messages received but not deleted yet (being shown or redriven right now). */
  readonly inFlight: number;
}

/** One message of a DLQ, as `show` tells it. */
export interface DeadLetterMessage {
  readonly messageId: string;
  /** When it was first sent to its queue (SQS keeps the original send time across the move). */
  readonly sentAt?: string;
  /** Deliveries, to its queue's consumer and since to whoever looked. */
  readonly receiveCount?: number;
  /** What it is about, in a few words: the object key, the request, the commit. */
  readonly about: string;
  /** The body: JSON when it parses, else the text; cut at {@link MAX_BODY_CHARACTERS}. */
  readonly body: unknown;
  readonly bodyTruncated: boolean;
}

export interface DeadLetterService {
  /** Every queue's DLQ with its counts, in a stable order. */
  list(): Promise<DeadLetterSummary[]>;
  /** Up to `limit` messages of a queue's DLQ; they stay where they are. */
  show(queue: string, options?: { limit?: number }): Promise<DeadLetterMessage[]>;
  /** Moves up to `max` messages (all by default) back to the queue. */
  redrive(queue: string, options?: { max?: number }): Promise<RedriveResult & { queue: string }>;
}

/** Characters of a body `show` returns at most. */
export const MAX_BODY_CHARACTERS = 4096;
/** Messages `show` returns at most. */
export const MAX_SHOWN = 50;

export interface DeadLetterServiceDeps {
  readonly sqs: SQSClient;
  readonly queues: DeadLetterQueues;
}

export function createDeadLetterService(deps: DeadLetterServiceDeps): DeadLetterService {
  const { sqs, queues } = deps;
  const named = (queue: string) => {
    const found = Object.hasOwn(queues, queue) ? queues[queue] : undefined;
    if (!found) throw new UnknownQueueError(`no queue is named ${queue}; the queues are ${Object.keys(queues).sort().join(', ')}`, { queue });
    return found;
  };
  return {
    async list() {
      return Promise.all(
        Object.keys(queues)
          .sort()
          .map(async (queue) => {
            const { Attributes = {} } = await sqs.send(
              new GetQueueAttributesCommand({
                QueueUrl: queues[queue]!.deadLetterQueueUrl,
                AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
              }),
            );
            return {
              queue,
              messages: Number(Attributes.ApproximateNumberOfMessages ?? 0),
              inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
            };
          }),
      );
    },

    async show(queue, options = {}) {
      const { deadLetterQueueUrl } = named(queue);
      const limit = options.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SHOWN) throw new InvalidDeadLetterRequestError(`limit must be 1 to ${MAX_SHOWN}, not ${limit}`, { limit });
      // Peeking is receiving: each message shown is hidden for a second, then visible again as it was.
      const shown = new Map<string, DeadLetterMessage>();
      while (shown.size < limit) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MaxNumberOfMessages: Math.min(10, limit - shown.size),
            VisibilityTimeout: 1,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          }),
        );
        const fresh = Messages.filter((m) => m.MessageId && !shown.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const message of fresh) shown.set(message.MessageId!, describeMessage(message));
      }
      return [...shown.values()];
    },

    async redrive(queue, options = {}) {
      const { queueUrl, deadLetterQueueUrl } = named(queue);
      if (options.max !== undefined && (!Number.isInteger(options.max) || options.max < 1)) {
        throw new InvalidDeadLetterRequestError(`max must be a whole number of messages, 1 or more, not ${options.max}`, { max: options.max });
      }
      const result = await redrive({ sqs, from: deadLetterQueueUrl, to: queueUrl, ...(options.max !== undefined ? { max: options.max } : {}) });
      logger.info('dead letters redriven', { queue, moved: result.moved, failed: result.failed, notDeleted: result.notDeleted });
      return { queue, ...result };
    },
  };
}

/** A received message as `show` tells it. */
export function describeMessage(message: Message): DeadLetterMessage {
  const text = message.Body ?? '';
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  const truncated = text.length > MAX_BODY_CHARACTERS;
  const sent = Number(message.Attributes?.SentTimestamp);
  const received = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId!,
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(received) && received > 0 ? { receiveCount: received } : {}),
    about: aboutBody(body),
    body: truncated ? text.slice(0, MAX_BODY_CHARACTERS) : body,
    bodyTruncated: truncated,
  };
}

/**
 * What a message is about, whatever its queue: an S3 event's object, a Transfer Family event's
 * file, or the ids a Symbiont message carries (request, report, commit, upload, dataset version).
 */
export function aboutBody(body: unknown): string {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body.length > 0 ? `text: ${body.slice(0, 80)}` : 'an empty message';
  const record = (body as { Records?: { s3?: { bucket?: { name?: string }; object?: { key?: string } } }[] }).Records?.[0]?.s3;
  if (record?.object?.key) return `s3://${record.bucket?.name ?? '?'}/${decodeURIComponent(record.object.key.replace(/\+/g, ' '))}`;
  const fields = body as Record<string, unknown>;
  const transfer = fields.detail as { 'file-path'?: unknown; 'status-code'?: unknown } | undefined;
  if (typeof transfer?.['file-path'] === 'string') return `SFTP ${transfer['file-path']} (${String(transfer['status-code'] ?? fields['detail-type'] ?? 'event')})`;
  if (typeof fields.key === 'string') return `s3://${String(fields.bucket ?? '?')}/${fields.key}`;
  const ids: string[] = [];
  for (const name of ['requestId', 'part', 'reportId', 'uploadId', 'pipeline']) {
    if (typeof fields[name] === 'string' || typeof fields[name] === 'number') ids.push(`${name}=${String(fields[name])}`);
  }
  if (typeof fields.repository === 'string' && typeof fields.sha === 'string') ids.push(`${fields.repository}@${fields.sha.slice(0, 12)}`);
  if (typeof fields.dataset === 'string' && typeof fields.version === 'number') ids.push(`${fields.dataset} v${fields.version}`);
  return ids.length > 0 ? ids.join(' ') : `JSON with ${Object.keys(fields).slice(0, 5).join(', ') || 'no fields'}`;
}

/**
 * The service as the API handler builds it: the queues from `DEAD_LETTER_QUEUES`, or `undefined`
 * where the variable is not set (its routes then answer 503).
 */
export function createDeadLetterServiceFromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterService | undefined {
  const text = env[envNames.deadLetterQueues];
  if (!text) return undefined;
  let queues: DeadLetterQueues;
  try {
    queues = deadLetterQueuesSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new Error(`${envNames.deadLetterQueues} must be JSON {"<queue>": {"queueUrl", "deadLetterQueueUrl"}}: ${(error as Error).message}`, { cause: error });
  }
  return createDeadLetterService({ sqs: createSqsClient(env), queues });
}
