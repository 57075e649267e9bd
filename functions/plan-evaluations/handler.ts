import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig } from '#config/load';
import { parseIntakeRecord } from '#evaluation/commit-messages';
import { planEvaluations, type PlanDeps } from '#evaluation/plan-evaluations';
import { sqsEvaluationQueue } from '#evaluation/queue';
import { createDocumentClient, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/observability';
import { traceHandler } from '#shared/tracing';
import { env } from '#shared/resources';
import { Table } from '#store/table';

// Read once per container: a missing variable or a bad config fails the cold start, by name.
const deps: PlanDeps = {
  table: new Table(createDocumentClient(), requireEnv(env.tableName)),
  config: loadConfig().config,
  queue: sqsEvaluationQueue(createSqsClient(), requireEnv(env.evaluationQueueUrl)),
};
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  await planEvaluations(parseIntakeRecord(record), deps);
}

/** Commit-queue consumer: commit events and new dataset versions become evaluation requests, failures reported per record. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(traceHandler())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // In order: commits of one push series move heads in the order they were sent.
  .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context, processInParallel: false }));
