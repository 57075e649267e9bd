import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadRecord } from '#store/store';
import { waitFor } from './local-helpers.ts';
import { exists, type IngestRuntime, putLanding, readObject, startIngestRuntime } from './ingest-helpers.ts';

/**
 * Landing keys whose file name no way in accepts (CR/LF, a right-to-left override, a zero-width
 * space), put straight into the landing bucket as someone holding S3 credentials could, through
 * the local runtime with the real ingest handler: each is recorded as rejected with the reason,
 * its original kept as rejected/<id>/original, nothing published, nothing crashed.
 */

const names = [
  ['CR/LF', 'a\r\nb.csv'],
  ['a right-to-left override', 'invoice\u202Ecsv.exe'],
  ['a zero-width space', 'da\u200Bta.csv'],
] as const;

const CSV = 'sensor_id,taken_at,temperature,status\nS0001,2024-01-01T00:00:00Z,21.5,ok\n';

describe('landing keys with unsafe file names, through the local runtime', () => {
  let ctx: IngestRuntime;
  const keyOf = (i: number, file: string) => `api/readings/DOORS${String(i).padStart(21, '0')}/${file}`;

  beforeAll(async () => {
    ctx = await startIngestRuntime({ label: 'doors-landing' });
    for (const [i, [, file]] of names.entries()) await putLanding(ctx, keyOf(i, file), CSV);
  }, 120_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  async function uploadWithKey(key: string): Promise<UploadRecord> {
    return waitFor(`the upload of ${JSON.stringify(key)}`, async () => {
      const page = await ctx.store.listUploads({ status: 'rejected', limit: 100 });
      return page.items.find((u) => u.key === key);
    }, 60_000);
  }

  it.each(names.map(([what, file], i) => [what, file, i] as const))('rejects a file name with %s, saying why, its original kept under a plain name', async (_what, file, i) => {
    // Act
    const upload = await uploadWithKey(keyOf(i, file));

    // Assess
    expect(upload.reason).toMatch(/^the file name contains .+; rename the file and upload it again$/);
    expect(upload.outcomeKey).toBe(`rejected/${upload.uploadId}/original`);
    expect(String(await readObject(ctx, ctx.runtime.endpoints.buckets.data, upload.outcomeKey!))).toBe(CSV);
    expect(await exists(ctx, ctx.runtime.endpoints.buckets.data, `datasets/readings/v1/${file}`)).toBe(false);
  });

  it('crashes on nothing: every ingest batch succeeded', () => {
    // Assess
    const ingest = ctx.batches.filter((b) => b.queue === ctx.runtime.endpoints.queues.ingest.url);
    expect(ingest.length).toBeGreaterThan(0);
    expect(ingest.flatMap((b) => b.failedIds)).toEqual([]);
  });
});
