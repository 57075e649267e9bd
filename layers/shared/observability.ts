import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger: structured JSON lines with the service name, used by handlers, the local
 * runtime and tools alike. Correlation ids (upload, evaluation, report) are appended per message
 * with `logger.appendKeys` and removed when the message is done.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'symbiont',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
});
