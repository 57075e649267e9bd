import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig } from '#config/load';
import { ingestUpload, type IngestDeps, type NewVersionAnnouncer } from '#ingest/ingest-upload';
import { parseIngestRecord } from '#ingest/messages';
import { sqsCommitQueue } from '#evaluation/commit-queue';
import { createS3Client, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { traceHandler } from '#shared/tracing';
import { env, queues } from '#shared/resources';
import { createStoreFromEnv } from '#store/store';

// Read once per container: a missing variable or a bad config fails the cold start, by name.
const deps: IngestDeps = {
  store: createStoreFromEnv(),
  s3: createS3Client(),
  config: loadConfig().config,
  dataBucket: requireEnv(env.dataBucket),
  maxReceiveCount: queues.ingest.maxReceiveCount,
  metrics,
  // New versions go to the commit queue, where plan-evaluations asks for their re-evaluation.
  newVersions: announcer(requireEnv(env.commitQueueUrl)),
};
function announcer(commitQueueUrl: string): NewVersionAnnouncer {
  const queue = sqsCommitQueue(createSqsClient(), commitQueueUrl);
  return { announce: (version) => queue.send(version) };
}
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  // The receive count tells ingest when this is the last try before the DLQ.
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  for (const message of parseIngestRecord(record)) await ingestUpload(message, deps, { receiveCount });
}

/** Ingest-queue consumer: each record on its own, failures reported per record. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(traceHandler())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // One record at a time: each streams a whole file through validation (memory); the upload id is
  // the correlation key of that record's log lines and trace subsegment.
  .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context, processInParallel: false }));
