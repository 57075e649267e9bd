import { InvalidKeyPartError } from './errors.ts';

/**
 * Key builders for every item of the one table (DESIGN.md "Storage"). Every key the code writes or
 * reads comes from here, so the layout lives in one place. A part may not be empty nor hold `#`,
 * the separator: a name like `a#b` could otherwise reach another item's key.
 */

/** The primary key of an item. */
export interface Key {
  readonly pk: string;
  readonly sk: string;
}

/** Digits of a dataset version number in its sort key, so that versions sort as numbers. */
export const VERSION_DIGITS = 9;
const MAX_VERSION = 10 ** VERSION_DIGITS - 1;

function part(value: string, what: string): string {
  if (value === '') throw new InvalidKeyPartError(`${what} must not be empty`, { what });
  if (value.includes('#')) throw new InvalidKeyPartError(`${what} "${value}" must not contain "#"`, { what, value });
  return value;
}

/** `42` → `000000042`; versions are whole numbers from 1. */
export function versionNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_VERSION) {
    throw new InvalidKeyPartError(`dataset version must be a whole number from 1 to ${MAX_VERSION}, not ${n}`, { value: n });
  }
  return String(n).padStart(VERSION_DIGITS, '0');
}

/** The latest version number of a dataset. */
export const datasetHeadKey = (dataset: string): Key => ({ pk: `DATASET#${part(dataset, 'dataset')}`, sk: 'HEAD' });

/** One version of a dataset. */
export const datasetVersionKey = (dataset: string, version: number): Key => ({
  pk: `DATASET#${part(dataset, 'dataset')}`,
  sk: `V#${versionNumber(version)}`,
});

/** Sort-key prefix of a dataset's versions (under {@link datasetHeadKey}'s partition). */
export const DATASET_VERSION_PREFIX = 'V#';

/** The claim of a content hash by a version, so the same bytes become the same version. */
export const contentClaimKey = (dataset: string, sha256: string): Key => ({
  pk: `DATASET#${part(dataset, 'dataset')}`,
  sk: `SHA#${part(sha256, 'sha256')}`,
});

/** One upload. */
export const uploadKey = (uploadId: string): Key => ({ pk: `UPLOAD#${part(uploadId, 'upload id')}`, sk: 'UPLOAD' });

/** A delivery seen by a consumer (dedupe of redelivered messages). */
export const messageKey = (messageId: string): Key => ({ pk: `MSG#${part(messageId, 'message id')}`, sk: 'MSG' });

/** The default-branch head of a repository. */
export const repositoryHeadKey = (repository: string): Key => ({ pk: `REPO#${part(repository, 'repository')}`, sk: 'HEAD' });

/** A commit seen on a repository. */
export const commitKey = (repository: string, sha: string): Key => ({
  pk: `REPO#${part(repository, 'repository')}`,
  sk: `COMMIT#${part(sha, 'commit sha')}`,
});

/** A webhook delivery (dedupe; carries the TTL attribute). */
export const deliveryKey = (deliveryId: string): Key => ({ pk: `DELIVERY#${part(deliveryId, 'delivery id')}`, sk: 'DELIVERY' });

/**
 * The claim of a request hash by the request that first asked for it: asking for the same
 * evaluation again finds the request instead of making another (a deliberate rerun counts here).
 */
export const requestHashKey = (hash: string): Key => ({ pk: `REQUESTHASH#${part(hash, 'request hash')}`, sk: 'REQUEST' });

/**
 * A step of a repository's default-branch head history: the head at `seq` (one item per move,
 * under the repository's partition), so the last n default-branch commits, in the order the head
 * moved, are one Query.
 */
export const headHistoryKey = (repository: string, seq: number): Key => ({ pk: `REPO#${part(repository, 'repository')}`, sk: `${HEAD_HISTORY_PREFIX}${String(seq).padStart(10, '0')}` });

/** Sort-key prefix of a repository's head history (under the repository's partition). */
export const HEAD_HISTORY_PREFIX = 'HEADSEQ#';

/** Sort-key prefix of the commits of a repository (under the repository's partition; evaluation links share it). */
export const COMMIT_PREFIX = 'COMMIT#';

