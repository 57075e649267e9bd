import { StatusConflictError } from '#store/errors';
import type { Store, StatusChange, UploadRecord } from '#store/store';

/**
 * Recording an outcome when another delivery of the same message may be doing the same thing at
 * the same time (SQS delivers at least once): the first write wins, and the second finds the
 * outcome it was about to record and takes it as its own.
 */
export async function recordOutcome(
  store: Pick<Store, 'getUpload' | 'setUploadStatus'>,
  uploadId: string,
  change: StatusChange,
): Promise<UploadRecord> {
  try {
    return await store.setUploadStatus(uploadId, change);
  } catch (error) {
    if (!(error instanceof StatusConflictError)) throw error;
    const current = await store.getUpload(uploadId);
    if (current?.status === change.to) return current;
    throw error;
  }
}
