import { HeadObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { landing } from '#shared/resources';
import { ArrivalMetadataError, ArrivalNotFoundError } from './errors.ts';
import { neverIngested } from './landing-keys.ts';
import { bareEtag, type IngestMessage } from './messages.ts';

/**
 * Local arrivals: s3rver keeps no object versions, so the local S3 bridge and SFTP server first
 * copy each arrival to `_arrivals/<arrivalId>` and announce the copy (DESIGN.md "Storage"). The
 * copy carries the key it was made from in its metadata; both sides use these helpers.
 */

/** User-metadata name (`x-amz-meta-original-key`) of the key an arrival copy was made from. */
export const ORIGINAL_KEY_METADATA = 'original-key';

/**
 * User-metadata name (`x-amz-meta-transfer-failed`) the local SFTP server puts on the arrival copy
 * of a transfer that did not finish (the client went away mid-file): such a file is kept and
 * announced, and ingest rejects it as interrupted rather than validate half a file.
 */
export const TRANSFER_FAILED_METADATA = 'transfer-failed';

/**
 * The metadata value for a key. Metadata travels in HTTP headers, which cannot hold every
 * character a key may have, so the key is URI-encoded (plain ASCII keys stay as they are).
 */
export function encodeOriginalKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

/** The key an arrival copy was made from, from its metadata value. */
export function decodeOriginalKey(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw new ArrivalMetadataError(`arrival metadata ${ORIGINAL_KEY_METADATA} "${value}" is not URI-encoded`, { value }, { cause: error });
  }
}

/** Whether a landing key is a local arrival copy. */
export function isArrivalKey(key: string): boolean {
  return key.startsWith(landing.arrivalsPrefix);
}

/** What ingest knows of an arrived object: the key it was sent to, and where its bytes are. */
export interface Arrival {
  /** The key the sender used. */
  readonly key: string;
  /** The arrival copy holding the bytes, locally. */
  readonly arrivalKey?: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly size?: number;
  /** The transfer that wrote it did not finish (see {@link TRANSFER_FAILED_METADATA}). */
  readonly interrupted?: boolean;
  /**
   * A Transfer Family event named a key that no longer holds an object (renamed or deleted before
   * it was ingested; an interrupted upload that left nothing): there is nothing to ingest.
   */
  readonly gone?: boolean;
}

/**
 * Resolves the object a message announces. For an arrival copy, HeadObject reads the original key
 * (and the size and ETag when the message lacks them); for any other key, the message says it all.
 */
export async function resolveArrival(s3: S3Client, message: IngestMessage): Promise<Arrival> {
  if (message.source === 'transfer' && message.versionId === undefined) return resolveTransferObject(s3, message);
  if (!isArrivalKey(message.key)) {
    return { key: message.key, versionId: message.versionId, etag: message.etag, size: message.size };
  }
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: message.bucket, Key: message.key, ...(message.versionId ? { VersionId: message.versionId } : {}) }),
  );
  const original = head.Metadata?.[ORIGINAL_KEY_METADATA];
  if (original === undefined || original === '') {
    throw new ArrivalMetadataError(`arrival ${message.key} has no x-amz-meta-${ORIGINAL_KEY_METADATA}: the key it was sent to is unknown`, {
      bucket: message.bucket,
      key: message.key,
    });
  }
  return {
    key: decodeOriginalKey(original),
    arrivalKey: message.key,
    versionId: message.versionId ?? head.VersionId,
    etag: message.etag ?? bareEtag(head.ETag),
    size: message.size ?? head.ContentLength,
    ...(head.Metadata?.[TRANSFER_FAILED_METADATA] ? { interrupted: true } : {}),
  };
}

/** Versions of one key read at most while looking for the one an event's ETag names. */
const MAX_VERSION_PAGES = 5;

/**
 * Resolves the object a Transfer Family event announces (DESIGN.md "Storage"): the events carry no
 * version id, so HeadObject reads the current version, and the ETag an upload event carries
 * confirms it is the uploaded one. When a newer file has since been sent under the same name, the
 * version with that ETag is looked up among the key's versions, so the upload is ingested as sent
 * and the newer file by its own event. A name that is never ingested is not looked up at all (a
 * `.filepart` is usually renamed away by then).
 */
async function resolveTransferObject(s3: S3Client, message: IngestMessage): Promise<Arrival> {
  const bare: Arrival = { key: message.key, etag: message.etag, size: message.size };
  if (neverIngested(message.key) !== undefined) return bare;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: message.bucket, Key: message.key }));
  } catch (error) {
    if (isNotFound(error)) return { ...bare, gone: true };
    throw error;
  }
  const etag = bareEtag(head.ETag);
  if (message.etag === undefined || etag === message.etag) {
    return { key: message.key, versionId: head.VersionId, etag: etag ?? message.etag, size: message.size ?? head.ContentLength };
  }
  const version = await findVersionByEtag(s3, message.bucket, message.key, message.etag);
  if (!version) {
    throw new ArrivalNotFoundError(`no version of ${message.key} has the ETag ${message.etag} the upload event names`, {
      bucket: message.bucket,
      key: message.key,
      etag: message.etag,
    });
  }
  return { key: message.key, versionId: version.versionId, etag: message.etag, size: message.size ?? version.size };
}

async function findVersionByEtag(s3: S3Client, bucket: string, key: string, etag: string): Promise<{ versionId: string; size?: number } | undefined> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let page = 0; page < MAX_VERSION_PAGES; page++) {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    // Newest first: the latest version with this ETag is the upload the event reports.
    const found = listed.Versions?.find((v) => v.Key === key && v.VersionId !== undefined && bareEtag(v.ETag) === etag);
    if (found) return { versionId: found.VersionId!, size: found.Size };
    if (!listed.IsTruncated) return undefined;
    keyMarker = listed.NextKeyMarker;
    versionIdMarker = listed.NextVersionIdMarker;
  }
  return undefined;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