/** An evaluation request. */
export const requestKey = (requestId: string): Key => ({ pk: `REQUEST#${part(requestId, 'request id')}`, sk: 'REQUEST' });

/** One evaluation. */
export const evaluationKey = (evaluationId: string): Key => ({ pk: `EVAL#${part(evaluationId, 'evaluation id')}`, sk: 'EVAL' });

/** Link: an evaluation found from a commit of one repository in its commit set. */
export const evaluationByCommitKey = (repository: string, sha: string, evaluationId: string): Key => ({
  pk: `REPO#${part(repository, 'repository')}`,
  sk: `COMMIT#${part(sha, 'commit sha')}#EVAL#${part(evaluationId, 'evaluation id')}`,
});

/** Sort-key prefix of the evaluation links of one commit (under the repository's partition). */
export const evaluationsOfCommitPrefix = (sha: string): string => `COMMIT#${part(sha, 'commit sha')}#EVAL#`;

/** Link: an evaluation found from its request. */
export const evaluationByRequestKey = (requestId: string, evaluationId: string): Key => ({
  pk: `REQUEST#${part(requestId, 'request id')}`,
  sk: `EVAL#${part(evaluationId, 'evaluation id')}`,
});

/** Sort-key prefix of a request's evaluation links. */
export const EVALUATION_LINK_PREFIX = 'EVAL#';

/** The baseline of a pipeline on one dataset version and parameter point. */
export const baselineKey = (pipeline: string, dataset: string, version: number, pointHash: string): Key => ({
  pk: `BASELINE#${part(pipeline, 'pipeline')}#${part(dataset, 'dataset')}@${Number(versionNumber(version))}#${part(pointHash, 'point hash')}`,
  sk: 'BASELINE',
});

/** A report template. */
export const templateKey = (name: string): Key => ({ pk: `TEMPLATE#${part(name, 'template')}`, sk: 'TEMPLATE' });

/** A rendered report. */
export const reportKey = (reportId: string): Key => ({ pk: `REPORT#${part(reportId, 'report id')}`, sk: 'REPORT' });

/** An SFTP user added at run time. */
export const sftpUserKey = (name: string): Key => ({ pk: `SFTPUSER#${part(name, 'SFTP user')}`, sk: 'USER' });

/** Link: an upload made through an upload slot. */
export const slotUploadKey = (slotId: string, uploadId: string): Key => ({
  pk: `SLOT#${part(slotId, 'slot id')}`,
  sk: `UPLOAD#${part(uploadId, 'upload id')}`,
});

/** The partition of a request's evaluation links. */
export const requestPartition = (requestId: string): string => `REQUEST#${part(requestId, 'request id')}`;

/** The partition of a repository's commits and commit links. */
export const repositoryPartition = (repository: string): string => `REPO#${part(repository, 'repository')}`;

/** An upload slot handed out by `POST /datasets/{name}/uploads` (its upload links share the partition). */
export const uploadSlotKey = (slotId: string): Key => ({ pk: `SLOT#${part(slotId, 'slot id')}`, sk: 'SLOT' });

/** The partition of a slot's upload links. */
export const slotPartition = (slotId: string): string => `SLOT#${part(slotId, 'slot id')}`;

/** Sort-key prefix of a slot's upload links. */
export const SLOT_UPLOAD_PREFIX = 'UPLOAD#';

/**
 * Partition values of the listing indexes: `gsi1` holds every item of a kind by time, `gsi2` the
 * items of one parent by time.
 */
export const listings = {
  versions: 'VERSIONS',
  versionsOf: (dataset: string) => `VERSIONS#${part(dataset, 'dataset')}`,
  uploads: 'UPLOADS',
  uploadsOf: (dataset: string) => `UPLOADS#${part(dataset, 'dataset')}`,
  commitsOf: (repository: string) => `COMMITS#${part(repository, 'repository')}`,
  requestsOf: (pipeline: string) => `REQUESTS#${part(pipeline, 'pipeline')}`,
  evaluations: 'EVALS',
  evaluationsOf: (pipeline: string) => `EVALS#${part(pipeline, 'pipeline')}`,
  reports: 'REPORTS',
  templates: 'TEMPLATES',
  sftpUsers: 'SFTPUSERS',
} as const;
