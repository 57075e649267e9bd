import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type IngestDeps, ingestUpload, type NewVersionAnnouncer } from '#ingest/ingest-upload';
import type { Store } from '#store/store';
import { depsFor, messageFrom, resetIds, resetS3, startStore, type TestStore } from './ingest-fixtures.ts';

/**
 * New dataset versions are announced (to the commit queue, which plans their re-evaluation) once
 * the upload's outcome is recorded; a failed announcement keeps the outcome and is retried by the
 * ingest queue, whose redelivery announces again.
 */

let db: TestStore;
let store: Store;

type Announced = Parameters<NewVersionAnnouncer['announce']>[0];

function announcer(failures = 0): NewVersionAnnouncer & { announced: Announced[] } {
  const announced: Announced[] = [];
  let failing = failures;
  return {
    announced,
    async announce(version) {
      if (failing-- > 0) throw new Error('commit queue unavailable');
      announced.push(version);
    },
  };
}

const deps = (newVersions: NewVersionAnnouncer, overrides: Partial<IngestDeps> = {}) => depsFor(store, { newVersions, maxReceiveCount: 5, ...overrides });

beforeEach(async () => {
  resetS3();
  resetIds();
  db = await startStore();
  store = db.store;
});

afterEach(async () => {
  await db.close();
});

describe('ingestUpload: new versions', () => {
  it('announces a newly published version', async () => {
    // Prepare
    const versions = announcer();

    // Act
    await ingestUpload(messageFrom('object-created-put'), deps(versions));

    // Assess
    expect(versions.announced).toEqual([{ dataset: 'readings', version: 1, publishedAt: expect.any(String) }]);
  });

  it('announces nothing for an upload whose bytes are a version already', async () => {
    // Prepare
    const versions = announcer();
    await ingestUpload(messageFrom('object-created-put'), deps(versions));

    // Act
    const outcome = await ingestUpload(messageFrom('object-created-put', 'api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W9/same.csv'), deps(versions));

    // Assess
    expect(outcome).toMatchObject({ kind: 'published', matched: true });
    expect(versions.announced).toHaveLength(1);
  });

  it('keeps the upload published when the announcement fails, and announces on the redelivery', async () => {
    // Prepare
    const versions = announcer(1);
    const message = messageFrom('object-created-put');

    // Act
    await expect(ingestUpload(message, deps(versions), { receiveCount: 1 })).rejects.toThrow('commit queue unavailable');
    const uploads = await store.listUploads({});
    const again = await ingestUpload(message, deps(versions), { receiveCount: 2 });

    // Assess
    expect(uploads.items[0]).toMatchObject({ status: 'published', version: 1 });
    expect(again.kind).toBe('duplicate');
    expect(versions.announced).toEqual([{ dataset: 'readings', version: 1, publishedAt: expect.any(String) }]);
  });

  it('keeps the outcome on the last receive too: the message goes to the DLQ, the upload stays published', async () => {
    // Prepare
    const versions = announcer(1);

    // Act
    await expect(ingestUpload(messageFrom('object-created-put'), deps(versions), { receiveCount: 5 })).rejects.toThrow('commit queue unavailable');

    // Assess
    expect((await store.listUploads({})).items[0]).toMatchObject({ status: 'published' });
  });
});
