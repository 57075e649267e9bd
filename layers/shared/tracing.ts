import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { withLogKeys, type CorrelationIds } from './observability.ts';

export type { CorrelationIds } from './observability.ts';

/**
 * X-Ray traces (the Operations issue), through Powertools Tracer: each function's invocation is a
 * segment named by its service (`POWERTOOLS_SERVICE_NAME`), every AWS SDK call a subsegment (the
 * clients of `#shared/aws` are captured where they are made), and the correlation ids an
 * invocation works on are annotations, so a trace is found by `annotation.uploadId = "…"`.
 *
 * Tracing is on only in Lambda with active tracing (the Tracer checks `AWS_EXECUTION_ENV`); the
 * local runtime also sets `POWERTOOLS_TRACE_ENABLED=false`, so nothing looks for an X-Ray daemon.
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'symbiont' });

/** An AWS SDK v3 client whose calls appear as subsegments of the trace (unchanged when tracing is off). */
export function traced<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/**
 * The middy middleware every handler uses: opens the invocation's subsegment, annotates cold start
 * and service, records a thrown error. Responses are not recorded: an API answer or a task's output
 * can be larger than a segment may be (64 KB), and they hold data rather than what went on.
 */
export function traceHandler(): ReturnType<typeof captureLambdaHandler> {
  return captureLambdaHandler(tracer, { captureResponse: false });
}

/**
 * Runs `work` with `ids` on every log line it writes (`withLogKeys`: they belong to this async
 * flow, so the next record, invocation or a concurrent one never sees them) and, when tracing, in
 * a subsegment of its own annotated with them (one record of a batch is one subsegment, so each
 * record's ids annotate only its own calls). Keys must be annotation-safe (letters, digits, `_`).
 */
export async function withCorrelation<Result>(ids: CorrelationIds, work: () => Promise<Result>): Promise<Result> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  const subsegment = parent?.addNewSubsegment(`### ${Object.entries(ids).map(([key, value]) => `${key}=${value}`).join(' ')}`);
  if (subsegment) {
    tracer.setSegment(subsegment);
    for (const [key, value] of Object.entries(ids)) tracer.putAnnotation(key, value);
  }
  try {
    return await withLogKeys(ids, work);
  } catch (error) {
    subsegment?.addError(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (parent) tracer.setSegment(parent);
  }
}

/** Annotates the invocation's segment (one id for the whole invocation, e.g. an API request's). */
export function annotate(ids: CorrelationIds): void {
  for (const [key, value] of Object.entries(ids)) tracer.putAnnotation(key, value);
}
