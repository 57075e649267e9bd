import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig } from '#config/load';
import { createEvaluationService } from '#evaluation/service';
import { localKernelExecutor } from '#reports/executor';
import { parseReportRecord } from '#reports/messages';
import { s3ReportBucket } from '#reports/objects';
import { renderReport, type RenderReportDeps } from '#reports/render';
import { createDocumentClient, createS3Client } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { traceHandler, withCorrelation } from '#shared/tracing';
import { env } from '#shared/resources';
import { Table } from '#store/table';

// Read once per container: a missing variable fails the cold start, by name.
const { config } = loadConfig();
const table = new Table(createDocumentClient(), requireEnv(env.tableName));
const evaluations = createEvaluationService({
  table,
  config,
  // Rendering only reads evaluations; it never requests one.
  queue: { send: () => Promise.reject(new Error('render-report does not queue evaluations')) },
});
const deps: RenderReportDeps = {
  table,
  bucket: s3ReportBucket(createS3Client(), requireEnv(env.dataBucket)),
  // This machine's Jupyter kernel. The Lambda runtime has none, so in AWS a report fails with a
  // message naming what to install until the report container (Issue 16) runs the same renderer.
  executor: localKernelExecutor(),
  config,
  compare: (evaluationId) => evaluations.compare(evaluationId),
};
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  const message = parseReportRecord(record);
  await withCorrelation({ reportId: message.reportId }, async () => {
    const outcome = await renderReport(message, deps);
    // Reports by status: `failed` is a template or kernel failure, stored with its error.
    if (outcome !== 'skipped') metrics.count('Reports', { status: outcome });
  });
}

/** Report-queue consumer: one report per message, failures reported per record. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(traceHandler())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) => processPartialResponse(event, recordHandler, processor, { context, processInParallel: false }));
