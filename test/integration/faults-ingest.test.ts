import { readFileSync } from 'node:fs';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { outcomeOfSlot, putLanding, readObject, startIngestRuntime, symbiont, type IngestRuntime } from './ingest-helpers.ts';
import { brokenInvariants, depth } from './invariants.ts';
import { exampleConfig, waitFor } from './local-helpers.ts';

/**
 * Fault injection on the ingest path (the Fault injection issue), through the local runtime with
 * the real handler: S3 and DynamoDB fail on purpose between the handler and the emulators (a proxy
 * the runtime's `interpose` option puts there), a connection drops mid-file, the data bucket's disk
 * is full, and deliveries come twice. After each scenario every invariant holds: one outcome per
 * upload, every original where its outcome says, version numbers without gap or repeat, nothing
 * published or counted twice, and whatever reached the DLQ redrives to completion.
 */

// The example datasets, without pipelines or templates: this suite is about uploads.
const config = { ...(JSON.parse(readFileSync(exampleConfig, 'utf8')) as Record<string, unknown>), pipelines: {}, templates: {} };

let ctx: IngestRuntime;
let s3: FaultProxy;
let dynamodb: FaultProxy;
let files = 0;

/** A valid `readings` file of `rows` rows, different from every other this suite sends. */
function readings(rows = 200): string {
  files += 1;
  const lines = ['sensor_id,taken_at,temperature,status'];
  for (let i = 0; i < rows; i++) {
    const at = new Date(Date.UTC(2025, 0, 1) + (files * 100_000 + i) * 60_000).toISOString().replace('.000Z', 'Z');
    lines.push(`S${String(i % 10_000).padStart(4, '0')},${at},${((i * 7) % 80) - 30}.5,${['ok', 'degraded', 'failed'][i % 3]}`);
  }
  return `${lines.join('\n')}\n`;
}

async function invariantsHold(): Promise<void> {
  expect(await brokenInvariants({ ...ctx, endpoints: ctx.runtime.endpoints }, { datasets: ['readings', 'sites'] })).toEqual([]);
}

beforeAll(async () => {
  ctx = await startIngestRuntime({
    label: 'faults-ingest',
    config,
    // Retries take seconds, not the production 90 minutes.
    queueOverrides: { ingest: { visibilityTimeoutSeconds: 1 } },
    interpose: async (service, url) => {
      const proxy = await startFaultProxy(service, url);
      if (service === 's3') s3 = proxy;
      else dynamodb = proxy;
      return proxy.url;
    },
  });
}, 120_000);

afterAll(async () => {
  await ctx?.stop();
  await s3?.close();
  await dynamodb?.close();
});

