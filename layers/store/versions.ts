import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ContentClaimBusyError,
  ContentClaimLostError,
  CorruptItemError,
  VersionAllocationError,
} from './errors.ts';
import { contentClaimKey, DATASET_VERSION_PREFIX, datasetHeadKey, datasetVersionKey, listings, type Key } from './keys.ts';
import { ConditionFailed, type Item, type Table } from './table.ts';
import { uploadIdSchema } from './uploads.ts';

/**
 * Dataset versions (DESIGN.md "Vocabulary", "Storage"): numbered 1, 2, 3… per dataset with no gap
 * and no duplicate, and the same bytes always the same version. Three kinds of items live in the
 * dataset's partition, and conditional writes on them (no transactions) carry the invariants:
 *
 * - the **content claim** `SHA#<sha256>`: put-if-absent by the first upload of these bytes. While
 *   `pending` it is held by one attempt (its `token`) under a lease; once `published` it names the
 *   version, and every later upload of these bytes matches that version.
 * - the **version record** `V#<n>`: put-if-absent, which is what allocates the number. A number is
 *   only tried once the one below it is known to exist, so numbers have no gaps. The record is
 *   `publishing` until its object is in the data bucket, then `published`; readers see only
 *   published versions, and only published versions are in the listing indexes.
 * - the **head** `HEAD`: `allocated`, the highest number whose record exists (a hint that spares
 *   the allocator a scan), and `latest`, the highest published number. Both only move up, each by a
 *   write conditioned on the value read, so racing writers cannot move them back.
 *
 * Crash points and what the next attempt does:
 * - after claiming, before a number: the claim is `pending` with no `version`; the next attempt
 *   takes it over and allocates.
 * - after naming a `candidate` number on the claim, before or after writing `V#<candidate>`: the
 *   next attempt tries the candidate first and adopts a record that holds its bytes, so one set of
 *   bytes never gets two numbers.
 * - after the record, before the object: the record is `publishing` and the claim names it; the
 *   next attempt copies the object and completes the same number.
 * - after the record is `published`, before the head or the claim: completing is repeatable.
 *
 * Who may take a pending claim over: an attempt for the same upload at once (its earlier attempt
 * crashed, or a duplicate delivery runs beside it); an attempt for another upload of the same bytes
 * only once the lease has run out ({@link ContentClaimBusyError} until then: the message is retried
 * later and then matches the published version, or takes over from a holder that died). Takeover
 * is safe even while the old holder still runs: its later claim writes are conditioned on its
 * token and fail, and a record it writes at its last candidate is adopted, never duplicated.
 */

/** A content hash as the claim key holds it: lower-case hex sha256. */
export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lower-case hex digits');

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();

/** The profile of one column, as validation gathers it. */
export const columnProfileSchema = z.object({
  /** Empty or null values. */
  nulls: count,
  /** Non-null values that passed the checks. */
  values: count.optional(),
  /** Smallest valid value: a number for numeric columns, the text for dates and timestamps. */
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  /** Distinct valid values, estimated. */
  distinctEstimate: count,
});
export type ColumnProfile = z.infer<typeof columnProfileSchema>;

/** `publishing`: the number is taken, the object may not be in the data bucket yet. */
export const versionStates = ['publishing', 'published'] as const;
export type VersionState = (typeof versionStates)[number];

/** A version record `V#<n>` as stored (without its table keys). */
export const versionRecordSchema = z.object({
  dataset: z.string().min(1),
  version: z.number().int().positive(),
  state: z.enum(versionStates),
  sha256: sha256Schema,
  /** Bytes as received. */
  bytes: count,
  rows: count,
  /** The revision of the spec the file was validated against. */
  specRevision: z.string().min(1),
  /** Per spec column. */
  profile: z.record(z.string(), columnProfileSchema),
  /** The upload that became this version. */
  uploadId: uploadIdSchema,
  sender: z.string().min(1).optional(),
  /** The file name, as sent. */
  file: z.string().min(1),
  /** Where the object is in the data bucket: `datasets/<name>/v<n>/<file>`. */
  key: z.string().min(1),
  /** When the number was taken. */
  reservedAt: isoTime,
  /** When the version was published (its object stored); absent while `publishing`. */
  createdAt: isoTime.optional(),
});
export type VersionRecord = z.infer<typeof versionRecordSchema>;

/** `pending`: an attempt holds the bytes; `published`: they are `version`, for good. */
export const contentClaimStates = ['pending', 'published'] as const;
export type ContentClaimState = (typeof contentClaimStates)[number];

