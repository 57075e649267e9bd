import type { S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import type { SymbiontConfig } from '#config/schema';
import type { MetricSink } from '#shared/metrics';
import { logger } from '#shared/observability';
import { queues } from '#shared/resources';
import { withCorrelation } from '#shared/tracing';
import { AlreadyExistsError, ContentClaimBusyError, StatusConflictError } from '#store/errors';
import type { Store, VersionRecord } from '#store/store';
import type { UploadRecord } from '#store/uploads';
import type { ValidationReport } from '#validation/validate';
import { type Arrival, resolveArrival } from './arrivals.ts';
import { IngestError } from './errors.ts';
import { type Delivery, isLastReceive, markFailed } from './failures.ts';
import { type LandingKey, parseLandingKey, uploadLayout } from './landing-keys.ts';
import { recordIngestFailure, recordIngestMetrics } from './metrics.ts';
import type { IngestMessage } from './messages.ts';
import { markOutcomeRecorded } from './originals.ts';
import { publishVersion, type PublishOutcome, type PublishStore } from './publish.ts';
import { quarantineUpload } from './quarantine.ts';
import { rejectUpload } from './reject.ts';
import { validateLandingObject } from './validate-upload.ts';

export { REASON_FILE, rejectedOriginalKey } from './reject.ts';

/**
 * What happens to every upload (DESIGN.md "Vocabulary", "Flows"): an ingest message becomes an
 * upload record exactly once per arrival (`received`); the upload moves to `validating`, its
 * landing object is streamed through the dataset's spec, and it ends in exactly one outcome —
 * `published` (a new dataset version, or the version its bytes already are), `quarantined` (with
 * its report), or `rejected` (not processable as sent: unknown dataset, malformed key, too large,
 * a decompression bomb). Each outcome stores the original in the data bucket before it is recorded,
 * and the landing object is marked as safe to expire only after that.
 *
 * Every step is repeatable and every redelivery picks up where the last one stopped, so a crash
 * anywhere ends, after a retry, in the same single outcome. Internal errors are thrown for the
 * queue to retry; on the last receive the upload is marked `failed` first (see `failures.ts`), and
 * a redrive resumes it.
 */

/** The store operations ingest uses. */
export type IngestStore = Pick<Store, 'claimMessage' | 'getMessageClaim' | 'createUpload' | 'getUpload' | 'setUploadStatus'> &
  PublishStore &
  // Where the store can read upload slots, an upload through a slot is recorded as sent by whoever asked for the slot.
  Partial<Pick<Store, 'getUploadSlot'>>;

export interface IngestDeps {
  readonly store: IngestStore;
  readonly s3: S3Client;
  /** Where uploads by outcome and ingest speed are counted (CloudWatch in AWS). @default none */
  readonly metrics?: MetricSink;
  readonly config: Pick<SymbiontConfig, 'datasets'>;
  /** The data bucket, where originals go with their outcome. */
  readonly dataBucket: string;
  /** Receives the ingest queue allows before the DLQ. @default queues.ingest.maxReceiveCount */
  readonly maxReceiveCount?: number;
  /**
   * Pauses before trying again while another upload publishes the same bytes; when they run out
   * the message is retried by the queue. @default [500, 1000, 2000, 4000, 8000]
   */
  readonly busyRetryDelaysMs?: readonly number[];
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default ulid */
  readonly newId?: () => string;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long another upload of the same bytes waits before taking over a publishing attempt. @default see publishVersion */
  readonly leaseMs?: number;
  /**
   * Told of each new dataset version once its upload's outcome is recorded (the commit queue, which
   * plans its re-evaluation). Its failure leaves the outcome as it is and throws for the queue to
   * retry: a redelivery of a published upload announces its version again. @default none
   */
  readonly newVersions?: NewVersionAnnouncer;
}

/** Where new dataset versions are announced (the commit queue, for re-evaluation: reason `data`). */
export interface NewVersionAnnouncer {
  announce(version: { readonly dataset: string; readonly version: number; readonly publishedAt: string }): Promise<void>;
}

/** How this message was delivered. */
export interface IngestDelivery {
  /** The SQS record's `ApproximateReceiveCount`. @default 1 */
  readonly receiveCount?: number;
}

/** What became of a message. */
export type IngestOutcome =
  | { readonly kind: 'skipped'; readonly key: string; readonly why: string }
  /** Delivered again after its upload reached an outcome: nothing changed (the landing tag is ensured). */
  | { readonly kind: 'duplicate'; readonly uploadId?: string }
  /** Published as a new version, or `matched` to the version its bytes already were. */
  | { readonly kind: 'published'; readonly upload: UploadRecord; readonly version: VersionRecord; readonly matched: boolean }
  | { readonly kind: 'quarantined'; readonly upload: UploadRecord; readonly report: ValidationReport }
  | { readonly kind: 'rejected'; readonly upload: UploadRecord };

const INTERRUPTED_REASON = 'the transfer stopped before the whole file arrived, so it was not processed; send the file again';

const DEFAULT_BUSY_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000] as const;