describe('faults on the ingest path', () => {
  it('publishes once when S3 answers SlowDown for a while, then recovers', async () => {
    // Prepare: the next 8 calls the handler makes to S3 are refused (the SDK retries 3 times; the queue retries the rest).
    const fault = s3.inject({ match: {}, action: { kind: 'answer', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }, times: 8 });

    // Act
    await putLanding(ctx, 'api/readings/slot-slowdown/day.csv', readings());
    const upload = await outcomeOfSlot(ctx, 'slot-slowdown', 90_000);

    // Assess
    expect(fault.fired()).toBe(8);
    expect(upload.status).toBe('published');
    await invariantsHold();
  });

  it('publishes once when DynamoDB fails with internal errors for a while', async () => {
    // Prepare
    const fault = dynamodb.inject({ match: { target: /UpdateItem|PutItem/ }, action: { kind: 'answer', status: 500, code: 'InternalServerError', message: 'Internal server error' }, times: 6 });

    // Act
    await putLanding(ctx, 'api/readings/slot-dynamo/day.csv', readings());
    const upload = await outcomeOfSlot(ctx, 'slot-dynamo', 90_000);

    // Assess
    expect(fault.fired()).toBe(6);
    expect(upload.status).toBe('published');
    await invariantsHold();
  });

  it('publishes once when the connection drops in the middle of the file', async () => {
    // Prepare: the first read of the arrival's bytes ends after 4 KB of a ~300 KB file.
    const fault = s3.inject({ match: { method: 'GET', path: /\/_arrivals\// }, action: { kind: 'cut', afterBytes: 4096 }, times: 1 });

    // Act
    await putLanding(ctx, 'api/readings/slot-cut/day.csv', readings(8_000));
    const upload = await outcomeOfSlot(ctx, 'slot-cut', 90_000);

    // Assess
    expect(fault.fired()).toBe(1);
    expect(upload).toMatchObject({ status: 'published' });
    await invariantsHold();
  });

  it('keeps an upload failed while the data bucket’s disk is full, and publishes it once redriven', async () => {
    // Prepare: every write into the data bucket fails as a full disk makes it fail.
    const dataBucket = ctx.runtime.endpoints.buckets.data;
    const full = s3.inject({
      match: { method: 'PUT', path: new RegExp(`^/${dataBucket}/`) },
      action: { kind: 'answer', status: 500, code: 'InternalError', message: 'ENOSPC: no space left on device, write' },
    });
    await putLanding(ctx, 'api/readings/slot-full/day.csv', readings());
    const failed = await outcomeOfSlot(ctx, 'slot-full', 120_000);
    const dlq = ctx.runtime.endpoints.queues.ingest.deadLetterUrl;
    await waitFor('the message in the ingest DLQ', async () => ((await depth(ctx.sqs, dlq)) > 0 ? true : undefined), 60_000);
    // What was in the DLQ, to deliver it again afterwards.
    const shown = JSON.parse(await symbiont(ctx, ['dlq', 'show', 'ingest', '--json'])) as { items: { body: unknown }[] };
    full.remove();

    // Act
    const redriven = JSON.parse(await symbiont(ctx, ['dlq', 'redrive', 'ingest', '--json'])) as { moved: number };
    const published = await waitFor(
      'the redriven upload published',
      async () => {
        const upload = await ctx.store.getUpload(failed.uploadId);
        return upload?.status === 'published' ? upload : undefined;
      },
      60_000,
    );

    // Assess
    expect(failed).toMatchObject({ status: 'failed', reason: expect.stringMatching(/internal error/) });
    expect(full.fired()).toBeGreaterThanOrEqual(5);
    expect(shown.items).toHaveLength(1);
    expect(redriven.moved).toBe(1);
    expect(published.version).toBeGreaterThan(0);
    expect(await depth(ctx.sqs, dlq)).toBe(0);
    await invariantsHold();

    // And the same delivery twice more changes nothing.
    const before = ctx.batches.length;
    for (let i = 0; i < 2; i++) {
      await ctx.sqs.send(new SendMessageCommand({ QueueUrl: ctx.runtime.endpoints.queues.ingest.url, MessageBody: JSON.stringify(shown.items[0]!.body) }));
    }
    await waitFor('both duplicates handled', async () => (ctx.batches.length >= before + 2 ? true : undefined), 30_000);
    expect((await ctx.store.getUpload(failed.uploadId))?.status).toBe('published');
    expect((await ctx.store.listSlotUploads('slot-full')).items).toHaveLength(1);
    await invariantsHold();
  });

  it('notices a published version whose bytes are gone (the check itself can fail)', async () => {
    // Prepare
    const [upload] = (await ctx.store.listSlotUploads('slot-slowdown')).items;
    const version = await ctx.store.getVersion('readings', upload!.version!);
    const bucket = ctx.runtime.endpoints.buckets.data;
    const bytes = await readObject(ctx, bucket, version!.key);
    await ctx.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: version!.key }));

    // Act
    const broken = await brokenInvariants({ ...ctx, endpoints: ctx.runtime.endpoints }, { datasets: ['readings'] });
    await ctx.s3.send(new PutObjectCommand({ Bucket: bucket, Key: version!.key, Body: bytes }));

    // Assess
    expect(broken).toEqual([`upload ${upload!.uploadId} (${upload!.key}): the bytes of readings v${upload!.version} are not at ${version!.key}`]);
    await invariantsHold();
  });
});
