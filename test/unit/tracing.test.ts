import { createSocket, type Socket } from 'node:dgram';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import middy from '@middy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The tracer as Lambda runs it (active tracing): the environment Lambda sets, and a UDP socket
 * standing in for the X-Ray daemon, so the segments the functions would send are read here. Loaded
 * after the environment is set: the tracer and the X-Ray SDK read it once, at import.
 */

type Segment = { name: string; id: string; parent_id?: string; annotations?: Record<string, unknown>; aws?: Record<string, unknown> };
let daemon: Socket;
const received: Segment[] = [];
let tracing: typeof import('#shared/tracing');
let aws: typeof import('#shared/aws');

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (datagram) => {
    // Each datagram: a header line, then one (sub)segment as JSON.
    const [, body] = datagram.toString('utf8').split('\n');
    if (body) received.push(JSON.parse(body) as Segment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: 'index.handler',
    _X_AMZN_TRACE_ID: 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    POWERTOOLS_SERVICE_NAME: 'symbiont-test',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_MAX_ATTEMPTS: '1',
  });
  tracing = await import('#shared/tracing');
  aws = await import('#shared/aws');
});

afterAll(() => daemon?.close());

/** The segments received once the handler's own subsegment arrived (UDP: give them a moment). */
async function segmentsUntil(name: string): Promise<Segment[]> {
  for (let i = 0; i < 100 && !received.some((s) => s.name === name); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return received;
}

const context = { functionName: 'symbiont-test', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 } as Context;

describe('tracing in Lambda', () => {
  it('is on, and annotates each record’s subsegment with its correlation ids, inside the invocation’s', async () => {
    // Prepare: a batch handler as the functions build theirs.
    const handler = middy<{ ids: string[] }, string[]>()
      .use(tracing.traceHandler())
      .handler(async (event) => {
        const done: string[] = [];
        for (const id of event.ids) done.push(await tracing.withCorrelation({ uploadId: id }, async () => id));
        return done;
      });

    // Act
    const result = await handler({ ids: ['U1', 'U2'] }, context);
    const segments = await segmentsUntil('## index.handler');

    // Assess
    expect(tracing.tracer.isTracingEnabled()).toBe(true);
    expect(result).toEqual(['U1', 'U2']);
    const invocation = segments.find((s) => s.name === '## index.handler')!;
    expect(invocation.annotations).toMatchObject({ ColdStart: expect.any(Boolean), Service: 'symbiont-test' });
    const records = segments.filter((s) => s.name.startsWith('### uploadId='));
    expect(records.map((s) => [s.name, s.annotations])).toEqual([
      ['### uploadId=U1', { uploadId: 'U1' }],
      ['### uploadId=U2', { uploadId: 'U2' }],
    ]);
    for (const record of records) expect(record.parent_id).toBe(invocation.id);
  });

  it('records an AWS call of a client made by #shared/aws as a subsegment of the record that made it', async () => {
    // Prepare: S3 at a port nobody listens on — the call fails, and its subsegment says so.
    const s3 = aws.createS3Client({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
    const handler = middy<unknown, void>()
      .use(tracing.traceHandler())
      .handler(() => tracing.withCorrelation({ reportId: 'R1' }, async () => void (await s3.send(new HeadBucketCommand({ Bucket: 'b' })).catch(() => undefined))));

    // Act
    await handler({}, context);
    const segments = await segmentsUntil('S3');

    // Assess
    const record = segments.find((s) => s.name === '### reportId=R1')!;
    expect(record.annotations).toEqual({ reportId: 'R1' });
    const call = segments.find((s) => s.name === 'S3')!;
    expect(call).toMatchObject({ parent_id: record.id, aws: expect.objectContaining({ operation: 'HeadBucket' }) });
  });
});
