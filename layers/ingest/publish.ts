import type { S3Client } from '@aws-sdk/client-s3';
import { logger } from '#shared/observability';
import { queues } from '#shared/resources';
import { StatusConflictError } from '#store/errors';
import type { ColumnProfile, Store, UploadRecord, VersionRecord } from '#store/store';
import { landingObject } from '#store/uploads';
import { IngestError } from './errors.ts';
import { copyOriginal, markOutcomeRecorded, type ObjectVersion } from './originals.ts';
import { readsResultBesideFile, writeResultFile } from './sftp-results.ts';

/**
 * Publishing a valid upload (DESIGN.md "Flows"): it becomes the dataset's next immutable version
 * at `datasets/<name>/v<n>/<file>`, or — when the same bytes are a version already — points at that
 * version. The order is what keeps every upload safe: the original is copied into the data bucket
 * (naming its landing version) before the version is marked published; the upload's outcome is
 * recorded after that; and only then is the landing object tagged, which is what lets the
 * lifecycle rule expire it. Every step is repeatable, so a redelivery after a crash anywhere
 * finishes the job with the same version number (see `#store/versions` for how numbers stay
 * gap-free and duplicate-free).
 */

/** The store operations publishing uses. */
export type PublishStore = Pick<Store, 'claimContent' | 'reserveVersion' | 'completeVersion' | 'getVersion' | 'getUpload' | 'setUploadStatus'>;

export interface PublishDeps {
  readonly store: PublishStore;
  readonly s3: S3Client;
  /** The data bucket, where versions are stored. */
  readonly dataBucket: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /**
   * How long another upload of the same bytes waits before taking over from this attempt.
   * @default the ingest consumer's timeout, the longest one attempt can run
   */
  readonly leaseMs?: number;
}

/** What validation found out about a valid upload, and where its bytes are. */
export interface PublishInput {
  /** The upload, as recorded; `validating` (or already `published`, on a redelivery). */
  readonly upload: UploadRecord;
  readonly dataset: string;
  /** The file name the version keeps. */
  readonly file: string;
  /** The bytes to store. @default the upload's landing object at its version ({@link landingObject}) */
  readonly source?: ObjectVersion;
  /** sha256 (hex) of the bytes as received. */
  readonly sha256: string;
  /** Bytes as received. */
  readonly bytes: number;
  readonly rows: number;
  /** The revision of the spec the bytes were validated against. */
  readonly specRevision: string;
  readonly profile: Readonly<Record<string, ColumnProfile>>;
}

/** What became of a valid upload. */
export interface PublishOutcome {
  /** `published`: the upload became `version`. `matched`: its bytes were already `version`. */
  readonly kind: 'published' | 'matched';
  readonly upload: UploadRecord;
  readonly version: VersionRecord;
}

/** A published upload or content claim that points at a version that cannot be read. */
export class PublishedVersionMissingError extends IngestError {
  override name = 'PublishedVersionMissingError';
}

/** Where version `version` of `dataset` is stored in the data bucket. */
export function versionObjectKey(dataset: string, version: number, file: string): string {
  return `datasets/${dataset}/v${version}/${file === '' ? 'original' : file}`;
}

/**
 * Makes a valid upload the dataset's next version, or points it at the version its bytes already
 * are. Throws `ContentClaimBusyError` (retry later) while another upload is publishing the same
 * bytes, and lets S3 and table errors through: the message is retried and picks up here.
 */
export async function publishVersion(input: PublishInput, deps: PublishDeps): Promise<PublishOutcome> {
  const now = deps.now ?? (() => new Date());
  const { upload, dataset } = input;

  if (upload.status === 'published') {
    // A redelivery after the outcome was recorded: only the tag may be missing.
    const version = await readVersion(deps, dataset, upload.version, upload.uploadId);
    await markOutcomeRecorded(deps.s3, upload);
    return { kind: version.uploadId === upload.uploadId ? 'published' : 'matched', upload, version };
  }

  const version = await storeVersion(input, deps, now);
  const kind = version.uploadId === upload.uploadId ? 'published' : 'matched';
  const at = now().toISOString();
  if (readsResultBesideFile(upload)) await writeResultFile(deps.s3, upload, 'PUBLISHED', at, acceptedText(version, kind));
  const recorded = await recordOutcome(deps, upload, version, at);
  await markOutcomeRecorded(deps.s3, recorded);
  logger.info(kind === 'published' ? 'upload published as a new version' : 'upload matched an existing version', {
    uploadId: upload.uploadId,
    dataset,
    version: version.version,
    key: version.key,
  });
  return { kind, upload: recorded, version };
}

/** The version these bytes are: found through the content claim, or reserved, stored and completed. */
async function storeVersion(input: PublishInput, deps: PublishDeps, now: () => Date): Promise<VersionRecord> {
  const { upload, dataset } = input;
  const claimed = await deps.store.claimContent({
    dataset,
    sha256: input.sha256,
    uploadId: upload.uploadId,
    leaseMs: deps.leaseMs ?? queues.ingest.consumerTimeoutSeconds * 1000,
    at: now(),
  });
  if (claimed.kind === 'published') return readVersion(deps, dataset, claimed.claim.version, upload.uploadId);

  const reserved = await deps.store.reserveVersion(claimed.claim, {
    bytes: input.bytes,
    rows: input.rows,
    specRevision: input.specRevision,
    profile: input.profile,
    uploadId: upload.uploadId,
    sender: upload.sender,
    file: input.file,
    objectKey: (n) => versionObjectKey(dataset, n, input.file),
    at: now(),
  });
  if (reserved.state === 'publishing') {
    // The key is the reserved record's: after a takeover it may name another upload's file, and
    // these bytes are the same bytes.
    await copyOriginal(deps.s3, { source: input.source ?? landingObject(upload), bucket: deps.dataBucket, key: reserved.key, bytes: input.bytes });
  }
  return deps.store.completeVersion(reserved, now());
}

async function readVersion(deps: PublishDeps, dataset: string, version: number | undefined, uploadId: string): Promise<VersionRecord> {
  const record = version === undefined ? undefined : await deps.store.getVersion(dataset, version);
  if (!record) {
    throw new PublishedVersionMissingError(`upload ${uploadId} points at version ${version ?? '(none)'} of dataset ${dataset}, which is not a published version`, {
      uploadId,
      dataset,
      version,
    });
  }
  return record;
}

/** Sets the upload `published`; a concurrent delivery that did it first is fine. */
async function recordOutcome(deps: PublishDeps, upload: UploadRecord, version: VersionRecord, at: string): Promise<UploadRecord> {
  try {
    return await deps.store.setUploadStatus(upload.uploadId, { from: 'validating', to: 'published', version: version.version, outcomeKey: version.key, at });
  } catch (error) {
    if (!(error instanceof StatusConflictError)) throw error;
    const current = await deps.store.getUpload(upload.uploadId);
    if (current?.status === 'published' && current.version === version.version) return current;
    throw error;
  }
}

/** What an SFTP sender reads beside an accepted file. */
export function acceptedText(version: Pick<VersionRecord, 'version' | 'dataset' | 'rows' | 'sha256'>, kind: PublishOutcome['kind']): string {
  const what = `${version.rows} row${version.rows === 1 ? '' : 's'}, sha256 ${version.sha256}`;
  const accepted =
    kind === 'published'
      ? `Accepted as version ${version.version} of ${version.dataset} (${what}).`
      : `Accepted: the same bytes as version ${version.version} of ${version.dataset} (${what}); nothing new was stored.`;
  return `${accepted}\nThere is nothing more to do.\n`;
}
