import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { unsafeName } from '#shared/names';
import { logger } from '#shared/observability';
import type { Store, UploadRecord, UploadStatus } from '#store/store';
import { landingObject } from '#store/uploads';
import { copyOriginal, markOutcomeRecorded } from './originals.ts';
import { readsResultBesideFile, writeResultFile } from './sftp-results.ts';
import { recordOutcome } from './upload-status.ts';

/**
 * Rejecting an upload (DESIGN.md "Vocabulary"): the file is not processable as sent — a key that
 * names no configured dataset, a malformed key, a file larger than the dataset allows, a
 * decompression bomb. The original is copied to `rejected/<uploadId>/` in the data bucket with the
 * reason beside it, an SFTP sender is told beside the file, then the outcome is recorded, then the
 * landing object is marked as safe to expire: each step is repeatable, so a redelivery after a
 * crash finishes the job.
 */

/** The file name of the reason stored beside a rejected original. */
export const REASON_FILE = 'reason.json';

/** Where a rejected upload's original goes in the data bucket. */
export function rejectedOriginalKey(uploadId: string, file: string): string {
  // The reason file sits beside the original: a file that is itself called reason.json (or has no
  // name) gets a name that cannot collide with it. A name no way in accepts (controls, invisible
  // characters) is not carried into the data bucket either.
  const name = file === '' || unsafeName(file) !== undefined ? 'original' : file === REASON_FILE ? `original-${REASON_FILE}` : file;
  return `rejected/${uploadId}/${name}`;
}

export interface RejectDeps {
  readonly store: Pick<Store, 'getUpload' | 'setUploadStatus'>;
  readonly s3: S3Client;
  readonly dataBucket: string;
  readonly now: () => Date;
}

/** Why an upload is rejected. */
export interface Rejection {
  /** In words meant for the sender: what is wrong and what to do. */
  readonly reason: string;
  /** The validation rule that refused the file, when validation did (`size.max`, `gzip.ratio`). */
  readonly rule?: string;
}

/** Rejects an upload that is now `from`; answers it as recorded. */
export async function rejectUpload(deps: RejectDeps, upload: UploadRecord, rejection: Rejection, from: UploadStatus): Promise<UploadRecord> {
  const outcomeKey = rejectedOriginalKey(upload.uploadId, upload.file ?? '');
  await copyOriginal(deps.s3, { source: landingObject(upload), bucket: deps.dataBucket, key: outcomeKey, bytes: upload.size ?? 0 });
  const rejectedAt = deps.now().toISOString();
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.dataBucket,
      Key: `rejected/${upload.uploadId}/${REASON_FILE}`,
      ContentType: 'application/json',
      Body: `${JSON.stringify(
        {
          uploadId: upload.uploadId,
          status: 'rejected',
          reason: rejection.reason,
          ...(rejection.rule ? { rule: rejection.rule } : {}),
          key: upload.key,
          dataset: upload.dataset,
          source: upload.source,
          sender: upload.sender,
          versionId: upload.versionId,
          original: outcomeKey,
          receivedAt: upload.receivedAt,
          rejectedAt,
        },
        null,
        2,
      )}\n`,
    }),
  );
  if (readsResultBesideFile(upload)) {
    await writeResultFile(deps.s3, upload, 'REJECTED', rejectedAt, `The file was not processed.\n${rejection.reason}\n`);
  }
  const rejected = await recordOutcome(deps.store, upload.uploadId, { from, to: 'rejected', reason: rejection.reason, outcomeKey, at: rejectedAt });
  await markOutcomeRecorded(deps.s3, rejected);
  logger.warn('upload rejected', { key: rejected.key, reason: rejection.reason, rule: rejection.rule, outcomeKey });
  return rejected;
}
