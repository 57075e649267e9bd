import { search } from '@aws-lambda-powertools/jmespath';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { AsyncLocalStorage } from 'node:async_hooks';

/** Correlation ids: what a log line (and a trace) is about — an upload, a request, an evaluation, a report. */
export type CorrelationIds = Readonly<Record<string, string | number>>;

const correlation = new AsyncLocalStorage<CorrelationIds>();

/**
 * Runs `work` with `ids` on every log line written while it runs, its awaits included. The ids
 * belong to that async flow, not to the shared logger: concurrent work — the local runtime runs
 * every handler in one process, and a batch may overlap the next poll — never sees another's ids,
 * and nothing has to be removed afterwards. Nested calls add to the ids around them.
 */
export function withLogKeys<Result>(ids: CorrelationIds, work: () => Promise<Result>): Promise<Result> {
  return correlation.run({ ...correlation.getStore(), ...ids }, work);
}

/** The correlation ids of the current async flow ({@link withLogKeys}), if any. */
export function currentLogKeys(): CorrelationIds {
  return correlation.getStore() ?? {};
}

/**
 * Powertools' standard JSON line (the same keys as its default formatter), with the current
 * correlation ids after the standard keys; keys appended to the logger or given to the call win.
 */
class CorrelatedLogFormatter extends LogFormatter {
  public override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: context?.coldStart,
        function_arn: context?.invokedFunctionArn,
        function_memory_size: context?.memoryLimitInMB,
        function_name: context?.functionName,
        function_request_id: context?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        tenant_id: context?.tenantId,
        ...currentLogKeys(),
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/**
 * The one logger: structured JSON lines with the service name, used by handlers, the local
 * runtime and tools alike. Correlation ids (upload, evaluation, report) are on every line written
 * inside `withLogKeys` / `withCorrelation` (`#shared/tracing`); the HTTP API's request id is found
 * in each event by JMESPath (`correlationIdPath` of the handler's middleware).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'symbiont',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
  logFormatter: new CorrelatedLogFormatter(),
  // Events are JSON objects; the logger types its search function loosely.
  correlationIdSearchFn: (expression, data) => search(expression, data as Parameters<typeof search>[1]),
});