/** A content claim `SHA#<sha256>` as stored (without its table keys). */
export const contentClaimSchema = z.object({
  dataset: z.string().min(1),
  sha256: sha256Schema,
  state: z.enum(contentClaimStates),
  /** The upload whose attempt holds (or published) the claim. */
  uploadId: uploadIdSchema,
  /** The attempt holding a pending claim; every write it makes to the claim is conditioned on it. */
  token: z.string().min(1),
  /** A pending claim held by another upload may be taken over after this. */
  leaseUntil: isoTime,
  /** The number being tried: the next attempt tries it first and adopts a record holding these bytes. */
  candidate: z.number().int().positive().optional(),
  /** The number these bytes have (reserved while `pending`, published once `published`). */
  version: z.number().int().positive().optional(),
  claimedAt: isoTime,
  updatedAt: isoTime,
});
export type ContentClaim = z.infer<typeof contentClaimSchema>;

/** A dataset head `HEAD` as stored (without its table keys). */
export const datasetHeadSchema = z.object({
  dataset: z.string().min(1),
  /** The highest published version number; 0 until one is published. */
  latest: count,
  /** The highest version number whose record exists (published or not). */
  allocated: count,
  updatedAt: isoTime,
});
export type DatasetHead = z.infer<typeof datasetHeadSchema>;

/** What asking for a content claim gives. */
export type ContentClaimResult =
  /** These bytes are already a version: `claim.version`. */
  | { readonly kind: 'published'; readonly claim: ContentClaim }
  /** This attempt holds the claim (new, resumed or taken over) and goes on to reserve. */
  | { readonly kind: 'held'; readonly claim: ContentClaim };

/** Asking for the content claim of one set of bytes. */
export interface ClaimContentRequest {
  readonly dataset: string;
  readonly sha256: string;
  readonly uploadId: string;
  /** When the claim is asked for. @default now */
  readonly at?: Date;
  /**
   * How long another upload of the same bytes waits before taking the claim over. Make it at least
   * the time one attempt may run (the consumer's timeout), so a live holder is not raced for long.
   */
  readonly leaseMs: number;
  /** This attempt's token. @default a random UUID */
  readonly token?: string;
}

/** What a new version record holds besides what the allocation decides. */
export interface VersionDraft {
  readonly bytes: number;
  readonly rows: number;
  readonly specRevision: string;
  readonly profile: Readonly<Record<string, ColumnProfile>>;
  readonly uploadId: string;
  readonly sender?: string;
  readonly file: string;
  /** The object key of version `n` in the data bucket. */
  readonly objectKey: (version: number) => string;
  /** @default now */
  readonly at?: Date;
}

/** One page of versions, newest first; `cursor` is absent on the last page. */
export interface VersionPage {
  items: VersionRecord[];
  cursor?: string;
}

/** Attempts one allocation makes before it gives up (each lost race moves to a higher number). */
const MAX_ALLOCATION_ATTEMPTS = 1000;
/** Attempts at moving the head or taking a claim over before giving up on a busy item. */
const MAX_RACE_ATTEMPTS = 100;

