import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseEvaluationRecord } from '#evaluation/messages';
import { startEvaluation, type StartEvaluationDeps } from '#evaluation/start';
import { createDocumentClient, createSfnClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/observability';
import { traceHandler } from '#shared/tracing';
import { env } from '#shared/resources';
import { Table } from '#store/table';

// Read once per container: a missing variable fails the cold start, by name.
const deps: StartEvaluationDeps = {
  table: new Table(createDocumentClient(), requireEnv(env.tableName)),
  sfn: createSfnClient(),
  stateMachineArn: requireEnv(env.stateMachineArn),
};
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  await startEvaluation(parseEvaluationRecord(record), deps);
}

/** Evaluation-queue consumer: one execution per message, failures reported per record. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(traceHandler())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // One record at a time: the request id is the correlation key of that record's log lines and trace subsegment.
  .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context, processInParallel: false }));
