import { z } from 'zod';
import { CorruptItemError, StatusConflictError } from './errors.ts';
import { COMMIT_PREFIX, commitKey, HEAD_HISTORY_PREFIX, headHistoryKey, listings, repositoryHeadKey, repositoryPartition } from './keys.ts';
import { ConditionFailed, type Item, MAX_PAGE, type Table } from './table.ts';

/**
 * Commits and repository heads (DESIGN.md "Storage"): every commit reported (by CI through
 * `POST /commits`, later by GitHub webhooks) is recorded once under its repository; a commit on the
 * default branch moves the repository's head. The head carries `seq`, which goes up by one on each
 * move: the sum of the seqs of a pipeline's repositories orders its default-branch commit sets in
 * the order the heads moved, which is what the baseline rule needs.
 */

/** A full commit hash: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits. */
export const commitShaSchema = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'a commit sha is 40 (or 64) lower-case hex digits');

const isoTime = z.iso.datetime({ offset: true });

export const commitSources = ['github', 'api'] as const;
export type CommitSource = (typeof commitSources)[number];

/** A commit as recorded (without its table keys). */
export const commitRecordSchema = z.object({
  repository: z.string().min(1),
  sha: commitShaSchema,
  branch: z.string().min(1),
  /** When it was pushed, as the sender says (CI: when it reported). */
  pushedAt: isoTime,
  source: z.enum(commitSources),
  /** The webhook delivery that announced it. */
  deliveryId: z.string().min(1).optional(),
  /** The stage image built from it (`acme/model:<sha>`), when CI says. */
  image: z.string().min(1).optional(),
  /** Who reported it through the API. */
  reportedBy: z.string().min(1).optional(),
  recordedAt: isoTime,
});
export type CommitRecord = z.infer<typeof commitRecordSchema>;

/** The default-branch head of a repository. */
export const repositoryHeadSchema = z.object({
  repository: z.string().min(1),
  sha: commitShaSchema,
  branch: z.string().min(1),
  /** 1 for the first head, one more on each move. */
  seq: z.number().int().positive(),
  /** The push that moved it here. */
  pushedAt: isoTime,
  movedAt: isoTime,
});
export type RepositoryHead = z.infer<typeof repositoryHeadSchema>;

/** One page of a repository's commits, newest push first. */
export interface CommitPage {
  items: CommitRecord[];
  cursor?: string;
}

/** What moving a head did. */
export interface HeadMove {
  readonly head: RepositoryHead;
  /** `false` when the head already was there, or the push is older than the head's (a late delivery). */
  readonly moved: boolean;
}

/** Attempts at a conditional write that keeps losing a race before giving up. */
const MAX_RACE_ATTEMPTS = 10;

function parse<T>(schema: z.ZodType<T>, item: Item, what: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored ${what} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}

/**
 * Records a commit once. A commit reported again (CI retried, or both CI and a webhook) keeps what
 * was recorded first and comes back with `created: false`.
 */
export async function recordCommit(table: Table, commit: CommitRecord): Promise<{ commit: CommitRecord; created: boolean }> {
  const record = commitRecordSchema.parse(commit);
  const written = await table.put(
    {
      ...record,
      ...commitKey(record.repository, record.sha),
      kind: 'commit',
      gsi1pk: listings.commitsOf(record.repository),
      gsi1sk: record.pushedAt,
    },
    { ifNotExists: true },
  );
  if (!(written instanceof ConditionFailed)) return { commit: record, created: true };
  const existing = await getCommit(table, record.repository, record.sha);
  if (!existing) throw new CorruptItemError(`commit ${record.sha} of ${record.repository} was refused as existing but cannot be read`, commitKey(record.repository, record.sha));
  return { commit: existing, created: false };
}

/** The commit, or `undefined` when it was never reported. */
export async function getCommit(table: Table, repository: string, sha: string): Promise<CommitRecord | undefined> {
  const item = await table.get(commitKey(repository, sha));
  return item === undefined ? undefined : parse(commitRecordSchema, item, `commit ${sha} of ${repository}`);
}

/** Up to `limit` recorded commits of a repository whose sha starts with `prefix` (to resolve a short sha). */
export async function findCommits(table: Table, repository: string, prefix: string, limit = 2): Promise<CommitRecord[]> {
  // Evaluation links share the prefix (`COMMIT#<sha>#EVAL#…`); only commit items are wanted.
  const page = await table.query({ partition: repositoryPartition(repository), beginsWith: `${COMMIT_PREFIX}${prefix}`, filter: { kind: 'commit' }, limit });
  return page.items.map((item) => parse(commitRecordSchema, item, `a commit of ${repository}`));
}

