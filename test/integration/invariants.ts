import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Endpoints } from '#local/endpoints';
import { allRequestEvaluations, getRequest } from '#store/evaluations';
import type { Store, UploadRecord } from '#store/store';
import type { Table } from '#store/table';

/**
 * The invariants every fault scenario ends by checking (the Fault injection issue): every upload
 * and evaluation request has exactly one recorded outcome; every original still exists where its
 * outcome says; no version number is skipped or taken twice and no content is published twice;
 * nothing is counted twice. Each broken invariant is one line of the answer, so a failing test says
 * all that is wrong at once.
 */

export interface InvariantContext {
  readonly endpoints: Endpoints;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly store: Store;
  /** For evaluation requests; absent when the scenario made none. */
  readonly table?: Table;
}

const OUTCOMES = new Set(['published', 'quarantined', 'rejected', 'failed']);

async function keysUnder(ctx: InvariantContext, bucket: string, prefix: string): Promise<string[]> {
  const { Contents = [] } = await ctx.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Contents.map((object) => object.Key!);
}

async function everyUpload(store: Store): Promise<UploadRecord[]> {
  const all: UploadRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listUploads({ limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return all;
}

/** Messages waiting or in flight in a queue. */
export async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Broken invariants over every upload and dataset version (and the given requests), one line each. */
export async function brokenInvariants(ctx: InvariantContext, options: { datasets: readonly string[]; requestIds?: readonly string[] }): Promise<string[]> {
  const broken: string[] = [];
  const { buckets } = ctx.endpoints;
  const uploads = await everyUpload(ctx.store);
  const failed = uploads.filter((u) => u.status === 'failed');
  const ingestDeadLetters = failed.length > 0 ? await depth(ctx.sqs, ctx.endpoints.queues.ingest.deadLetterUrl) : 0;

  for (const upload of uploads) {
    const what = `upload ${upload.uploadId} (${upload.key})`;
    if (!OUTCOMES.has(upload.status)) {
      broken.push(`${what} has no outcome: it is still ${upload.status}`);
      continue;
    }
    if (upload.status === 'published') {
      const version = upload.dataset && upload.version ? await ctx.store.getVersion(upload.dataset, upload.version) : undefined;
      if (!version) broken.push(`${what} is published as version ${upload.version ?? '?'}, which does not exist`);
      else if ((await keysUnder(ctx, buckets.data, version.key)).length !== 1) broken.push(`${what}: the bytes of ${upload.dataset} v${upload.version} are not at ${version.key}`);
    }
    if (upload.status === 'quarantined' && !(await keysUnder(ctx, buckets.data, `quarantine/${upload.uploadId}/`)).some((k) => k.endsWith('report.json'))) {
      broken.push(`${what} is quarantined without its original and report.json under quarantine/${upload.uploadId}/`);
    }
    if (upload.status === 'rejected' && (await keysUnder(ctx, buckets.data, `rejected/${upload.uploadId}/`)).length === 0) {
      broken.push(`${what} is rejected without its original under rejected/${upload.uploadId}/`);
    }
    if (upload.status === 'failed') {
      const kept = upload.arrivalKey ?? upload.key;
      if ((await keysUnder(ctx, upload.bucket, kept)).length === 0) broken.push(`${what} is failed but its original ${kept} is gone from landing`);
    }
  }
  if (failed.length > ingestDeadLetters) broken.push(`${failed.length} uploads are failed but only ${ingestDeadLetters} messages are in the ingest DLQ to redrive them`);

  for (const dataset of options.datasets) {
    const head = await ctx.store.getDatasetHead(dataset);
    const numbers: number[] = [];
    const shas = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await ctx.store.listVersions(dataset, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const version of page.items) {
        numbers.push(version.version);
        const earlier = shas.get(version.sha256);
        if (earlier !== undefined) broken.push(`${dataset} v${version.version} holds the same bytes as v${earlier}: content published twice`);
        shas.set(version.sha256, version.version);
      }
      cursor = page.cursor;
    } while (cursor);
    numbers.sort((a, b) => a - b);
    const expected = Array.from({ length: numbers.length }, (_, i) => i + 1);
    if (numbers.join() !== expected.join()) broken.push(`${dataset} versions are ${numbers.join(', ')}: a number is skipped or taken twice`);
    const latest = head?.latest ?? 0;
    if (latest !== numbers.length) broken.push(`${dataset}'s head says ${latest} versions, the table holds ${numbers.length}`);
    const publishedVersions = new Set(uploads.filter((u) => u.dataset === dataset && u.status === 'published').map((u) => u.version));
    if (publishedVersions.size !== numbers.length) broken.push(`${dataset}: ${numbers.length} versions, but published uploads point at ${publishedVersions.size}`);
  }

  for (const requestId of options.requestIds ?? []) {
    if (!ctx.table) throw new Error('checking evaluation requests needs the table');
    const request = await getRequest(ctx.table, requestId);
    if (!request) {
      broken.push(`request ${requestId} is not recorded`);
      continue;
    }
    const evaluations = await allRequestEvaluations(ctx.table, requestId);
    const unfinished = evaluations.filter((e) => e.status === 'running');
    if (!['finished', 'failed', 'cancelled'].includes(request.status)) broken.push(`request ${requestId} has no outcome: it is still ${request.status}`);
    if (unfinished.length > 0) broken.push(`request ${requestId}: ${unfinished.length} evaluations are still running`);
    const counted = { done: evaluations.filter((e) => e.status === 'succeeded').length, failed: evaluations.filter((e) => e.status === 'failed').length };
    if (request.done !== counted.done || request.failed !== counted.failed) {
      broken.push(`request ${requestId} counts done ${request.done}, failed ${request.failed}; its evaluations are ${counted.done} succeeded, ${counted.failed} failed`);
    }
    if (evaluations.length !== request.total) broken.push(`request ${requestId} has ${evaluations.length} evaluations for ${request.total} points`);
  }
  return broken;
}
