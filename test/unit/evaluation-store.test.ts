import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRepositoryHead, moveRepositoryHead, recordCommit, findCommits } from '#store/commits';
import { advanceBaseline, claimRequestHash, countRerun, getBaseline, type BaselinePointer } from '#store/evaluations';
import { Table } from '#store/table';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** Commits, heads and baseline pointers on a real (in-memory) dynalite, so conditional writes race for real. */

let testTable: TestTable;
let table: Table;

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-store');
  table = new Table(testTable.client, testTable.tableName);
});

afterAll(async () => {
  await testTable.close();
});

const sha = (c: string) => c.repeat(40);
const at = (minute: number) => new Date(Date.UTC(2025, 0, 6, 9, minute)).toISOString();

function pointer(overrides: Partial<BaselinePointer>): BaselinePointer {
  return {
    pipeline: 'forecast',
    dataset: 'readings',
    version: 1,
    pointHash: 'p1',
    evaluationId: '01JD8X5Q3ZAAAAAAAAAAAAAAAA',
    commitSet: { model: sha('a') },
    commitSetId: 'a'.repeat(64),
    order: 2,
    movedAt: at(0),
    ...overrides,
  };
}

describe('commits and heads', () => {
  it('records a commit once and keeps the first record when it is reported again', async () => {
    // Prepare
    const commit = { repository: 'once', sha: sha('1'), branch: 'main', pushedAt: at(1), source: 'api' as const, recordedAt: at(1) };

    // Act
    const first = await recordCommit(table, commit);
    const again = await recordCommit(table, { ...commit, image: 'acme/model:late', recordedAt: at(2) });

    // Assess
    expect(first.created).toBe(true);
    expect(again).toEqual({ commit: first.commit, created: false });
  });

  it('moves a head forward one seq at a time', async () => {
    // Act
    await moveRepositoryHead(table, { repository: 'moving', sha: sha('1'), branch: 'main', pushedAt: at(1) });
    const second = await moveRepositoryHead(table, { repository: 'moving', sha: sha('2'), branch: 'main', pushedAt: at(2) });

    // Assess
    expect(second).toMatchObject({ moved: true, head: { sha: sha('2'), seq: 2 } });
  });

  it('keeps the head where it is for a push older than the head’s (a late delivery)', async () => {
    // Prepare
    await moveRepositoryHead(table, { repository: 'late', sha: sha('2'), branch: 'main', pushedAt: at(5) });

    // Act
    const late = await moveRepositoryHead(table, { repository: 'late', sha: sha('1'), branch: 'main', pushedAt: at(4) });

    // Assess
    expect(late.moved).toBe(false);
    expect((await getRepositoryHead(table, 'late'))?.sha).toBe(sha('2'));
  });

  it('moves a head once when two reports of the same commit race', async () => {
    // Act
    const moves = await Promise.all([1, 2, 3].map(() => moveRepositoryHead(table, { repository: 'racing', sha: sha('9'), branch: 'main', pushedAt: at(1) })));

    // Assess
    expect((await getRepositoryHead(table, 'racing'))?.seq).toBe(1);
    expect(moves.filter((m) => m.moved)).toHaveLength(1);
  });

  it('finds a reported commit by a short sha, and not the evaluation links beside it', async () => {
    // Prepare
    const full = `abcdef1${'0'.repeat(33)}`;
    await recordCommit(table, { repository: 'short', sha: full, branch: 'main', pushedAt: at(1), source: 'api', recordedAt: at(1) });
    await table.put({ pk: 'REPO#short', sk: `COMMIT#${full}#EVAL#01JD8X5Q3ZAAAAAAAAAAAAAAAA`, kind: 'link' });

    // Act
    const found = await findCommits(table, 'short', 'abcdef1');

    // Assess
    expect(found.map((c) => c.sha)).toEqual([full]);
  });
});

describe('baseline pointers', () => {
  it('names the first succeeded evaluation of the heads', async () => {
    // Act
    const moved = await advanceBaseline(table, pointer({ pointHash: 'first' }));

    // Assess
    expect(moved).toBe(true);
    expect((await getBaseline(table, 'forecast', 'readings', 1, 'first'))?.evaluationId).toBe('01JD8X5Q3ZAAAAAAAAAAAAAAAA');
  });

  it('moves to an evaluation of newer heads', async () => {
    // Prepare
    await advanceBaseline(table, pointer({ pointHash: 'newer' }));

    // Act
    const moved = await advanceBaseline(table, pointer({ pointHash: 'newer', evaluationId: '01JD8X5Q3ZBBBBBBBBBBBBBBBB', commitSetId: 'b'.repeat(64), order: 3 }));

    // Assess
    expect(moved).toBe(true);
    expect((await getBaseline(table, 'forecast', 'readings', 1, 'newer'))?.order).toBe(3);
  });

  it('never replaces a newer baseline with an evaluation of older heads (a backfill)', async () => {
    // Prepare
    await advanceBaseline(table, pointer({ pointHash: 'backfill', order: 5, evaluationId: '01JD8X5Q3ZCCCCCCCCCCCCCCCC' }));

    // Act
    const moved = await advanceBaseline(table, pointer({ pointHash: 'backfill', order: 4, evaluationId: '01JD8X5Q3ZDDDDDDDDDDDDDDDD', commitSetId: 'd'.repeat(64) }));

    // Assess
    expect(moved).toBe(false);
    expect((await getBaseline(table, 'forecast', 'readings', 1, 'backfill'))?.evaluationId).toBe('01JD8X5Q3ZCCCCCCCCCCCCCCCC');
  });

  it('ends on the newest of racing candidates', async () => {
    // Act
    await Promise.all([2, 7, 4, 6].map((order) => advanceBaseline(table, pointer({ pointHash: 'race', order, evaluationId: `01JD8X5Q3Z${String(order).repeat(16)}`, commitSetId: String(order).repeat(64) }))));

    // Assess
    expect((await getBaseline(table, 'forecast', 'readings', 1, 'race'))?.order).toBe(7);
  });
});

describe('request hash claims', () => {
  it('answers the first request for a hash asked again', async () => {
    // Prepare
    const hash = 'e'.repeat(64);
    await claimRequestHash(table, hash, '01JD8X5Q3ZEEEEEEEEEEEEEEEE');

    // Act
    const again = await claimRequestHash(table, hash, '01JD8X5Q3ZFFFFFFFFFFFFFFFF');

    // Assess
    expect(again.created).toBe(false);
    expect(again.claim.requestId).toBe('01JD8X5Q3ZEEEEEEEEEEEEEEEE');
  });

  it('numbers deliberate reruns 1, 2, …', async () => {
    // Prepare
    const hash = 'f'.repeat(64);
    await claimRequestHash(table, hash, '01JD8X5Q3ZEEEEEEEEEEEEEEEE');

    // Act
    const numbers = [await countRerun(table, hash), await countRerun(table, hash)];

    // Assess
    expect(numbers).toEqual([1, 2]);
  });
});