/** One page of a repository's commits, newest push first. */
export async function listCommits(table: Table, repository: string, page: { limit?: number; cursor?: string } = {}): Promise<CommitPage> {
  const found = await table.query({ index: 'gsi1', partition: listings.commitsOf(repository), order: 'desc', limit: page.limit, cursor: page.cursor });
  return { items: found.items.map((item) => parse(commitRecordSchema, item, `a commit of ${repository}`)), ...(found.cursor ? { cursor: found.cursor } : {}) };
}

/** The default-branch head, or `undefined` before the first commit on it was reported. */
export async function getRepositoryHead(table: Table, repository: string): Promise<RepositoryHead | undefined> {
  const item = await table.get(repositoryHeadKey(repository));
  return item === undefined ? undefined : parse(repositoryHeadSchema, item, `head of ${repository}`);
}

/**
 * Moves a repository's default-branch head to a commit. Each write is conditioned on the `seq`
 * just read, so two reports racing cannot both move it from the same place; a push older than the
 * head's own (a delivery that arrived late) leaves it where it is.
 */
export async function moveRepositoryHead(
  table: Table,
  move: { repository: string; sha: string; branch: string; pushedAt: string; at?: string },
): Promise<HeadMove> {
  const key = repositoryHeadKey(move.repository);
  const movedAt = move.at ?? new Date().toISOString();
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const head = await getRepositoryHead(table, move.repository);
    if (head === undefined) {
      const first: RepositoryHead = { repository: move.repository, sha: move.sha, branch: move.branch, seq: 1, pushedAt: move.pushedAt, movedAt };
      const created = await table.put({ ...key, kind: 'repository-head', ...first }, { ifNotExists: true });
      if (!(created instanceof ConditionFailed)) {
        await recordHeadStep(table, first);
        return { head: first, moved: true };
      }
      continue;
    }
    if (head.sha === move.sha || Date.parse(move.pushedAt) < Date.parse(head.pushedAt)) return { head, moved: false };
    const next: RepositoryHead = { ...head, sha: move.sha, branch: move.branch, seq: head.seq + 1, pushedAt: move.pushedAt, movedAt };
    const updated = await table.update(key, { set: { sha: next.sha, branch: next.branch, seq: next.seq, pushedAt: next.pushedAt, movedAt }, where: { seq: head.seq } });
    if (!(updated instanceof ConditionFailed)) {
      await recordHeadStep(table, next);
      return { head: next, moved: true };
    }
  }
  throw new StatusConflictError(`the head of ${move.repository} kept changing; it was not moved to ${move.sha}`, { repository: move.repository, sha: move.sha });
}

/** One step of the head history: where the default-branch head stood at `seq`. */
export type HeadStep = Pick<RepositoryHead, 'repository' | 'sha' | 'seq' | 'pushedAt' | 'movedAt'>;

async function recordHeadStep(table: Table, head: RepositoryHead): Promise<void> {
  // Keyed by seq, which only the move that won the conditional write reaches: rewriting it is the same step.
  await table.put({ ...headHistoryKey(head.repository, head.seq), kind: 'head-step', repository: head.repository, sha: head.sha, seq: head.seq, pushedAt: head.pushedAt, movedAt: head.movedAt });
}

const headStepSchema = z.object({ repository: z.string(), sha: commitShaSchema, seq: z.number().int().positive(), pushedAt: isoTime, movedAt: isoTime });

/**
 * The default-branch head history of a repository, newest first (`order: 'desc'`) or oldest first:
 * every commit the head moved to, by Query on the repository's partition. `limit` caps the steps.
 */
export async function listHeadHistory(table: Table, repository: string, options: { limit?: number; order?: 'asc' | 'desc' } = {}): Promise<HeadStep[]> {
  const steps: HeadStep[] = [];
  let cursor: string | undefined;
  do {
    const page = await table.query({
      partition: repositoryPartition(repository),
      beginsWith: HEAD_HISTORY_PREFIX,
      order: options.order ?? 'desc',
      limit: Math.min(MAX_PAGE, options.limit === undefined ? MAX_PAGE : options.limit - steps.length),
      cursor,
    });
    steps.push(...page.items.map((item) => parse(headStepSchema, item, `head step of ${repository}`)));
    cursor = page.cursor;
  } while (cursor !== undefined && (options.limit === undefined || steps.length < options.limit));
  return steps;
}
