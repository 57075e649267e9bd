import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { loadConfig } from '#config/load';
import { sqsEvaluationQueue } from '#evaluation/queue';
import { runEvaluationTask, type EvaluationTaskDeps } from '#evaluation/tasks';
import { githubTokenFromSecret } from '#evaluation/webhook-secret';
import { createDiagnostics } from '#reports/diagnostics';
import { sqsReportQueue } from '#reports/messages';
import { createDocumentClient, createS3Client, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { traceHandler } from '#shared/tracing';
import { env } from '#shared/resources';
import { Table } from '#store/table';

// Read once per container: a missing variable or a bad config fails the cold start, by name.
const table = new Table(createDocumentClient(), requireEnv(env.tableName));
const config = loadConfig().config;
const tokenSecretArn = process.env[env.githubTokenSecretArn];
const deps: EvaluationTaskDeps = {
  table,
  s3: createS3Client(),
  dataBucket: requireEnv(env.dataBucket),
  config,
  // Results back on GitHub: the token from Secrets Manager in AWS, SYMBIONT_GITHUB_TOKEN locally; none, none posted.
  github: {
    config,
    token: tokenSecretArn ? githubTokenFromSecret(tokenSecretArn) : async () => process.env[env.githubToken] || undefined,
    ...(process.env[env.publicApiUrl] ? { publicApiUrl: process.env[env.publicApiUrl] } : {}),
  },
  queue: sqsEvaluationQueue(createSqsClient(), requireEnv(env.evaluationQueueUrl)),
  // Regressions' diagnostic reports are recorded and queued for render-report.
  diagnostics: createDiagnostics({ table, queue: sqsReportQueue(createSqsClient(), requireEnv(env.reportQueueUrl)) }),
  metrics,
};

/**
 * The Task states of the evaluation state machine: the payload's `task` names which (see
 * `layers/evaluation/tasks.ts`). Errors are thrown with their names, which the state machine's
 * Retry and Catch match on.
 */
export const handler = middy<unknown, unknown>()
  .use(traceHandler())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((payload) => runEvaluationTask(payload, deps));
