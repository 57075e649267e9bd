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

/** Longest part of an error message kept in the reason. */
const ERROR_TEXT_MAX = 300;

/** The reason a failed upload shows: what failed, and that nothing is lost and nothing is asked of the sender. */
export function failureReason(error: unknown, delivery: Delivery): string {
  const name = error instanceof Error ? error.name : 'Error';
  const text = error instanceof Error ? error.message : String(error);
  const message = text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX - 1)}…` : text;
  return (
    `processing failed on all ${delivery.receiveCount ?? 1} attempts (${name}: ${message}); ` +
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
  const reason = failureReason(error, delivery);
  const at = deps.now().toISOString();
  try {
    const failed = await deps.store.setUploadStatus(upload.uploadId, { from: ['received', 'validating'], to: 'failed', reason, at });
    logger.error('upload failed on its last attempt; its message goes to the dead-letter queue', { key: failed.key, reason });
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
