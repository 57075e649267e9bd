import { createHash } from 'node:crypto';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { S3Schema, SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import { logger } from '#shared/observability';
import { InvalidIngestMessageError } from './errors.ts';

/**
 * Ingest messages (DESIGN.md "Messages"): the body of an ingest-queue record is an S3 event
 * notification (API uploads in AWS, and the local S3 bridge), normalised here to one
 * {@link IngestMessage} per announced object. Transfer Family events (SFTP in AWS) normalise to
 * the same shape with `source: 'transfer'`.
 */

export const ingestMessageSchema = z.object({
  /** What identifies the arrival, so that a redelivery is recognised (see {@link arrivalMessageId}). */
  messageId: z.string().min(1),
  bucket: z.string().min(1),
  /** The object key, decoded. */
  key: z.string().min(1),
  versionId: z.string().min(1).optional(),
  /** The ETag without its quotes. */
  etag: z.string().min(1).optional(),
  size: z.number().int().nonnegative().optional(),
  /** The kind of notification that announced the object: an S3 event, or a Transfer Family event. */
  source: z.enum(['s3', 'transfer']),
  /** The SFTP user, when the notification names one. */
  user: z.string().min(1).optional(),
  /** Set when the transfer reports that the upload failed part-way. */
  failed: z.boolean().optional(),
  /** When the object arrived, as the notification says. */
  arrivedAt: z.string().optional(),
});
export type IngestMessage = z.infer<typeof ingestMessageSchema>;

/** S3 event record, as Powertools has it, but with any source address: S3 reports IPv6 clients too. */
const s3RecordSchema = S3Schema.shape.Records.element.extend({
  requestParameters: z.object({ sourceIPAddress: z.string() }),
});

const s3NotificationSchema = z.object({ Records: z.array(s3RecordSchema).min(1) });

/** What S3 sends once when a notification configuration is created; it announces no object. */
const s3TestEventSchema = z.object({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Bucket: z.string(),
});

/** An SQS record of the ingest queue. */
export const ingestSqsRecordSchema = SqsRecordSchema.extend({
  body: JSONStringified(z.union([s3TestEventSchema, s3NotificationSchema])),
});

/**
 * Decodes an object key as S3 writes it in event notifications: URL-encoded, with `+` for a
 * space (so a real `+` arrives as `%2B`).
 */
export function decodeS3EventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidIngestMessageError(`object key "${key}" is not validly URL-encoded`, { key }, { cause: error });
  }
}

/**
 * The id of a delivery: what identifies the arrival, so every redelivery of it has the same id.
 * For S3 events that is the bucket, key and version (locally the key is an `_arrivals/<arrivalId>`
 * copy and there is no version: the key alone is unique). Hashed to keep table keys short.
 */
export function arrivalMessageId(bucket: string, key: string, versionId?: string): string {
  const hash = createHash('sha256').update(JSON.stringify([bucket, key, versionId ?? null])).digest('hex');
  return `s3-${hash.slice(0, 40)}`;
}

/** `"abc"` → `abc`: S3 events carry bare ETags, HeadObject quoted ones. */
export function bareEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const bare = etag.replace(/^"(.*)"$/, '$1');
  return bare === '' ? undefined : bare;
}

/**
 * The ingest messages an SQS record carries: one per created object, none for an S3 test event
 * or an event that is not an object creation. A body that is not an S3 notification throws
 * {@link InvalidIngestMessageError} naming what was wrong.
 */
export function parseIngestRecord(record: unknown): IngestMessage[] {
  const parsed = ingestSqsRecordSchema.safeParse(record);
  if (!parsed.success) {
    const sqsMessageId = (record as { messageId?: unknown } | null)?.messageId;
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
    throw new InvalidIngestMessageError(
      `SQS message ${String(sqsMessageId)} is not an S3 event notification: ${problems.join('; ')}`,
      { sqsMessageId, problems },
    );
  }
  const body = parsed.data.body;
  if ('Event' in body) {
    logger.info('skipping an S3 test event', { bucket: body.Bucket });
    return [];
  }
  const messages: IngestMessage[] = [];
  for (const event of body.Records) {
    if (!event.eventName.startsWith('ObjectCreated:')) {
      logger.warn('skipping an S3 event that creates no object', { eventName: event.eventName, bucket: event.s3.bucket.name });
      continue;
    }
    const { bucket, object } = event.s3;
    const key = decodeS3EventKey(object.key);
    messages.push({
      messageId: arrivalMessageId(bucket.name, key, object.versionId),
      bucket: bucket.name,
      key,
      versionId: object.versionId,
      etag: bareEtag(object.eTag),
      size: object.size,
      source: 's3',
      arrivedAt: event.eventTime,
    });
  }
  return messages;
}
