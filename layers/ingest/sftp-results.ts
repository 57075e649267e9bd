import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { landing } from '#shared/resources';
import type { UploadRecord } from '#store/uploads';

/**
 * SFTP senders look for the outcome of a file beside it (DESIGN.md "Flows"): `<file>.result.txt`
 * in their folder of the landing bucket, in plain words. Names ending in `.result.txt` are never
 * ingested, so writing one starts nothing.
 */

/** Whether the sender of an upload reads its outcome beside the file (an SFTP upload). */
export function readsResultBesideFile(upload: Pick<UploadRecord, 'source' | 'key'>): boolean {
  return upload.source === 'sftp' && upload.key.startsWith(landing.sftpPrefix);
}

/** The key of the result file beside an SFTP upload. */
export function resultFileKey(upload: Pick<UploadRecord, 'key'>): string {
  return `${upload.key}.result.txt`;
}

/**
 * Writes `text` beside an SFTP upload, after a first line `<STATUS> <file>` and the upload id and
 * time. Overwrites an earlier result of the same name: the newest upload's outcome is what the
 * sender needs.
 */
export async function writeResultFile(
  s3: S3Client,
  upload: Pick<UploadRecord, 'bucket' | 'key' | 'file' | 'uploadId'>,
  heading: string,
  at: string,
  text: string,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: upload.bucket,
      Key: resultFileKey(upload),
      ContentType: 'text/plain; charset=utf-8',
      Body: `${heading} ${upload.file ?? ''}\nupload ${upload.uploadId} at ${at}\n\n${text.endsWith('\n') ? text : `${text}\n`}`,
    }),
  );
}
