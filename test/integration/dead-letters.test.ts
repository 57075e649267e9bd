import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { aboutBody, createDeadLetterService, type DeadLetterQueues } from '#operations/dead-letters';
import { UnknownQueueError } from '#operations/errors';
import { run } from '../../cli/main.ts';
import { createHttpAdapter } from '../../local/http-adapter.ts';
import { config, localAuthenticator, MemoryUploads, tokens } from '../unit/api-fixtures.ts';
import { captureIo } from '../unit/cli-fixtures.ts';

/**
 * `symbiont dlq list|show|redrive` against the real router, the local HTTP adapter and the local
 * SQS emulator (fauxqs, in process): what an admin types, what moves between the queues.
 */

let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
let sqs: SQSClient;
let queues: DeadLetterQueues;
let server: Server;
let url: string;
let round = 0;

const at = (role: keyof typeof tokens = 'admin') => ['--api', url, '--token', tokens[role]];

async function count(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

const s3Event = (key: string) => JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'symbiont-dev-landing' }, object: { key } } }] });

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: 'us-east-1' });
  sqs = new SQSClient({ endpoint: `http://127.0.0.1:${fauxqs.port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  sqs?.destroy();
  await fauxqs?.stop();
});

// Fresh queues for each test, so counts are exact.
beforeEach(async () => {
  round += 1;
  const create = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${round}` }))).QueueUrl!;
  queues = {
    ingest: { queueUrl: await create('ingest'), deadLetterQueueUrl: await create('ingest-dlq') },
    evaluation: { queueUrl: await create('evaluation'), deadLetterQueueUrl: await create('evaluation-dlq') },
  };
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  const api = createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, deadLetters: createDeadLetterService({ sqs, queues }) });
  server = createServer(createHttpAdapter({ handler: (event) => api.handle(event) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

describe('symbiont dlq', () => {
  it('lists every queue’s DLQ with its messages', async () => {
    // Prepare
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest!.deadLetterQueueUrl, MessageBody: s3Event('api/readings/S1/a.csv') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest!.deadLetterQueueUrl, MessageBody: s3Event('api/readings/S1/b.csv') }));
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['dlq', 'list', ...at()], io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toMatch(/QUEUE\s+MESSAGES\s+IN FLIGHT\nevaluation\s+0\s+0\ningest\s+2\s+0\n/);
    expect(stderr()).toContain('symbiont dlq redrive ingest');
  });

  it('shows a DLQ’s messages with what each is about, and leaves them there', async () => {
    // Prepare
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest!.deadLetterQueueUrl, MessageBody: s3Event('api/readings/S1/my+file.csv') }));
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['dlq', 'show', 'ingest', ...at(), '--json'], io);

    // Assess
    expect(code).toBe(0);
    const shown = JSON.parse(stdout()) as { queue: string; items: { about: string; body: unknown; receiveCount: number }[] };
    expect(shown.items).toHaveLength(1);
    expect(shown.items[0]).toMatchObject({ about: 's3://symbiont-dev-landing/api/readings/S1/my file.csv', body: { Records: [expect.any(Object)] } });
    expect(await count(queues.ingest!.deadLetterQueueUrl)).toBe(1);
  });

  it('redrives a DLQ to its queue with the bodies unchanged', async () => {
    // Prepare
    const bodies = [s3Event('api/readings/S1/a.csv'), s3Event('api/readings/S1/b.csv'), s3Event('api/readings/S1/c.csv')];
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest!.deadLetterQueueUrl, MessageBody: body }));
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['dlq', 'redrive', 'ingest', ...at()], io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain('Moved 3 messages from the ingest DLQ back to its queue.');
    expect(await count(queues.ingest!.deadLetterQueueUrl)).toBe(0);
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.ingest!.queueUrl, MaxNumberOfMessages: 10 }));
    expect(Messages.map((m) => m.Body).sort()).toEqual([...bodies].sort());
  });

  it('moves at most --max messages', async () => {
    // Prepare
    for (const key of ['a', 'b', 'c']) await sqs.send(new SendMessageCommand({ QueueUrl: queues.evaluation!.deadLetterQueueUrl, MessageBody: JSON.stringify({ requestId: key }) }));
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['dlq', 'redrive', 'evaluation', '--max', '2', ...at(), '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ queue: 'evaluation', moved: 2, failed: 0 });
    expect(await count(queues.evaluation!.deadLetterQueueUrl)).toBe(1);
  });

  it('names the known queues when asked for another', async () => {
    // Prepare
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['dlq', 'show', 'ingets', ...at()], io);

    // Assess
    expect(code).not.toBe(0);
    expect(stderr()).toContain('no queue is named ingets; the queues are evaluation, ingest');
  });

  it('is for admins only', async () => {
    // Prepare
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest!.deadLetterQueueUrl, MessageBody: s3Event('api/readings/S1/a.csv') }));

    // Act
    const answers = await Promise.all(
      (['scientist', 'uploader'] as const).map(async (role) => {
        const { io, stdout, stderr } = captureIo();
        return { code: await run(['dlq', 'redrive', 'ingest', ...at(role)], io), err: stderr() };
      }),
    );

    // Assess
    for (const answer of answers) {
      expect(answer.code).not.toBe(0);
      expect(answer.err).toMatch(/forbidden|admin/i);
    }
    expect(await count(queues.ingest!.deadLetterQueueUrl)).toBe(1);
  });
});

describe('the dead-letter service', () => {
  it('refuses an unknown queue with the queue named', async () => {
    await expect(createDeadLetterService({ sqs, queues }).redrive('nope')).rejects.toBeInstanceOf(UnknownQueueError);
  });

  it('says what a message is about, whatever its queue', () => {
    expect(aboutBody({ requestId: '01J', part: 2, pipeline: 'forecast' })).toBe('requestId=01J part=2 pipeline=forecast');
    expect(aboutBody({ repository: 'model', sha: 'a'.repeat(40), branch: 'main' })).toBe(`model@${'a'.repeat(12)}`);
    expect(aboutBody({ reportId: '01K' })).toBe('reportId=01K');
    expect(aboutBody({ detail: { 'file-path': '/bucket/sftp/alice/readings/x.csv', 'status-code': 'COMPLETED' } })).toBe('SFTP /bucket/sftp/alice/readings/x.csv (COMPLETED)');
    expect(aboutBody('not json')).toBe('text: not json');
  });
});