function parse<T>(schema: z.ZodType<T>, item: Item, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored ${what} does not match its schema`, { pk: item.pk, sk: item.sk, issues: parsed.error.issues });
  return parsed.data;
}

const iso = (at: Date | undefined) => (at ?? new Date()).toISOString();

/** The head of a dataset, or `undefined` before its first version is allocated. */
export async function getDatasetHead(table: Table, dataset: string): Promise<DatasetHead | undefined> {
  const item = await table.get(datasetHeadKey(dataset));
  return item === undefined ? undefined : parse(datasetHeadSchema, item, `head of dataset ${dataset}`);
}

/** The record of version `version` in any state (the publisher needs the unfinished ones too). */
async function readVersion(table: Table, dataset: string, version: number): Promise<VersionRecord | undefined> {
  const item = await table.get(datasetVersionKey(dataset, version));
  return item === undefined ? undefined : parse(versionRecordSchema, item, `version ${version} of dataset ${dataset}`);
}

/** A published version, or `undefined` when there is none with this number (or it is still publishing). */
export async function getVersion(table: Table, dataset: string, version: number): Promise<VersionRecord | undefined> {
  const record = await readVersion(table, dataset, version);
  return record?.state === 'published' ? record : undefined;
}

/** The newest published version, or `undefined` when none is. */
export async function getLatestVersion(table: Table, dataset: string): Promise<VersionRecord | undefined> {
  const head = await getDatasetHead(table, dataset);
  return head === undefined || head.latest === 0 ? undefined : getVersion(table, dataset, head.latest);
}

/**
 * One page of a dataset's published versions, newest first, read from the dataset's own
 * partition (strongly ordered by number, unlike the time-ordered indexes).
 */
export async function listVersions(table: Table, dataset: string, page: { limit?: number; cursor?: string } = {}): Promise<VersionPage> {
  const found = await table.query({
    partition: datasetHeadKey(dataset).pk,
    beginsWith: DATASET_VERSION_PREFIX,
    order: 'desc',
    filter: { state: 'published' },
    limit: page.limit,
    cursor: page.cursor,
  });
  return { items: found.items.map((item) => parse(versionRecordSchema, item, `a version of dataset ${dataset}`)), ...(found.cursor ? { cursor: found.cursor } : {}) };
}

/** The content claim of these bytes, or `undefined`. */
export async function getContentClaim(table: Table, dataset: string, sha256: string): Promise<ContentClaim | undefined> {
  const item = await table.get(contentClaimKey(dataset, sha256));
  return item === undefined ? undefined : parse(contentClaimSchema, item, `content claim ${sha256} of dataset ${dataset}`);
}

/**
 * Claims a set of bytes for one upload's attempt: the first step of publishing. Answers
 * `published` when the bytes are already a version, `held` when this attempt now holds the claim,
 * and throws {@link ContentClaimBusyError} while another upload's attempt holds it under its lease.
 */
export async function claimContent(table: Table, request: ClaimContentRequest): Promise<ContentClaimResult> {
  const sha256 = sha256Schema.parse(request.sha256);
  const key = contentClaimKey(request.dataset, sha256);
  const at = request.at ?? new Date();
  const token = request.token ?? randomUUID();
  const leaseUntil = new Date(at.getTime() + request.leaseMs).toISOString();
  const claim: ContentClaim = {
    dataset: request.dataset,
    sha256,
    state: 'pending',
    uploadId: request.uploadId,
    token,
    leaseUntil,
    claimedAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const written = await table.put({ ...key, kind: 'content-claim', ...claim }, { ifNotExists: true });
    if (!(written instanceof ConditionFailed)) return { kind: 'held', claim };
    const current = await getContentClaim(table, request.dataset, sha256);
    // Claims are never deleted; a missing one here was read before the write became visible.
    if (current === undefined) continue;
    if (current.state === 'published') return { kind: 'published', claim: current };
    if (current.uploadId !== request.uploadId && Date.parse(current.leaseUntil) > at.getTime()) {
      throw new ContentClaimBusyError(
        `upload ${current.uploadId} is publishing the same bytes to dataset ${request.dataset}; retry after ${current.leaseUntil}`,
        { dataset: request.dataset, sha256, heldBy: current.uploadId, leaseUntil: current.leaseUntil },
      );
    }
    // Conditioned on the holder's token: of two attempts taking over, one wins. The item comes
    // back as written, with any candidate the old holder named just before.
    const taken = await table.update(key, {
      set: { uploadId: request.uploadId, token, leaseUntil, updatedAt: at.toISOString() },
      where: { token: current.token, state: 'pending' },
    });
    if (!(taken instanceof ConditionFailed)) return { kind: 'held', claim: parse(contentClaimSchema, taken, `content claim ${sha256}`) };
  }
  throw new ContentClaimBusyError(`the content claim ${sha256} of dataset ${request.dataset} kept changing; retry`, { dataset: request.dataset, sha256 });
}

/**
 * The version record of a held claim's bytes: the one the claim already names, or a new one with
 * the next free number (state `publishing`). Throws {@link ContentClaimLostError} when another
 * attempt has taken the claim over meanwhile.
 */
export async function reserveVersion(table: Table, claim: ContentClaim, draft: VersionDraft): Promise<VersionRecord> {
  const { dataset, sha256 } = claim;
  if (claim.version !== undefined) {
    const named = await readVersion(table, dataset, claim.version);
    if (named === undefined || named.sha256 !== sha256) {
      throw new CorruptItemError(`content claim ${sha256} of dataset ${dataset} names version ${claim.version}, which holds other bytes or is missing`, {
        dataset,
        sha256,
        version: claim.version,
      });
    }
    return named;
  }

  const record = (version: number): VersionRecord => ({
    dataset,
    version,
    state: 'publishing',
    sha256,
    bytes: draft.bytes,
    rows: draft.rows,
    specRevision: draft.specRevision,
    profile: { ...draft.profile },
    uploadId: draft.uploadId,
    sender: draft.sender,
    file: draft.file,
    key: draft.objectKey(version),
    reservedAt: iso(draft.at),
  });
  // Guards every claim write of this attempt: a lost claim stops the attempt before it writes more.
  const setOnClaim = async (set: Item) => {
    const updated = await table.update(contentClaimKey(dataset, sha256), {
      set: { ...set, updatedAt: iso(draft.at) },
      where: { token: claim.token, state: 'pending' },
    });
    if (updated instanceof ConditionFailed) {
      throw new ContentClaimLostError(`another attempt took over publishing ${sha256} to dataset ${dataset}; this one stops`, { dataset, sha256 });
    }
  };

  // A candidate named by an earlier attempt comes first: its record may hold these very bytes.
  let version = claim.candidate ?? (await nextAfterHead(table, dataset));
  for (let attempt = 1; attempt <= MAX_ALLOCATION_ATTEMPTS; attempt++) {
    await setOnClaim({ candidate: version });
    const draftRecord = record(version);
    const written = await table.put({ ...datasetVersionKey(dataset, version), kind: 'version', ...draftRecord }, { ifNotExists: true });
    let reserved: VersionRecord | undefined = written instanceof ConditionFailed ? undefined : draftRecord;
    if (reserved === undefined) {
      const taken = await readVersion(table, dataset, version);
      if (taken?.sha256 === sha256) reserved = taken;
    }
    if (reserved !== undefined) {
      await setOnClaim({ version });
      await raiseHead(table, dataset, 'allocated', version, draft.at);
      return reserved;
    }
    // The number is another upload's: V#<version> exists, so the next one may be tried.
    version = Math.max(version + 1, await nextAfterHead(table, dataset));
  }
  throw new VersionAllocationError(`no version number for dataset ${dataset} after ${MAX_ALLOCATION_ATTEMPTS} attempts`, { dataset, sha256 });
}

/**
 * Marks a reserved version published once its object is in the data bucket: the record (and its
 * listing index entries), then the head's `latest`, then the content claim. Each step is
 * repeatable, so a retry after a crash anywhere in here finishes the job.
 */
export async function completeVersion(table: Table, reserved: Pick<VersionRecord, 'dataset' | 'version' | 'sha256'>, at?: Date): Promise<VersionRecord> {
  const { dataset, version, sha256 } = reserved;
  const createdAt = iso(at);
  const updated = await table.update(datasetVersionKey(dataset, version), {
    set: {
      state: 'published',
      createdAt,
      gsi1pk: listings.versions,
      gsi1sk: createdAt,
      gsi2pk: listings.versionsOf(dataset),
      gsi2sk: createdAt,
    },
    where: { state: 'publishing', sha256 },
  });
  let published: VersionRecord;
  if (updated instanceof ConditionFailed) {
    const current = await readVersion(table, dataset, version);
    if (current?.state !== 'published' || current.sha256 !== sha256) {
      throw new CorruptItemError(`version ${version} of dataset ${dataset} cannot be completed: it is ${current ? `${current.state} with other bytes` : 'missing'}`, {
        dataset,
        version,
        sha256,
      });
    }
    published = current;
  } else {
    published = parse(versionRecordSchema, updated, `version ${version} of dataset ${dataset}`);
  }
  await raiseHead(table, dataset, 'latest', version, at);
  // Conditioned on the number, not the token: whoever completes the version may close the claim.
  const closed = await table.update(contentClaimKey(dataset, sha256), {
    set: { state: 'published', updatedAt: createdAt },
    where: { version },
  });
  if (closed instanceof ConditionFailed) {
    throw new CorruptItemError(`content claim ${sha256} of dataset ${dataset} does not name version ${version}`, { dataset, version, sha256 });
  }
  return published;
}

/** The number after the head's `allocated` (1 for a dataset without a head). */
async function nextAfterHead(table: Table, dataset: string): Promise<number> {
  return ((await getDatasetHead(table, dataset))?.allocated ?? 0) + 1;
}

/**
 * Moves one counter of the head up to at least `to`, never down: each write is conditioned on the
 * value just read, so a writer that read an older value retries against the newer one.
 */
async function raiseHead(table: Table, dataset: string, counter: 'allocated' | 'latest', to: number, at?: Date): Promise<void> {
  const key: Key = datasetHeadKey(dataset);
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const head = await getDatasetHead(table, dataset);
    if (head === undefined) {
      // Any counter at `to` means the record of `to` exists, so `allocated` is at least `to` too.
      const first: DatasetHead = { dataset, latest: counter === 'latest' ? to : 0, allocated: to, updatedAt: iso(at) };
      const created = await table.put({ ...key, kind: 'dataset-head', ...first }, { ifNotExists: true });
      if (!(created instanceof ConditionFailed)) return;
      continue;
    }
    if (head[counter] >= to) return;
    const set: Item = { [counter]: to, updatedAt: iso(at) };
    if (head.allocated < to) set.allocated = to;
    const moved = await table.update(key, { set, where: { latest: head.latest, allocated: head.allocated } });
    if (!(moved instanceof ConditionFailed)) return;
  }
  throw new VersionAllocationError(`the head of dataset ${dataset} kept changing; ${counter} was not moved to ${to}`, { dataset, counter, to });
}