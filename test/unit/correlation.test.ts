import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#shared/observability';
import { tracer, withCorrelation } from '#shared/tracing';

/**
 * Correlation ids on every log line (the Operations issue): a handler's lines carry the id of what
 * it works on, only while it works on it, and never another invocation's — the local runtime runs
 * every handler concurrently in one process, sharing the one logger.
 */

type Line = Record<string, unknown>;
let lines: Line[];

beforeEach(() => {
  lines = [];
  logger.setLogLevel('INFO');
  // The logger writes JSON lines to stdout (warnings and errors to stderr); keep them here.
  const keep = (chunk: string | Uint8Array) => {
    for (const text of String(chunk).split('\n').filter(Boolean)) {
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        // Not a log line.
      }
    }
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const line = (message: string) => lines.find((l) => l.message === message);

describe('withCorrelation', () => {
  it('puts the ids on every line written inside, awaits included, and on none after', async () => {
    // Act
    await withCorrelation({ uploadId: 'U1' }, async () => {
      logger.info('before await');
      await tick();
      logger.warn('after await', { extra: 1 });
    });
    logger.info('outside');

    // Assess
    expect(line('before await')).toMatchObject({ uploadId: 'U1', service: expect.any(String), level: 'INFO' });
    expect(line('after await')).toMatchObject({ uploadId: 'U1', extra: 1, level: 'WARN' });
    expect(line('outside')).not.toHaveProperty('uploadId');
  });

  it('keeps concurrent work apart: each flow sees its own ids only', async () => {
    // Prepare: A waits while B runs, then logs again.
    let releaseA!: () => void;
    const aWaits = new Promise<void>((resolve) => (releaseA = resolve));

    // Act
    await Promise.all([
      withCorrelation({ reportId: 'A' }, async () => {
        logger.info('a1');
        await aWaits;
        logger.info('a2');
      }),
      withCorrelation({ requestId: 'B' }, async () => {
        logger.info('b1');
        await tick();
        releaseA();
        logger.info('b2');
      }),
    ]);

    // Assess
    for (const message of ['a1', 'a2']) expect(line(message)).toMatchObject({ reportId: 'A' });
    for (const message of ['a1', 'a2']) expect(line(message)).not.toHaveProperty('requestId');
    for (const message of ['b1', 'b2']) expect(line(message)).toMatchObject({ requestId: 'B' });
    for (const message of ['b1', 'b2']) expect(line(message)).not.toHaveProperty('reportId');
  });

  it('adds nested ids to the outer ones and drops them, thrown or not, when the work ends', async () => {
    // Act
    await withCorrelation({ requestId: 'R' }, async () => {
      await expect(
        withCorrelation({ evaluationId: 'E' }, async () => {
          logger.info('inner');
          throw new Error('stage failed');
        }),
      ).rejects.toThrow('stage failed');
      logger.info('outer');
    });

    // Assess
    expect(line('inner')).toMatchObject({ requestId: 'R', evaluationId: 'E' });
    expect(line('outer')).toMatchObject({ requestId: 'R' });
    expect(line('outer')).not.toHaveProperty('evaluationId');
  });

  it('traces nothing outside Lambda', () => {
    // Assess: no X-Ray daemon is looked for in tests or the local runtime.
    expect(tracer.isTracingEnabled()).toBe(false);
  });
});

describe('a handler: start-evaluation', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const context = { functionName: 'symbiont-test-start-evaluation', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 } as Context;

  function record(requestId: string, messageId: string): SQSEvent['Records'][number] {
    const body = {
      requestId,
      pipeline: 'forecast',
      commitSets: [{ model: 'a'.repeat(40) }],
      datasetVersions: [{ dataset: 'readings', version: 1 }],
      parameterPoints: [{}],
      repeats: 1,
      reason: 'manual',
      executionName: `${requestId}-1`,
    };
    return {
      messageId,
      receiptHandle: 'h',
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:symbiont-test-evaluation',
      awsRegion: 'eu-west-1',
    };
  }

  it('writes each record’s request id on its lines, and leaves none for the next invocation', async () => {
    // Prepare: requests nobody recorded, so each record logs why it is dropped.
    for (const [name, value] of Object.entries({ TABLE_NAME: 't', STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:m', AWS_REGION: 'eu-west-1' })) vi.stubEnv(name, value);
    ddb.reset();
    ddb.on(GetCommand).resolves({});
    const { handler } = await import('../../functions/start-evaluation/handler.ts');
    const first = '01JD8X5Q3ZC9W8M2V7K4T6R1YA';
    const second = '01JD8X5Q3ZC9W8M2V7K4T6R1YB';

    // Act
    await handler({ Records: [record(first, 'm1'), record(second, 'm2')] }, context);
    logger.info('between invocations');

    // Assess
    const dropped = lines.filter((l) => l.message === 'evaluation message names no recorded request; dropped');
    expect(dropped.map((l) => [l.requestId, l.executionName])).toEqual([
      [first, `${first}-1`],
      [second, `${second}-1`],
    ]);
    expect(dropped[0]).toMatchObject({ function_name: 'symbiont-test-start-evaluation', function_request_id: 'r-1' });
    expect(line('between invocations')).not.toHaveProperty('requestId');
  });
});
