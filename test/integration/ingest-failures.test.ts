import { readFileSync } from 'node:fs';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '#operations/redrive';
import type { UploadRecord } from '#store/store';
import { exampleConfig, waitFor } from './local-helpers.ts';
import { exists, type IngestRuntime, outcomeOfSlot, putLanding, readObject, startIngestRuntime, tagsOf } from './ingest-helpers.ts';

/**
 * An upload that fails on every receive, through the local runtime with the real handler: the data
 * bucket is gone, so no original can be stored. After the queue's maxReceiveCount receives the
 * upload says `failed`, its original is still in landing and untagged, and the message is in the
 * DLQ. Once the bucket is back, a redrive (Symbiont's own mover) publishes it. The visibility
 * timeout is shortened so the retries take seconds.
 */
describe('an upload that fails on every receive', () => {
  const FILE = 'sensor_id,taken_at,temperature,status\nS0001,2025-01-07T09:00:00Z,21.5,ok\n';
  let ctx: IngestRuntime;
  let failed: UploadRecord;
  let messagesInDlq: string | undefined;

  beforeAll(async () => {
    // Datasets alone: the example's report templates would be stored in the data bucket, which must start empty.
    const config = { ...(JSON.parse(readFileSync(exampleConfig, 'utf8')) as Record<string, unknown>), pipelines: {}, templates: {} };
    ctx = await startIngestRuntime({ label: 'ingest-failures', config, queueOverrides: { ingest: { visibilityTimeoutSeconds: 1 } } });
    const { buckets, queues } = ctx.runtime.endpoints;
    // The cause: the data bucket (empty on a fresh runtime) is deleted, so every copy into it fails.
    await ctx.s3.send(new DeleteBucketCommand({ Bucket: buckets.data }));
    await putLanding(ctx, 'api/readings/slot-doomed/day.csv', FILE);
    failed = await outcomeOfSlot(ctx, 'slot-doomed', 60_000);
    messagesInDlq = await waitFor(
      'the message in the DLQ',
      async () => {
        const { Attributes } = await ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.ingest.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
        return Attributes?.ApproximateNumberOfMessages === '0' ? undefined : Attributes?.ApproximateNumberOfMessages;
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  it('is marked failed with the reason after maxReceiveCount receives, and its message is in the DLQ', () => {
    // Assess
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^processing failed on all 5 attempts because of an internal error/);
    expect(messagesInDlq).toBe('1');
    const failures = ctx.batches.filter((batch) => batch.failedIds.length > 0);
    expect(failures).toHaveLength(ctx.runtime.endpoints.queues.ingest.maxReceiveCount);
  });

  it('keeps a failed upload’s original in landing, not tagged for expiry', async () => {
    // Act
    const landing = ctx.runtime.endpoints.buckets.landing;
    const tags = await tagsOf(ctx, landing, failed.arrivalKey!);

    // Assess
    expect(await exists(ctx, landing, failed.arrivalKey!)).toBe(true);
    expect(tags).toEqual({});
  });

  it('is published once the cause is fixed and its message is redriven', async () => {
    // Prepare
    const { buckets, queues } = ctx.runtime.endpoints;
    await ctx.s3.send(new CreateBucketCommand({ Bucket: buckets.data }));

    // Act
    const moved = await redrive({ sqs: ctx.sqs, from: queues.ingest.deadLetterUrl, to: queues.ingest.url });
    const published = await waitFor(
      'the redriven upload published',
      async () => {
        const upload = await ctx.store.getUpload(failed.uploadId);
        return upload?.status === 'published' ? upload : undefined;
      },
      30_000,
    );

    // Assess
    expect(moved).toMatchObject({ moved: 1, failed: 0 });
    expect(published).toMatchObject({ version: 1, outcomeKey: 'datasets/readings/v1/day.csv' });
    expect(published).not.toHaveProperty('reason');
    expect(String(await readObject(ctx, buckets.data, 'datasets/readings/v1/day.csv'))).toBe(FILE);
    expect(await tagsOf(ctx, buckets.landing, failed.arrivalKey!)).toEqual({ 'symbiont-outcome': 'recorded' });
  });
});
