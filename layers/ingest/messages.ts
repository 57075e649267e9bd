import { createHash } from 'node:crypto';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { EventBridgeSchema, S3Schema, SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import { logger } from '#shared/observability';
import { InvalidIngestMessageError } from './errors.ts';

/**
 * Ingest messages (DESIGN.md "Messages"): the body of an ingest-queue record is an S3 event
 * notification (API uploads in AWS, and the local S3 bridge), normalised here to one
 * {@link IngestMessage} per announced object, or a Transfer Family event delivered by EventBridge
 * (SFTP in AWS: upload completed, rename completed, upload failed), normalised to the same shape
 * with `source: 'transfer'` (see {@link parseTransferEvent}).
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

/** The Transfer Family events (EventBridge `detail-type`) that announce a file in landing. */
export const transferEventTypes = {
  uploadCompleted: 'SFTP Server File Upload Completed',
  uploadFailed: 'SFTP Server File Upload Failed',
  renameCompleted: 'SFTP Server File Rename Completed',
} as const;

/**
 * A Transfer Family server event (the detail fields of the Transfer Family events reference).
 * Upload events carry `file-path` (`/<bucket>/<key>`), `bytes` and, when the upload completed, the
 * object's `etag`; rename events carry only `original-file-path` and `renamed-file-path`. None
 * carries an S3 version id, so the handler resolves the object with HeadObject.
 */
export const transferEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.transfer'),
  detail: z.looseObject({
    'server-id': z.string().min(1),
    username: z.string().min(1),
    'status-code': z.string().optional(),
    'file-path': z.string().optional(),
    'original-file-path': z.string().optional(),
    'renamed-file-path': z.string().optional(),
    bytes: z.number().int().nonnegative().optional(),
    etag: z.string().optional(),
    'failure-code': z.string().optional(),
    'failure-message': z.string().optional(),
    'end-timestamp': z.string().optional(),
  }),
});
export type TransferEvent = z.infer<typeof transferEventSchema>;

/** An SQS record of the ingest queue whose body is a Transfer Family event. */
export const transferSqsRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(transferEventSchema) });

/** `/<bucket>/<key>` (a Transfer Family file path on S3) as bucket and key. */
export function splitTransferPath(path: string): { bucket: string; key: string } {
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) throw new InvalidIngestMessageError(`Transfer Family file path "${path}" is not /<bucket>/<key>`, { path });
  return { bucket: match[1]!, key: match[2]! };
}

/**
 * The ingest message a Transfer Family event stands for, or none for an event that announces no
 * file to ingest (a download, a delete: the rule does not route those, but a redrive might). The
 * message id is the event id, which EventBridge keeps when it delivers an event again; a rename
 * announces its new path, so a client that uploads `x.filepart` and renames it (WinSCP) is
 * ingested once, under the final name.
 */
export function parseTransferEvent(event: TransferEvent): IngestMessage[] {
  const { detail } = event;
  const common = { messageId: event.id, source: 'transfer' as const, user: detail.username, arrivedAt: detail['end-timestamp'] ?? event.time };
  const path = (field: 'file-path' | 'renamed-file-path') => {
    const value = detail[field];
    if (!value) throw new InvalidIngestMessageError(`Transfer Family event ${event.id} (${event['detail-type']}) has no ${field}`, { eventId: event.id });
    return splitTransferPath(value);
  };
  switch (event['detail-type']) {
    case transferEventTypes.uploadCompleted:
      return [{ ...common, ...path('file-path'), ...(detail.etag ? { etag: bareEtag(detail.etag) } : {}), ...(detail.bytes !== undefined ? { size: detail.bytes } : {}) }];
    case transferEventTypes.uploadFailed:
      // The file is kept as it arrived; ingest records it as rejected (interrupted), unread.
      return [{ ...common, ...path('file-path'), failed: true }];
    case transferEventTypes.renameCompleted:
      return [{ ...common, ...path('renamed-file-path') }];
    default:
      logger.info('skipping a Transfer Family event that announces no upload', { eventId: event.id, detailType: event['detail-type'] });
      return [];
  }
}

/** Whether an SQS body is (JSON for) an event EventBridge delivered from Transfer Family. */
function isTransferBody(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    return (JSON.parse(body) as { source?: unknown } | null)?.source === 'aws.transfer';
  } catch {
    return false;
  }
}

/**
 * The ingest messages an SQS record carries: one per created object, none for an S3 test event
 * or an event that is not an object creation; for a Transfer Family event, the one file it
 * announces. A body that is neither an S3 notification nor a Transfer Family event throws
 * {@link InvalidIngestMessageError} naming what was wrong.
 */
export function parseIngestRecord(record: unknown): IngestMessage[] {
  if (isTransferBody((record as { body?: unknown } | null)?.body)) {
    const transfer = transferSqsRecordSchema.safeParse(record);
    if (!transfer.success) {
      const sqsMessageId = (record as { messageId?: unknown } | null)?.messageId;
      const problems = transfer.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
      throw new InvalidIngestMessageError(`SQS message ${String(sqsMessageId)} is not a Transfer Family event Symbiont understands: ${problems.join('; ')}`, {
        sqsMessageId,
        problems,
      });
    }
    return parseTransferEvent(transfer.data.body);
  }
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
