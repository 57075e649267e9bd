import { z } from 'zod';
import { BadRequestError, NotFoundError } from '#shared/errors';
import { AlreadyExistsError, CorruptItemError, IllegalTransitionError, StatusConflictError } from './errors.ts';
import { listings, SLOT_UPLOAD_PREFIX, slotPartition, slotUploadKey, uploadKey } from './keys.ts';
import { listLinked, writeLink } from './links.ts';
import { ConditionFailed, type Item, MAX_PAGE, type Table } from './table.ts';

/**
 * Uploads: one object version arriving in landing, and the one outcome it moves to
 * (DESIGN.md "Vocabulary"). Listed newest first, by all uploads or by dataset, and by slot.
 */

export const uploadStatuses = ['received', 'validating', 'published', 'quarantined', 'rejected', 'failed'] as const;
export type UploadStatus = (typeof uploadStatuses)[number];

/** How the file came: a presigned PUT or API upload (`api/…`), or SFTP (`sftp/…`). */
export const uploadSources = ['api', 'sftp'] as const;
export type UploadSource = (typeof uploadSources)[number];

/**
 * The moves an upload's status may make. `published`, `quarantined` and `rejected` are outcomes
 * and final; `failed` is an outcome that a redrive takes back to `validating`.
 */
export const uploadTransitions: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  received: ['validating', 'rejected', 'failed'],
  validating: ['published', 'quarantined', 'rejected', 'failed'],
  failed: ['validating', 'rejected'],
  published: [],
  quarantined: [],
  rejected: [],
};

/** Upload ids are ULIDs: time-ordered, minted when the upload is first recorded. */
export const uploadIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'an upload id is a 26-character ULID');

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();

/** One problem of a quarantined upload, as validation reported it. */
export const reportExampleSchema = z.object({
  /** A stable rule id of the validation layer (`type.number`, `unique`, …). */
  rule: z.string().min(1),
  /** 1-based data row (CSV header = 0; JSONL: the line number). */
  row: count.optional(),
  /** 1-based physical line where the row starts. */
  line: count.optional(),
  column: z.string().optional(),
  value: z.string().optional(),
  /** What is wrong, where, and what to do, for the person who sent the file. */
  message: z.string(),
});
export type ReportExample = z.infer<typeof reportExampleSchema>;

/**
 * What a quarantined upload keeps of its validation report on its own record: the counts and the
 * first examples, small enough that the item stays far below DynamoDB's 400 KB, and where the full
 * report is in the data bucket.
 */
export const uploadReportSchema = z.object({
  /** Every problem found, including those not kept as examples. */
  errorCount: count,
  /** Data rows read. */
  rows: count,
  /** Bytes as received. */
  bytes: count,
  sha256: z.string().optional(),
  specRevision: z.string(),
  /** Problems by rule id. */
  countsByRule: z.record(z.string(), count),
  /** Problems by column (the columns with most problems when there are very many columns). */
  countsByColumn: z.record(z.string(), count),
  /** Columns with problems left out of `countsByColumn` to keep the record small. */
  otherColumns: count.optional(),
  /** The first problems, in the order found. */
  examples: z.array(reportExampleSchema),
  /** The full report in the data bucket: the JSON report and the same for people. */
  jsonKey: z.string().min(1),
  textKey: z.string().min(1),
});
export type UploadReport = z.infer<typeof uploadReportSchema>;

