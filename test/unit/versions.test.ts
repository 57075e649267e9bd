import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentClaimBusyError, ContentClaimLostError } from '#store/errors';
import type { Key } from '#store/keys';
import { Table, type Item } from '#store/table';
import {
  claimContent,
  completeVersion,
  getContentClaim,
  getDatasetHead,
  getLatestVersion,
  getVersion,
  listVersions,
  reserveVersion,
  type VersionRecord,
} from '#store/versions';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * The version allocation invariants against a real DynamoDB emulator (dynalite in process):
 * concurrent publishers, redeliveries and crashes at every write give versions 1..n with no gap
 * and no duplicate, and the same bytes one version.
 */

const LEASE_MS = 15 * 60_000;
const T0 = new Date('2025-01-07T09:00:00.000Z');

let db: TestTable;
let table: Table;
let datasets = 0;

beforeAll(async () => {
  db = await startTestTable();
  table = new Table(db.client, db.tableName);
});

afterAll(async () => {
  await db?.close();
});

/** A dataset name no other test uses, so each test starts from an empty partition. */
const freshDataset = () => `ds${++datasets}`;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A ULID-shaped upload id from a small number. */
const uploadId = (n: number) => `01JH2QK7W3M9XG5V8RZB4T${String(n).padStart(4, '0')}`;

interface Attempt {
  readonly dataset: string;
  readonly bytes: string;
  readonly upload: number;
  readonly at?: Date;
}

/**
 * What the publisher does with the store: claim, reserve, (store the object), complete. Returns
 * the version number the upload ended with.
 */
async function publish(on: Table, attempt: Attempt): Promise<number> {
  const at = attempt.at ?? T0;
  const claimed = await claimContent(on, { dataset: attempt.dataset, sha256: sha(attempt.bytes), uploadId: uploadId(attempt.upload), leaseMs: LEASE_MS, at });
  if (claimed.kind === 'published') return claimed.claim.version!;
  const reserved = await reserveVersion(on, claimed.claim, {
    bytes: attempt.bytes.length,
    rows: 1,
    specRevision: 'rev-1',
    profile: { value: { nulls: 0, values: 1, distinctEstimate: 1 } },
    uploadId: uploadId(attempt.upload),
    file: `${attempt.upload}.csv`,
    objectKey: (n) => `datasets/${attempt.dataset}/v${n}/${attempt.upload}.csv`,
    at,
  });
  const published = await completeVersion(on, reserved, at);
  return published.version;
}

