import type { S3Client } from '@aws-sdk/client-s3';
import { logger } from '#shared/observability';
import { StatusConflictError } from '#store/errors';
import type { Store, UploadRecord } from '#store/store';
import { readsResultBesideFile, writeResultFile } from './sftp-results.ts';

/**
 * An internal error (S3 or the table failing, the input stream breaking, another upload holding
 * the same bytes too long) is not the file's fault, so it is never an outcome on the first tries:
 * the message is retried. On the last receive the queue allows, the upload is marked `failed`
 * with the reason before the error is thrown again, so that when SQS moves the message to the DLQ
 * the upload says `failed` — and its original is still in landing, untagged, so it never expires.
 * A redrive delivers the message again, and ingest takes the upload from `failed` back to
 * `validating`.
 */

/** How many times this message has been received, and how many receives the queue allows. */
export interface Delivery {
  /** The SQS record's `ApproximateReceiveCount`. @default 1 */
  readonly receiveCount?: number;
  /** The queue's `maxReceiveCount`; the receive that reaches it is the last. */
  readonly maxReceiveCount: number;
}

/** Whether this is the last receive before the message goes to the DLQ. */
export function isLastReceive(delivery: Delivery): boolean {
  return (delivery.receiveCount ?? 1) >= delivery.maxReceiveCount;
}

/**
 * The reason a failed upload shows: that an internal error stopped it, that nothing is lost and
 * nothing is asked of the sender. Uploaders read it, so it names no bucket, key or service
 * message: the error itself goes to the log, under the upload id.
 */
export function failureReason(delivery: Delivery): string {
  return (
    `processing failed on all ${delivery.receiveCount ?? 1} attempts because of an internal error (details are in the logs under this upload id); ` +
    'the file is kept in landing and the message is in the dead-letter queue, to be redriven once the cause is fixed'
  );
}

export interface MarkFailedDeps {
  readonly store: Pick<Store, 'setUploadStatus'>;
  readonly s3: S3Client;
  readonly now: () => Date;
}

/**
 * Marks an upload `failed` with the reason; never throws, since the error that caused it is what
 * the caller must throw. An upload that reached an outcome meanwhile keeps it.
 */
export async function markFailed(deps: MarkFailedDeps, upload: UploadRecord, error: unknown, delivery: Delivery): Promise<void> {
  const reason = failureReason(delivery);
  const at = deps.now().toISOString();
  try {
    const failed = await deps.store.setUploadStatus(upload.uploadId, { from: ['received', 'validating'], to: 'failed', reason, at });
    logger.error('upload failed on its last attempt; its message goes to the dead-letter queue', { key: failed.key, error: error as Error });
  } catch (markError) {
    if (markError instanceof StatusConflictError) {
      logger.warn('upload reached an outcome before it could be marked failed; it keeps it', { error: markError });
    } else {
      logger.error('could not mark the upload failed', { error: markError as Error });
    }
    return;
  }
  if (readsResultBesideFile(upload)) {
    await writeResultFile(
      deps.s3,
      upload,
      'FAILED',
      at,
      'Symbiont could not process this file because of an internal error. The file is kept and will be processed again once the problem is fixed; there is nothing to do on your side.\n',
    ).catch((writeError: unknown) => logger.warn('could not write the result file of a failed upload', { error: writeError as Error }));
  }
}
