import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { landing } from '#shared/resources';
import { landingObject, type UploadRecord } from '#store/uploads';
import { IngestError } from './errors.ts';

/**
 * Storing an upload's original in the data bucket: a server-side copy that names the source
 * object version (DESIGN.md "Storage"), so a newer file sent under the same name is never copied
 * in its place. One S3 CopyObject takes at most 5 GiB; larger originals are copied in parts.
 * Then, and only then, the landing object may be tagged for expiry.
 */

/** The largest object one CopyObject may copy. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
/** Smallest part of a multipart copy; parts grow for very large objects to stay within 10,000. */
export const MIN_COPY_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Parts copied at once: S3 does the work, the function only waits. */
const PART_CONCURRENCY = 4;

/** An object at one version: the landing object of an upload (`landingObject` of the store). */
export interface ObjectVersion {
  readonly Bucket: string;
  readonly Key: string;
  readonly VersionId?: string;
}

export interface CopyOriginalRequest {
  readonly source: ObjectVersion;
  /** The data bucket. */
  readonly bucket: string;
  readonly key: string;
  /** Size of the source, which decides between one copy and a multipart copy. */
  readonly bytes: number;
}

/** A copy into the data bucket failed; the original is still where it was. */
export class OriginalCopyError extends IngestError {
  override name = 'OriginalCopyError';
}

/**
 * Copies an original to `bucket`/`key`, naming the source version. Copying again is harmless (the
 * same bytes land at the same key), so callers may retry after a crash.
 */
export async function copyOriginal(s3: S3Client, request: CopyOriginalRequest): Promise<void> {
  const from = copySource(request.source.Bucket, request.source.Key, request.source.VersionId);
  try {
    if (request.bytes <= MAX_SINGLE_COPY_BYTES) {
      await s3.send(new CopyObjectCommand({ Bucket: request.bucket, Key: request.key, CopySource: from }));
      return;
    }
    await copyInParts(s3, request, from);
  } catch (error) {
    throw new OriginalCopyError(
      `could not copy s3://${request.source.Bucket}/${request.source.Key}${request.source.VersionId ? ` (version ${request.source.VersionId})` : ''} to s3://${request.bucket}/${request.key}`,
      { source: request.source, bucket: request.bucket, key: request.key },
      { cause: error },
    );
  }
}

/**
 * Tags an upload's landing object version so the lifecycle rule may expire it. Call it only once
 * the original is in the data bucket and the outcome is recorded: the tag is what lets it go.
 */
export async function markOutcomeRecorded(s3: S3Client, upload: Pick<UploadRecord, 'bucket' | 'key' | 'arrivalKey' | 'versionId'>): Promise<void> {
  await s3.send(
    new PutObjectTaggingCommand({
      ...landingObject(upload),
      Tagging: { TagSet: [{ Key: landing.outcomeTag.key, Value: landing.outcomeTag.value }] },
    }),
  );
}

/** `bucket/key?versionId=…`, URL-encoded as CopyObject requires (slashes kept). */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  return `${bucket}/${path}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''}`;
}

/** The byte ranges (inclusive) of a multipart copy of `bytes` bytes. */
export function copyParts(bytes: number): { readonly first: number; readonly last: number }[] {
  const size = Math.max(MIN_COPY_PART_BYTES, Math.ceil(bytes / MAX_PARTS));
  const parts: { first: number; last: number }[] = [];
  for (let first = 0; first < bytes; first += size) parts.push({ first, last: Math.min(first + size, bytes) - 1 });
  return parts;
}

async function copyInParts(s3: S3Client, request: CopyOriginalRequest, from: string): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: request.bucket, Key: request.key }));
  if (!UploadId) throw new OriginalCopyError(`S3 started no multipart upload for s3://${request.bucket}/${request.key}`);
  try {
    const ranges = copyParts(request.bytes);
    const etags: string[] = new Array(ranges.length);
    let next = 0;
    let stopped = false;
    const worker = async () => {
      for (let index = next++; index < ranges.length && !stopped; index = next++) {
        const range = ranges[index]!;
        const { CopyPartResult } = await s3.send(
          new UploadPartCopyCommand({
            Bucket: request.bucket,
            Key: request.key,
            UploadId,
            PartNumber: index + 1,
            CopySource: from,
            CopySourceRange: `bytes=${range.first}-${range.last}`,
          }),
        );
        if (!CopyPartResult?.ETag) throw new OriginalCopyError(`S3 returned no ETag for part ${index + 1} of s3://${request.bucket}/${request.key}`);
        etags[index] = CopyPartResult.ETag;
      }
    };
    const workers = Array.from({ length: Math.min(PART_CONCURRENCY, ranges.length) }, () =>
      worker().catch((error: unknown) => {
        // The other workers take no new part once one has failed.
        stopped = true;
        throw error;
      }),
    );
    await Promise.all(workers);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: request.bucket,
        Key: request.key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
  } catch (error) {
    // Unfinished parts are billed until aborted; the copy is retried whole.
    await s3.send(new AbortMultipartUploadCommand({ Bucket: request.bucket, Key: request.key, UploadId })).catch(() => undefined);
    throw error;
  }
}
