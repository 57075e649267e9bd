import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler builds its clients at module scope, so the class prototypes are mocked.
const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const handlerEnv = {
  TABLE_NAME: 'symbiont-test',
  DATA_BUCKET: 'symbiont-test-data',
  COMMIT_QUEUE_URL: 'http://localhost:4576/000000000000/symbiont-test-commit',
  SYMBIONT_CONFIG: fileURLToPath(new URL('../../symbiont.config.json', import.meta.url)),
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

const events = new Map<string, SQSEvent>();

/** A fresh copy of a stored event from events/s3/, safe to change. */
function loadEvent(name: string): SQSEvent {
  if (!events.has(name)) events.set(name, JSON.parse(readFileSync(new URL(`../../events/s3/${name}.json`, import.meta.url), 'utf8')));
  return structuredClone(events.get(name)!);
}

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'symbiont-test-ingest-upload',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:symbiont-test-ingest-upload',
  memoryLimitInMB: '1024',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/symbiont-test-ingest-upload',
  logStreamName: '2025/01/15/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** The handler, imported fresh with the given environment. */
async function importHandler(env: Record<string, string | undefined> = handlerEnv) {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../functions/ingest-upload/handler.ts')).handler;
}

/** The upload item the handler wrote, as the table would hold it. */
const writtenUpload = () => ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item).find((item) => item?.sk === 'UPLOAD');

/** The status an update sets (the first value of its SET clause). */
const statusSetBy = (input: UpdateCommandInput) => input.ExpressionAttributeValues?.[':v0'];

beforeEach(() => {
  ddb.reset();
  s3.reset();
  ddb.on(PutCommand).resolves({});
  // Nothing is recorded before: no upload slot for the api/ keys of the events.
  ddb.on(GetCommand).resolves({});
  // A status update answers with the upload as written, in its new status.
  ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({ Attributes: { ...writtenUpload(), status: statusSetBy(input) } }));
  // An empty file: validation's verdict is quick and needs no versions (it is quarantined).
  s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.alloc(0)]), ContentLength: 0 }));
  s3.on(CopyObjectCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(PutObjectTaggingCommand).resolves({});
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ingest-upload handler', () => {
  it('records the upload a queue message announces, takes it to its outcome and reports no failure', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('object-created-put');

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const items = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(items).toContainEqual(expect.objectContaining({ sk: 'UPLOAD', dataset: 'readings', status: 'received', versionId: 'Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg' }));
    expect(ddb.commandCalls(UpdateCommand).map((call) => statusSetBy(call.args[0].input))).toEqual(['validating', 'quarantined']);
  });

  it('marks the upload failed when a record on its last receive fails, and reports the record', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('object-created-put');
    event.Records[0]!.attributes.ApproximateReceiveCount = '5';
    // A neighbour that succeeds, so the batch fails partly (a batch that fails whole is thrown).
    event.Records.push(loadEvent('test-event').Records[0]!);
    s3.on(GetObjectCommand).rejects(new Error('InternalError'));

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(ddb.commandCalls(UpdateCommand).map((call) => statusSetBy(call.args[0].input))).toEqual(['validating', 'failed']);
  });

  it('leaves the upload for the next try when a record fails before its last receive', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('object-created-put');
    event.Records[0]!.attributes.ApproximateReceiveCount = '4';
    // A neighbour that succeeds, so the batch fails partly (a batch that fails whole is thrown).
    event.Records.push(loadEvent('test-event').Records[0]!);
    s3.on(GetObjectCommand).rejects(new Error('InternalError'));

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(ddb.commandCalls(UpdateCommand).map((call) => statusSetBy(call.args[0].input))).toEqual(['validating']);
  });

  it('reports only the bad record of a batch as failed, and still records its neighbour', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('object-created-put');
    const bad = { ...structuredClone(event.Records[0]!), messageId: 'bad-record', body: 'this is not JSON' };
    event.Records.push(bad);

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-record' }] });
    const items = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(items).toContainEqual(expect.objectContaining({ sk: 'UPLOAD', status: 'received' }));
  });

  it('copies a rejected upload to the data bucket named by DATA_BUCKET', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('unknown-dataset');

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input.Bucket).toBe('symbiont-test-data');
  });

  it('skips an S3 test event without touching the table', async () => {
    // Prepare
    const handler = await importHandler();
    const event = loadEvent('test-event');

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('fails to start, naming the variable, when DATA_BUCKET is not set', async () => {
    // Act
    const importing = importHandler({ ...handlerEnv, DATA_BUCKET: undefined });

    // Assess
    await expect(importing).rejects.toThrow('environment variable DATA_BUCKET is not set');
  });
});