/** {@link publish}, retried while another attempt holds the claim or took it over. */
async function publishRetrying(attempt: Attempt): Promise<number> {
  for (let tries = 1; ; tries++) {
    try {
      return await publish(table, attempt);
    } catch (error) {
      const retryable = error instanceof ContentClaimBusyError || error instanceof ContentClaimLostError;
      if (!retryable || tries > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** Every version record of a dataset, published or not, by number. */
async function versionItems(dataset: string): Promise<Item[]> {
  const page = await table.query({ partition: `DATASET#${dataset}`, beginsWith: 'V#', limit: 1000 });
  return page.items;
}

class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

/**
 * A table that "crashes" at its n-th write (put or update): before the write reaches DynamoDB, or
 * right after it did. Counting writes reaches every step of the publisher without knowing them.
 */
class CrashingTable extends Table {
  writes = 0;
  constructor(
    source: Table,
    private readonly crashAt: number,
    private readonly when: 'before' | 'after',
  ) {
    super(source.client, source.name);
  }

  private async step<T>(write: () => Promise<T>): Promise<T> {
    this.writes += 1;
    if (this.writes === this.crashAt && this.when === 'before') throw new SimulatedCrash(`crash before write ${this.writes}`);
    const result = await write();
    if (this.writes === this.crashAt && this.when === 'after') throw new SimulatedCrash(`crash after write ${this.writes}`);
    return result;
  }

  override put(item: Item & Key, options?: Parameters<Table['put']>[1]) {
    return this.step(() => super.put(item, options));
  }

  override update(key: Key, options: Parameters<Table['update']>[1]) {
    return this.step(() => super.update(key, options));
  }
}

/** Writes one clean publish makes on an empty dataset. */
async function writesOfOnePublish(): Promise<number> {
  const counting = new CrashingTable(table, Number.POSITIVE_INFINITY, 'before');
  await publish(counting, { dataset: freshDataset(), bytes: 'count me', upload: 1 });
  return counting.writes;
}

describe('version numbers', () => {
  it('gives the first version of a dataset the number 1', async () => {
    // Prepare
    const dataset = freshDataset();

    // Act
    const version = await publish(table, { dataset, bytes: 'a,b\n1,2\n', upload: 1 });

    // Assess
    expect(version).toBe(1);
  });

  it('gives twelve concurrent publishes of different bytes the versions 1 to 12, each once', async () => {
    // Prepare
    const dataset = freshDataset();
    const attempts = Array.from({ length: 12 }, (_, i) => ({ dataset, bytes: `file ${i}`, upload: i + 1 }));

    // Act
    const versions = await Promise.all(attempts.map((attempt) => publishRetrying(attempt)));

    // Assess
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await versionItems(dataset)).map((item) => item.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await getDatasetHead(table, dataset)).toMatchObject({ latest: 12, allocated: 12 });
  });

  it('gives two uploads of one dataset at once two consecutive versions', async () => {
    const dataset = freshDataset();
    await publish(table, { dataset, bytes: 'earlier', upload: 1 });

    const versions = await Promise.all([publishRetrying({ dataset, bytes: 'left', upload: 2 }), publishRetrying({ dataset, bytes: 'right', upload: 3 })]);

    expect([...versions].sort()).toEqual([2, 3]);
  });
});

describe('the same bytes', () => {
  it('map a second upload to the version the first one published', async () => {
    const dataset = freshDataset();
    const first = await publish(table, { dataset, bytes: 'same bytes', upload: 1 });

    const second = await publish(table, { dataset, bytes: 'same bytes', upload: 2 });

    expect(second).toBe(first);
    expect(await versionItems(dataset)).toHaveLength(1);
  });

  it('sent by eight uploads at once become one version', async () => {
    const dataset = freshDataset();
    const attempts = Array.from({ length: 8 }, (_, i) => ({ dataset, bytes: 'popular bytes', upload: i + 1 }));

    const versions = await Promise.all(attempts.map((attempt) => publishRetrying(attempt)));

    expect(new Set(versions)).toEqual(new Set([1]));
    expect(await versionItems(dataset)).toHaveLength(1);
  });

  it('keep the claim of the upload that holds it from another upload while the lease runs', async () => {
    const dataset = freshDataset();
    await claimContent(table, { dataset, sha256: sha('held'), uploadId: uploadId(1), leaseMs: LEASE_MS, at: T0 });

    const attempt = publish(table, { dataset, bytes: 'held', upload: 2, at: new Date(T0.getTime() + LEASE_MS - 1) });

    await expect(attempt).rejects.toThrow(ContentClaimBusyError);
  });

  it('let another upload take over a claim whose holder died, once the lease has run out', async () => {
    const dataset = freshDataset();
    await claimContent(table, { dataset, sha256: sha('orphaned'), uploadId: uploadId(1), leaseMs: LEASE_MS, at: T0 });

    const version = await publish(table, { dataset, bytes: 'orphaned', upload: 2, at: new Date(T0.getTime() + LEASE_MS + 1) });

    expect(version).toBe(1);
    expect(await getContentClaim(table, dataset, sha('orphaned'))).toMatchObject({ state: 'published', version: 1, uploadId: uploadId(2) });
  });

  it('stop an attempt whose claim was taken over before it reserves a number', async () => {
    const dataset = freshDataset();
    const old = await claimContent(table, { dataset, sha256: sha('contested'), uploadId: uploadId(1), leaseMs: LEASE_MS, at: T0 });
    await claimContent(table, { dataset, sha256: sha('contested'), uploadId: uploadId(1), leaseMs: LEASE_MS, at: T0 });

    const attempt = reserveVersion(table, old.claim, {
      bytes: 9,
      rows: 1,
      specRevision: 'rev-1',
      profile: {},
      uploadId: uploadId(1),
      file: 'f.csv',
      objectKey: (n) => `datasets/${dataset}/v${n}/f.csv`,
    });

    await expect(attempt).rejects.toThrow(ContentClaimLostError);
    expect(await versionItems(dataset)).toHaveLength(0);
  });
});

describe('a redelivery', () => {
  it('of a published upload ends with the same version and writes no second record', async () => {
    const dataset = freshDataset();
    const first = await publish(table, { dataset, bytes: 'once', upload: 1 });

    const again = await publish(table, { dataset, bytes: 'once', upload: 1 });

    expect(again).toBe(first);
    expect(await versionItems(dataset)).toHaveLength(1);
  });

  it('running beside the first delivery of the same upload ends with one version', async () => {
    const dataset = freshDataset();

    const versions = await Promise.all([publishRetrying({ dataset, bytes: 'twice', upload: 1 }), publishRetrying({ dataset, bytes: 'twice', upload: 1 })]);

    expect(versions).toEqual([1, 1]);
    expect(await versionItems(dataset)).toHaveLength(1);
  });
});

describe('a crash at any write of a publish', () => {
  it('followed by a retry, with another upload published in between, leaves versions 1 and 2 with no duplicate', async () => {
    // Prepare: every write of a publish, crashed just before and just after it.
    const writes = await writesOfOnePublish();

    for (let crashAt = 1; crashAt <= writes; crashAt++) {
      for (const when of ['before', 'after'] as const) {
        const dataset = freshDataset();
        // Act
        const crashed = await publish(new CrashingTable(table, crashAt, when), { dataset, bytes: 'crashing', upload: 1 }).catch((error: unknown) => error);
        const other = await publish(table, { dataset, bytes: 'other', upload: 2 });
        const retried = await publish(table, { dataset, bytes: 'crashing', upload: 1 });

        // Assess
        const items = await versionItems(dataset);
        const head = await getDatasetHead(table, dataset);
        const claim = await getContentClaim(table, dataset, sha('crashing'));
        expect(crashed, `${when} write ${crashAt}`).toBeInstanceOf(SimulatedCrash);
        expect(new Set([other, retried]), `${when} write ${crashAt}`).toEqual(new Set([1, 2]));
        expect(items.map((item) => [item.version, item.state]), `${when} write ${crashAt}`).toEqual([
          [1, 'published'],
          [2, 'published'],
        ]);
        expect(head).toMatchObject({ latest: 2, allocated: 2 });
        expect(claim).toMatchObject({ state: 'published', version: retried });
      }
    }
  });

  it('finished by another upload of the same bytes after the lease leaves one version, which the retry then matches', async () => {
    const writes = await writesOfOnePublish();

    for (let crashAt = 1; crashAt <= writes; crashAt++) {
      const dataset = freshDataset();
      await publish(new CrashingTable(table, crashAt, 'after'), { dataset, bytes: 'shared', upload: 1 }).catch(() => undefined);

      const takenOver = await publish(table, { dataset, bytes: 'shared', upload: 2, at: new Date(T0.getTime() + LEASE_MS + 1) });
      const retried = await publish(table, { dataset, bytes: 'shared', upload: 1, at: new Date(T0.getTime() + LEASE_MS + 2) });

      expect([takenOver, retried], `crash after write ${crashAt}`).toEqual([1, 1]);
      expect(await versionItems(dataset), `crash after write ${crashAt}`).toHaveLength(1);
    }
  });
});

describe('reading versions', () => {
  it('lists published versions newest first, a page at a time', async () => {
    const dataset = freshDataset();
    for (const n of [1, 2, 3]) await publish(table, { dataset, bytes: `v${n}`, upload: n });

    const first = await listVersions(table, dataset, { limit: 2 });
    const second = await listVersions(table, dataset, { limit: 2, cursor: first.cursor });

    expect(first.items.map((v) => v.version)).toEqual([3, 2]);
    expect(second.items.map((v) => v.version)).toEqual([1]);
    expect(second.cursor).toBeUndefined();
  });

  it('hides a version that is still publishing from the listing and from a lookup', async () => {
    const dataset = freshDataset();
    await publish(table, { dataset, bytes: 'done', upload: 1 });
    const claimed = await claimContent(table, { dataset, sha256: sha('in flight'), uploadId: uploadId(2), leaseMs: LEASE_MS, at: T0 });
    const reserved: VersionRecord = await reserveVersion(table, claimed.claim, {
      bytes: 9,
      rows: 1,
      specRevision: 'rev-1',
      profile: {},
      uploadId: uploadId(2),
      file: 'f.csv',
      objectKey: (n) => `datasets/${dataset}/v${n}/f.csv`,
    });

    const listed = await listVersions(table, dataset);
    const looked = await getVersion(table, dataset, reserved.version);

    expect(reserved).toMatchObject({ version: 2, state: 'publishing' });
    expect(listed.items.map((v) => v.version)).toEqual([1]);
    expect(looked).toBeUndefined();
  });

  it('names the newest published version as the latest', async () => {
    const dataset = freshDataset();
    await publish(table, { dataset, bytes: 'old', upload: 1 });
    await publish(table, { dataset, bytes: 'new', upload: 2 });

    const latest = await getLatestVersion(table, dataset);

    expect(latest).toMatchObject({ version: 2, sha256: sha('new'), state: 'published', uploadId: uploadId(2) });
  });

  it('has no latest version for a dataset nothing was published to', async () => {
    const latest = await getLatestVersion(table, freshDataset());

    expect(latest).toBeUndefined();
  });

  it('puts a published version in both listing indexes', async () => {
    const dataset = freshDataset();
    await publish(table, { dataset, bytes: 'indexed', upload: 1 });

    const byDataset = await table.query({ index: 'gsi2', partition: `VERSIONS#${dataset}` });

    expect(byDataset.items).toEqual([expect.objectContaining({ gsi1pk: 'VERSIONS', version: 1 })]);
  });
});
