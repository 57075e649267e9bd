import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createApi, iamAuthenticator, parseRoleMap, type ApiEvent, type ApiResult } from '#api/api';
import { createDataAccessFromEnv } from '#api/data-access';
import { loadConfig } from '#config/load';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/observability';
import { annotate, traceHandler } from '#shared/tracing';
import { env } from '#shared/resources';
import { createStoreFromEnv } from '#store/store';
import { createEvaluationServiceFromEnv } from '#evaluation/service';
import { createReportServiceFromEnv } from '#reports/service';
import { createSftpUserServiceFromEnv } from '#sftp/users';
import { createGithubWebhookFromEnv } from '#evaluation/webhook-secret';
import { createDeadLetterServiceFromEnv } from '#operations/dead-letters';
import { consoleAssets, consoleConfigFromEnv, readConsoleDir } from '#console/assets';
import { join } from 'node:path';

// Built once per container: a missing variable, a bad role map or a bad config fails the cold
// start with its name instead of every request.
const { config } = loadConfig();
const store = createStoreFromEnv();
const api = createApi({
  store,
  config,
  authenticator: iamAuthenticator(parseRoleMap(requireEnv(env.roleMap))),
  // Presigned downloads (data bucket) and upload slots (landing), signed with this function's role.
  data: createDataAccessFromEnv(store),
  evaluations: createEvaluationServiceFromEnv(config),
  reports: createReportServiceFromEnv(config),
  // Transfer Family when the stack has an SFTP server; otherwise its routes answer 409.
  sftpUsers: createSftpUserServiceFromEnv(store, config),
  // Its secret comes from Secrets Manager (GITHUB_WEBHOOK_SECRET_ARN), read on first use and cached.
  githubWebhook: createGithubWebhookFromEnv(config),
  // Every work queue's DLQ (DEAD_LETTER_QUEUES), for admins: `symbiont dlq list|show|redrive`.
  deadLetters: createDeadLetterServiceFromEnv(),
  // The web console: its bundle is copied beside this handler at bundling time (console/app.js, app.css).
  console: consoleAssets({ config: () => consoleConfigFromEnv(), load: () => readConsoleDir(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'console')) }),
});

/** The HTTP API (payload format 2.0): every route goes through the one router. */
export const handler = middy<ApiEvent, ApiResult>()
  .use(traceHandler())
  // The API Gateway request id: `correlation_id` on every log line, and the trace's annotation of the same name.
  .use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId', resetKeys: true }))
  .handler((event) => {
    annotate({ correlation_id: event.requestContext.requestId });
    return api.handle(event);
  });
