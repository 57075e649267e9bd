import { CopyObjectCommand, PutObjectCommand, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import type { SymbiontConfig } from '#config/schema';
import { logger } from '#shared/observability';
import { landing } from '#shared/resources';
import { AlreadyExistsError } from '#store/errors';
import type { Store } from '#store/store';
import { landingObject, type UploadRecord } from '#store/uploads';
import { type Arrival, resolveArrival } from './arrivals.ts';
import { IngestError } from './errors.ts';
import { type LandingKey, parseLandingKey, uploadLayout } from './landing-keys.ts';
import type { IngestMessage } from './messages.ts';

/**
 * The first step of every upload: an ingest message becomes an upload record, exactly once per
 * arrival. A file Symbiont cannot take (a key naming no configured dataset, a malformed key) is
 * rejected on the spot: its original is copied to `rejected/<uploadId>/` in the data bucket with
 * the reason beside it, and only then is the status set, so nothing is lost on the way.
 */

/** The store operations ingest uses. */
export type IngestStore = Pick<Store, 'claimMessage' | 'getMessageClaim' | 'createUpload' | 'getUpload' | 'setUploadStatus'>;

export interface IngestDeps {
  readonly store: IngestStore;
  readonly s3: S3Client;
  readonly config: Pick<SymbiontConfig, 'datasets'>;
  /** The data bucket, where originals go with their outcome. */
  readonly dataBucket: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default ulid */
  readonly newId?: () => string;
}

/** What became of a message. */
export type IngestOutcome =
  | { readonly kind: 'skipped'; readonly key: string; readonly why: string }
  | { readonly kind: 'duplicate'; readonly uploadId?: string }
  | { readonly kind: 'received'; readonly upload: UploadRecord }
  | { readonly kind: 'rejected'; readonly upload: UploadRecord };

/** The file name of the reason stored beside a rejected original. */
export const REASON_FILE = 'reason.json';

/** Where a rejected upload's original goes in the data bucket. */
export function rejectedOriginalKey(uploadId: string, file: string): string {
  // The reason file sits beside the original: a file that is itself called reason.json (or has no
  // name) gets a name that cannot collide with it.
  const name = file === '' ? 'original' : file === REASON_FILE ? `original-${REASON_FILE}` : file;
  return `rejected/${uploadId}/${name}`;
}

/** Records the upload a message announces, or rejects it with a reason, or skips it. */
export async function ingestUpload(message: IngestMessage, deps: IngestDeps): Promise<IngestOutcome> {
  const now = deps.now ?? (() => new Date());
  const arrival = await resolveArrival(deps.s3, message);
  const parsed = parseLandingKey(arrival.key, message.source === 'transfer' ? 'sftp' : 'api');
  if (parsed.kind === 'skip') {
    logger.info('not ingesting a file whose name marks it as unfinished or ours', { key: arrival.key, why: parsed.why });
    return { kind: 'skipped', key: arrival.key, why: parsed.why };
  }
  const rejection = rejectionReason(parsed, deps.config);

  const uploadId = (deps.newId ?? ulid)();
  let upload: UploadRecord;
  if (await deps.store.claimMessage(message.messageId, { uploadId, at: now().toISOString() })) {
    upload = await record(deps, draftUpload(uploadId, message, arrival, parsed, now()));
  } else {
    // A redelivery. The first delivery may have stopped half-way (after claiming, before
    // recording or rejecting): pick up where it stopped rather than lose the upload.
    const claim = await deps.store.getMessageClaim(message.messageId);
    if (!claim?.uploadId) return { kind: 'duplicate' };
    const existing = await deps.store.getUpload(claim.uploadId);
    upload = existing ?? (await record(deps, draftUpload(claim.uploadId, message, arrival, parsed, now())));
    const finished = existing !== undefined && (existing.status !== 'received' || rejection === undefined);
    if (finished) {
      if (upload.status === 'rejected') await markOutcomeRecorded(deps.s3, upload);
      logger.info('message delivered again; the upload is already recorded', { uploadId: upload.uploadId, status: upload.status });
      return { kind: 'duplicate', uploadId: upload.uploadId };
    }
  }

  if (rejection === undefined) {
    logger.info('upload received', { uploadId: upload.uploadId, dataset: upload.dataset, key: upload.key, source: upload.source });
    return { kind: 'received', upload };
  }
  return { kind: 'rejected', upload: await reject(deps, upload, rejection, now) };
}

/** Why a parsed key cannot be ingested, or `undefined` when it names a configured dataset. */
function rejectionReason(parsed: Exclude<LandingKey, { kind: 'skip' }>, config: Pick<SymbiontConfig, 'datasets'>): string | undefined {
  if (parsed.kind === 'malformed') return parsed.reason;
  if (Object.hasOwn(config.datasets, parsed.dataset)) return undefined;
  const known = Object.keys(config.datasets).sort();
  return (
    `dataset "${parsed.dataset}" is not configured; known datasets: ${known.join(', ') || 'none'}; ` +
    `upload to ${uploadLayout(parsed.source, parsed.sender)} with one of them`
  );
}

function draftUpload(uploadId: string, message: IngestMessage, arrival: Arrival, parsed: Exclude<LandingKey, { kind: 'skip' }>, at: Date): UploadRecord {
  const time = at.toISOString();
  return {
    uploadId,
    dataset: parsed.kind === 'upload' ? parsed.dataset : undefined,
    bucket: message.bucket,
    key: arrival.key,
    arrivalKey: arrival.arrivalKey,
    versionId: arrival.versionId,
    etag: arrival.etag,
    size: arrival.size,
    file: parsed.file,
    source: parsed.source,
    sender: message.user ?? parsed.sender,
    slotId: parsed.kind === 'upload' ? parsed.slotId : undefined,
    messageId: message.messageId,
    status: 'received',
    receivedAt: time,
    updatedAt: time,
  };
}

/** Creates the record; a concurrent delivery of the same message that created it first wins. */
async function record(deps: IngestDeps, draft: UploadRecord): Promise<UploadRecord> {
  try {
    return await deps.store.createUpload(draft);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const existing = await deps.store.getUpload(draft.uploadId);
    if (!existing) throw new IngestError(`upload ${draft.uploadId} was reported as existing but cannot be read`, { uploadId: draft.uploadId }, { cause: error });
    return existing;
  }
}

/**
 * Stores the original and the reason in the data bucket, tells an SFTP sender beside the file,
 * then records the outcome, then marks the landing object as safe to expire: each step is
 * repeatable, so a redelivery after a crash finishes the job.
 */
async function reject(deps: IngestDeps, upload: UploadRecord, reason: string, now: () => Date): Promise<UploadRecord> {
  const outcomeKey = rejectedOriginalKey(upload.uploadId, upload.file ?? '');
  const source = landingObject(upload);
  await deps.s3.send(
    new CopyObjectCommand({
      Bucket: deps.dataBucket,
      Key: outcomeKey,
      CopySource: copySource(source.Bucket, source.Key, source.VersionId),
    }),
  );
  const rejectedAt = now().toISOString();
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.dataBucket,
      Key: `rejected/${upload.uploadId}/${REASON_FILE}`,
      ContentType: 'application/json',
      Body: `${JSON.stringify(
        {
          uploadId: upload.uploadId,
          status: 'rejected',
          reason,
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
  if (upload.source === 'sftp' && upload.key.startsWith(landing.sftpPrefix)) {
    // SFTP senders look beside their file; names ending in .result.txt are never ingested.
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: upload.bucket,
        Key: `${upload.key}.result.txt`,
        ContentType: 'text/plain; charset=utf-8',
        Body: `REJECTED ${upload.file ?? ''}\nupload ${upload.uploadId} at ${rejectedAt}\n${reason}\n`,
      }),
    );
  }
  const rejected = await deps.store.setUploadStatus(upload.uploadId, { from: 'received', to: 'rejected', reason, outcomeKey, at: rejectedAt });
  await markOutcomeRecorded(deps.s3, rejected);
  logger.warn('upload rejected', { uploadId: rejected.uploadId, key: rejected.key, reason, outcomeKey });
  return rejected;
}

/** Tags the landing object so the lifecycle rule may expire it: its original is in the data bucket. */
async function markOutcomeRecorded(s3: S3Client, upload: UploadRecord): Promise<void> {
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