/**
 * Takes a message to its upload's outcome: records the upload, validates it and publishes,
 * quarantines or rejects it; or skips a file that is never ingested.
 *
 * @throws on internal errors (S3, the table, a broken input stream, the same bytes being published
 * by another upload for too long), for the queue to retry. On the last receive the upload is first
 * marked `failed`.
 */
export async function ingestUpload(message: IngestMessage, deps: IngestDeps, delivery: IngestDelivery = {}): Promise<IngestOutcome> {
  const now = deps.now ?? (() => new Date());
  const arrival = await resolveArrival(deps.s3, message);
  if (arrival.gone) {
    logger.info('not ingesting a file that is no longer in landing', { key: arrival.key, messageId: message.messageId });
    return { kind: 'skipped', key: arrival.key, why: 'the file is no longer in landing (renamed or deleted before it was ingested)' };
  }
  const parsed = parseLandingKey(arrival.key, message.source === 'transfer' ? 'sftp' : 'api');
  if (parsed.kind === 'skip') {
    logger.info('not ingesting a file whose name marks it as unfinished or ours', { key: arrival.key, why: parsed.why });
    return { kind: 'skipped', key: arrival.key, why: parsed.why };
  }
  // A transfer reported as broken off (Transfer Family's upload-failed event, the local SFTP
  // server's arrival metadata) is not the file the sender meant to send.
  const rejection = message.failed || arrival.interrupted ? INTERRUPTED_REASON : rejectionReason(parsed, deps.config);

  const uploadId = (deps.newId ?? ulid)();
  const slotSender = await slotSenderOf(deps.store, parsed);
  let upload: UploadRecord;
  if (await deps.store.claimMessage(message.messageId, { uploadId, at: now().toISOString() })) {
    upload = await record(deps, draftUpload(uploadId, message, arrival, parsed, now(), slotSender));
  } else {
    // A redelivery. The first delivery may have stopped half-way (after claiming, before
    // recording, or anywhere after): pick up where it stopped rather than lose the upload.
    const claim = await deps.store.getMessageClaim(message.messageId);
    if (!claim?.uploadId) return { kind: 'duplicate' };
    upload = (await deps.store.getUpload(claim.uploadId)) ?? (await record(deps, draftUpload(claim.uploadId, message, arrival, parsed, now(), slotSender)));
  }

  // From here every log line and the trace carry the upload id.
  return withCorrelation({ uploadId: upload.uploadId }, async () => {
    const started = Date.now();
    try {
      const outcome = await advance(deps, upload, rejection, now);
      if (deps.metrics) recordIngestMetrics(deps.metrics, outcome, Date.now() - started);
      return outcome;
    } catch (error) {
      const attempt: Delivery = { receiveCount: delivery.receiveCount, maxReceiveCount: deps.maxReceiveCount ?? queues.ingest.maxReceiveCount };
      if (isLastReceive(attempt)) {
        await markFailed({ store: deps.store, s3: deps.s3, now }, upload, error, attempt);
        if (deps.metrics) recordIngestFailure(deps.metrics, upload.dataset);
      } else logger.warn('upload not finished; the message will be delivered again', { receiveCount: attempt.receiveCount, error: error as Error });
      throw error;
    }
  });
}

/**
 * Moves an upload on from the status it has, to its outcome. A status another delivery changed
 * under this one is read again and taken from there.
 */
async function advance(deps: IngestDeps, recorded: UploadRecord, rejection: string | undefined, now: () => Date): Promise<IngestOutcome> {
  const outcomeDeps = { store: deps.store, s3: deps.s3, dataBucket: deps.dataBucket, now };
  let upload = recorded;
  for (;;) {
    switch (upload.status) {
      case 'published':
      case 'quarantined':
      case 'rejected':
        // Delivered again after the outcome was recorded: only the landing tag may be missing, or
        // the announcement of the version it published (which is why the message came back).
        await markOutcomeRecorded(deps.s3, upload);
        if (upload.status === 'published') await announceIfNew(deps, upload);
        logger.info('message delivered again; the upload already has its outcome', { status: upload.status });
        return { kind: 'duplicate', uploadId: upload.uploadId };
      case 'received':
      case 'failed':
        if (rejection !== undefined) return { kind: 'rejected', upload: await rejectUpload(outcomeDeps, upload, { reason: rejection }, upload.status) };
        try {
          upload = await deps.store.setUploadStatus(upload.uploadId, { from: upload.status, to: 'validating', at: now().toISOString() });
          logger.info(recorded.status === 'failed' ? 'failed upload resumed' : 'upload received; validating', {
            dataset: upload.dataset,
            key: upload.key,
            source: upload.source,
          });
        } catch (error) {
          if (!(error instanceof StatusConflictError)) throw error;
          upload = await reread(deps, upload.uploadId, error);
        }
        break;
      case 'validating':
        if (rejection !== undefined) return { kind: 'rejected', upload: await rejectUpload(outcomeDeps, upload, { reason: rejection }, 'validating') };
        return validateAndDecide(deps, upload, now);
    }
  }
}

