import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/**
 * Presigned S3 URLs, the one helper for every capability that hands out object access (dataset
 * downloads, upload slots, reports). The client decides where the URL points: S3 in AWS, the
 * local S3 when `AWS_ENDPOINT_URL_S3` is set (see `#shared/aws`), so a local URL works with curl.
 * A URL signed with temporary credentials (a Lambda role's) stops working when they expire, even
 * before `seconds` have passed: such a URL is signed for only as long as the credentials last, so
 * the `expiresAt` it is handed out with is the truth.
 */

/** A presigned URL and when it stops working. */
export interface PresignedUrl {
  readonly url: string;
  /** ISO time. */
  readonly expiresAt: string;
}

/** Longest validity any URL of Symbiont gets: one hour. */
export const MAX_PRESIGN_SECONDS = 3600;

/** `attachment; filename="…"` with a plain-ASCII fallback and the RFC 6266 UTF-8 form. */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === fileName ? `attachment; filename="${fileName}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** A GET URL for `bucket/key`; `fileName` makes browsers and `curl -OJ` save it under that name. */
export async function presignGet(
  s3: S3Client,
  object: { bucket: string; key: string; versionId?: string },
  seconds: number,
  options: { fileName?: string; contentType?: string; now?: Date } = {},
): Promise<PresignedUrl> {
  const now = options.now ?? new Date();
  const valid = await validSeconds(s3, seconds, now);
  const url = await getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      ...(object.versionId ? { VersionId: object.versionId } : {}),
      ...(options.fileName ? { ResponseContentDisposition: attachmentDisposition(options.fileName) } : {}),
      ...(options.contentType ? { ResponseContentType: options.contentType } : {}),
    }),
    { expiresIn: valid, signingDate: now },
  );
  return { url, expiresAt: new Date(now.getTime() + valid * 1000).toISOString() };
}

/**
 * A PUT URL for `bucket/key`. Only `host` is signed, so any client can PUT with any headers;
 * the object's content is checked by ingest, not by the signature.
 */
export async function presignPut(s3: S3Client, object: { bucket: string; key: string }, seconds: number, options: { now?: Date } = {}): Promise<PresignedUrl> {
  const now = options.now ?? new Date();
  const valid = await validSeconds(s3, seconds, now);
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: object.bucket, Key: object.key }), { expiresIn: valid, signingDate: now });
  return { url, expiresAt: new Date(now.getTime() + valid * 1000).toISOString() };
}

/**
 * `seconds`, or fewer when the client's credentials expire sooner (at least one second: the SDK
 * refreshes credentials minutes before they expire, so in practice a URL lasts minutes at least).
 */
async function validSeconds(s3: S3Client, seconds: number, now: Date): Promise<number> {
  const { expiration } = await s3.config.credentials();
  if (!expiration) return seconds;
  return Math.max(1, Math.min(seconds, Math.floor((expiration.getTime() - now.getTime()) / 1000)));
}