export const uploadRecordSchema = z.object({
  uploadId: uploadIdSchema,
  /** The dataset the key names; absent when the key names none (a malformed key). */
  dataset: z.string().min(1).optional(),
  /** The landing bucket. */
  bucket: z.string().min(1),
  /** The landing key as the sender named it (`api/<dataset>/<slotId>/<file>`, `sftp/<user>/<dataset>/<file>`). */
  key: z.string().min(1),
  /**
   * Locally only: the `_arrivals/<arrivalId>` copy holding this upload's bytes, since the local S3
   * keeps no versions. In AWS the bytes are `key` at `versionId`. See {@link landingObject}.
   */
  arrivalKey: z.string().min(1).optional(),
  versionId: z.string().min(1).optional(),
  etag: z.string().min(1).optional(),
  size: z.number().int().nonnegative().optional(),
  /** The file name, the last part of the key. */
  file: z.string().optional(),
  source: z.enum(uploadSources),
  /** Who sent it: the SFTP user for SFTP uploads. */
  sender: z.string().min(1).optional(),
  slotId: z.string().min(1).optional(),
  /** The delivery that announced it (see the ingest messages). */
  messageId: z.string().min(1).optional(),
  status: z.enum(uploadStatuses),
  /** Why it was rejected, quarantined or failed, in words meant for the sender. */
  reason: z.string().optional(),
  receivedAt: isoTime,
  updatedAt: isoTime,
  /** Where the original now lives in the data bucket, once it has an outcome. */
  outcomeKey: z.string().min(1).optional(),
  /** The dataset version a `published` upload became or matched (same bytes as an earlier upload). */
  version: z.number().int().positive().optional(),
  /** For a `quarantined` upload: a summary of its validation report and where the full report is. */
  report: uploadReportSchema.optional(),
});
export type UploadRecord = z.infer<typeof uploadRecordSchema>;

/** Where an upload's bytes are read, copied and deleted: the one "key at version" of DESIGN.md "Storage". */
export function landingObject(upload: Pick<UploadRecord, 'bucket' | 'key' | 'arrivalKey' | 'versionId'>): {
  Bucket: string;
  Key: string;
  VersionId?: string;
} {
  return { Bucket: upload.bucket, Key: upload.arrivalKey ?? upload.key, ...(upload.versionId ? { VersionId: upload.versionId } : {}) };
}

export const listUploadsQuerySchema = z.object({
  dataset: z.string().min(1).optional(),
  status: z.enum(uploadStatuses).optional(),
  sender: z.string().min(1).optional(),
  source: z.enum(uploadSources).optional(),
  limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  cursor: z.string().min(1).optional(),
});
export type ListUploadsQuery = z.input<typeof listUploadsQuerySchema>;

/** One page of uploads, newest first; `cursor` is absent on the last page. */
export interface UploadPage {
  items: UploadRecord[];
  cursor?: string;
}

/** A status change: the status the caller believes is current, the new one, and what goes with it. */
export interface StatusChange {
  /** The status (or one of the statuses) the upload must have now; otherwise nothing changes. */
  readonly from: UploadStatus | readonly UploadStatus[];
  readonly to: UploadStatus;
  readonly reason?: string;
  readonly outcomeKey?: string;
  /** The dataset version a `published` upload became or matched. */
  readonly version?: number;
  /** The validation report summary of a `quarantined` upload. */
  readonly report?: UploadReport;
  /** When it changed. @default now */
  readonly at?: string;
}

const KIND = 'upload';

/** The attributes that describe an outcome, cleared when a new attempt starts. */
const outcomeAttributes = ['reason', 'outcomeKey', 'version', 'report'] as const;

function toItem(record: UploadRecord): Item & { pk: string; sk: string } {
  return {
    ...record,
    ...uploadKey(record.uploadId),
    kind: KIND,
    gsi1pk: listings.uploads,
    gsi1sk: record.receivedAt,
    ...(record.dataset ? { gsi2pk: listings.uploadsOf(record.dataset), gsi2sk: record.receivedAt } : {}),
  };
}

function fromItem(item: Item): UploadRecord {
  const parsed = uploadRecordSchema.safeParse(item);
  if (!parsed.success) {
    throw new CorruptItemError(`stored upload ${String(item.pk)} does not match the upload schema`, { issues: parsed.error.issues });
  }
  return parsed.data;
}

/**
 * Records a new upload, and its slot link when it came through a slot. Refuses (with
 * {@link AlreadyExistsError}) an upload id that is already recorded: an upload is created once.
 */