/** Validates a `validating` upload and records the one outcome the verdict calls for. */
async function validateAndDecide(deps: IngestDeps, upload: UploadRecord, now: () => Date): Promise<IngestOutcome> {
  const dataset = upload.dataset!;
  const spec = deps.config.datasets[dataset]!;
  const report = await validateLandingObject(deps.s3, upload, spec);
  const outcomeDeps = { store: deps.store, s3: deps.s3, dataBucket: deps.dataBucket, now };
  logger.info('upload validated', { verdict: report.verdict, rows: report.rows, bytes: report.bytes, errorCount: report.errorCount });

  if (report.verdict === 'rejected' || report.sha256 === undefined) {
    const reason = report.rejection?.message ?? 'the file was not read to its end, so it was not processed';
    return { kind: 'rejected', upload: await rejectUpload(outcomeDeps, upload, { reason, rule: report.rejection?.rule }, 'validating') };
  }
  if (report.verdict === 'invalid') {
    return { kind: 'quarantined', upload: await quarantineUpload(outcomeDeps, upload, report), report };
  }
  const published = await publishWhenFree(deps, upload, report, now);
  if (published.kind === 'published') await announce(deps, published.version);
  return { kind: 'published', upload: published.upload, version: published.version, matched: published.kind === 'matched' };
}

/** Announces a version this upload published (not one it matched), after a redelivery. */
async function announceIfNew(deps: IngestDeps, upload: UploadRecord): Promise<void> {
  if (!deps.newVersions || upload.version === undefined || upload.dataset === undefined) return;
  const version = await deps.store.getVersion(upload.dataset, upload.version);
  if (version?.uploadId === upload.uploadId) await announce(deps, version);
}

async function announce(deps: IngestDeps, version: VersionRecord): Promise<void> {
  if (!deps.newVersions) return;
  try {
    await deps.newVersions.announce({ dataset: version.dataset, version: version.version, publishedAt: version.createdAt ?? version.reservedAt });
  } catch (error) {
    // The upload keeps its outcome; the message comes back and announces again (see IngestDeps.newVersions).
    logger.error('new dataset version not announced for re-evaluation; the message will be delivered again', {
      dataset: version.dataset,
      version: version.version,
      error: error as Error,
    });
    throw error;
  }
}

/**
 * Publishes a valid upload. While another upload is publishing the same bytes (its claim is
 * leased), waits a little and tries again: that upload usually finishes within seconds, and this
 * one then matches its version, which is better than waiting out a visibility timeout.
 */
async function publishWhenFree(deps: IngestDeps, upload: UploadRecord, report: ValidationReport, now: () => Date): Promise<PublishOutcome> {
  const delays = deps.busyRetryDelaysMs ?? DEFAULT_BUSY_RETRY_DELAYS_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await publishVersion(
        {
          upload,
          dataset: upload.dataset!,
          file: upload.file ?? '',
          sha256: report.sha256!,
          bytes: report.bytes,
          rows: report.rows,
          specRevision: report.specRevision,
          profile: report.profile,
        },
        { store: deps.store, s3: deps.s3, dataBucket: deps.dataBucket, now, ...(deps.leaseMs !== undefined ? { leaseMs: deps.leaseMs } : {}) },
      );
    } catch (error) {
      const delay = delays[attempt];
      if (!(error instanceof ContentClaimBusyError) || delay === undefined) throw error;
      logger.info('another upload is publishing the same bytes; waiting for it', { delayMs: delay });
      await sleep(delay);
    }
  }
}

async function reread(deps: IngestDeps, uploadId: string, cause: unknown): Promise<UploadRecord> {
  const current = await deps.store.getUpload(uploadId);
  if (!current) throw new IngestError(`upload ${uploadId} disappeared while it was being ingested`, { uploadId }, { cause });
  return current;
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

/**
 * Who asked for the slot an API upload came through, when the slot is recorded for the same
 * dataset. A key under an unknown slot is still ingested (the bucket accepts only presigned PUTs
 * and the stack's roles there), just without a sender.
 */
async function slotSenderOf(store: IngestStore, parsed: Exclude<LandingKey, { kind: 'skip' }>): Promise<string | undefined> {
  if (parsed.kind !== 'upload' || parsed.slotId === undefined || !store.getUploadSlot) return undefined;
  const slot = await store.getUploadSlot(parsed.slotId);
  return slot?.dataset === parsed.dataset ? slot.sender : undefined;
}

function draftUpload(
  uploadId: string,
  message: IngestMessage,
  arrival: Arrival,
  parsed: Exclude<LandingKey, { kind: 'skip' }>,
  at: Date,
  slotSender?: string,
): UploadRecord {
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
    sender: message.user ?? parsed.sender ?? slotSender,
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

