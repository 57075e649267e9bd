import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DatasetSpec } from '#config/schema';
import type { UploadRecord } from '#store/uploads';
import { landingObject } from '#store/uploads';
import { validateStream, type ValidationReport } from '#validation/validate';
import { IngestError } from './errors.ts';

/**
 * Validating an upload where it landed: its bytes are streamed from the landing object at its
 * version (the `_arrivals/` copy locally, the versionId in AWS: {@link landingObject}), never from
 * whatever the key holds now, so a newer file sent under the same name is never validated in its
 * place. Nothing is buffered: the object flows through the validator once.
 */

/** S3 answered a read of the landing object with no body. */
export class LandingObjectReadError extends IngestError {
  override name = 'LandingObjectReadError';
}

/** A response body as the SDK hands it out in Node: an async iterable of bytes that can be destroyed. */
type Body = AsyncIterable<Uint8Array> & { destroy?: () => void };

/**
 * Validates an upload's landing object against `spec`. The object's size is announced to the
 * validator, which refuses a file larger than the spec allows before reading it.
 *
 * @throws InputReadError (from the validator) when the stream fails part-way: retry, not a verdict.
 * @throws S3 errors from GetObject, also to be retried.
 */
export async function validateLandingObject(s3: S3Client, upload: UploadRecord, spec: DatasetSpec): Promise<ValidationReport> {
  const object = landingObject(upload);
  const response = await s3.send(new GetObjectCommand(object));
  const body = response.Body as Body | undefined;
  if (!body || typeof body[Symbol.asyncIterator] !== 'function') {
    throw new LandingObjectReadError(`S3 returned no readable body for s3://${object.Bucket}/${object.Key}`, object);
  }
  try {
    return await validateStream(body, spec, {
      fileName: upload.file || 'original',
      ...(upload.dataset ? { dataset: upload.dataset } : {}),
      declaredBytes: response.ContentLength ?? upload.size,
    });
  } finally {
    // A refusal before the end (too large) leaves the connection open until the body is dropped.
    body.destroy?.();
  }
}