export async function createUpload(table: Table, record: UploadRecord): Promise<UploadRecord> {
  const upload = uploadRecordSchema.parse(record);
  const written = await table.put(toItem(upload), { ifNotExists: true });
  if (written instanceof ConditionFailed) {
    throw new AlreadyExistsError(`upload ${upload.uploadId} is already recorded`, { uploadId: upload.uploadId });
  }
  if (upload.slotId) await writeLink(table, slotUploadKey(upload.slotId, upload.uploadId), uploadKey(upload.uploadId), { receivedAt: upload.receivedAt });
  return upload;
}

/** The upload with this id, or `undefined`. An id that is not a ULID is a {@link BadRequestError}. */
export async function getUpload(table: Table, uploadId: string): Promise<UploadRecord | undefined> {
  const id = uploadIdSchema.safeParse(uploadId);
  if (!id.success) throw new BadRequestError(`upload id "${uploadId}" is not a ULID`, { uploadId });
  const item = await table.get(uploadKey(id.data));
  return item === undefined ? undefined : fromItem(item);
}

/**
 * One page of uploads, newest first: all of them, or one dataset's. `status`, `sender` and `source` narrow
 * the page. A bad query (unknown status, limit out of range, a cursor from elsewhere) is a
 * {@link BadRequestError}.
 */
export async function listUploads(table: Table, query: ListUploadsQuery = {}): Promise<UploadPage> {
  const parsed = listUploadsQuerySchema.safeParse(query);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new BadRequestError(`invalid upload listing: ${problems.join('; ')}`, { problems });
  }
  const { dataset, status, sender, source, limit, cursor } = parsed.data;
  const filter = { ...(status ? { status } : {}), ...(sender ? { sender } : {}), ...(source ? { source } : {}) };
  const page = await table.query({
    ...(dataset ? { index: 'gsi2', partition: listings.uploadsOf(dataset) } : { index: 'gsi1', partition: listings.uploads }),
    order: 'desc',
    filter,
    limit,
    cursor,
  });
  return { items: page.items.map(fromItem), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** One page of the uploads made through a slot, oldest first. */
export async function listSlotUploads(table: Table, slotId: string, page: { limit?: number; cursor?: string } = {}): Promise<UploadPage> {
  const linked = await listLinked(table, { partition: slotPartition(slotId), beginsWith: SLOT_UPLOAD_PREFIX, ...page });
  return { items: linked.items.map(fromItem), ...(linked.cursor ? { cursor: linked.cursor } : {}) };
}

/**
 * Moves an upload from the status the caller expects to the next one and returns it as it now is.
 * The expected status is a write condition, so two workers racing on one upload cannot both move
 * it: the loser gets a {@link StatusConflictError} naming the status it found.
 */
export async function setUploadStatus(table: Table, uploadId: string, change: StatusChange): Promise<UploadRecord> {
  const from: readonly UploadStatus[] = typeof change.from === 'string' ? [change.from] : change.from;
  for (const status of from) {
    if (!uploadTransitions[status].includes(change.to)) {
      throw new IllegalTransitionError(`an upload cannot move from ${status} to ${change.to}`, { uploadId, from: status, to: change.to });
    }
  }
  const updated = await table.update(uploadKey(uploadId), {
    set: {
      status: change.to,
      updatedAt: change.at ?? new Date().toISOString(),
      reason: change.reason,
      outcomeKey: change.outcomeKey,
      version: change.version,
      report: change.report,
    },
    // A move to validating starts a fresh attempt (a redrive of a failed upload): what the last
    // attempt concluded must not linger beside the outcome of this one.
    ...(change.to === 'validating' ? { remove: outcomeAttributes.filter((name) => change[name] === undefined) } : {}),
    where: { status: { in: from } },
  });
  if (!(updated instanceof ConditionFailed)) return fromItem(updated);
  const current = await getUpload(table, uploadId);
  if (!current) throw new NotFoundError(`upload ${uploadId} is not recorded`, { uploadId });
  throw new StatusConflictError(`upload ${uploadId} is ${current.status}, not ${from.join(' or ')}; it was not moved to ${change.to}`, {
    uploadId,
    expected: from,
    actual: current.status,
    to: change.to,
  });
}
