import { search } from '@aws-lambda-powertools/jmespath';
import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger: structured JSON lines with the service name, used by handlers, the local
 * runtime and tools alike. Correlation ids (upload, evaluation, report) are appended per message
 * with `logger.appendKeys` and removed when the message is done; the HTTP API's request id is
 * found in each event by JMESPath (`correlationIdPath` of the handler's middleware).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'symbiont',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
  // Events are JSON objects; the logger types its search function loosely.
  correlationIdSearchFn: (expression, data) => search(expression, data as Parameters<typeof search>[1]),
});
