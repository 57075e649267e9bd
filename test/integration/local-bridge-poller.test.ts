import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeOriginalKey, ORIGINAL_KEY_METADATA } from '#ingest/arrivals';
import { decodeS3EventKey, ingestSqsRecordSchema } from '#ingest/messages';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { encodeS3EventKey } from '#local/s3-bridge';
import { exampleConfig, freePorts, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * The S3 bridge and the queue poller, with a stand-in ingest handler that records the SQS events
 * it gets and fails the records a test tells it to — the real handler's own behaviour is tested
 * elsewhere; here what matters is what reaches it and what happens to its answer.
 */
describe('local S3 bridge and queue poller', () => {
  const dataDir = tempDataDir('bridge');
  const received: SQSRecord[] = [];
  let respond: (event: SQSEvent) => SQSBatchResponse = () => ({ batchItemFailures: [] });
  let runtime: LocalRuntime;
  let s3: S3Client;
  let sqs: SQSClient;

  beforeAll(async () => {
    runtime = await startLocal({
      configFile: exampleConfig,
      dataDir: dataDir.path,
      ports: freePorts,
      queueOverrides: { ingest: { visibilityTimeoutSeconds: 1 } },
      handlers: {
        ingest: async (event) => {
          received.push(...event.Records.map((r) => structuredClone(r)));
          return respond(event);
        },
        api: async () => ({ statusCode: 404, headers: {}, body: '{}' }),
      },
    });
    const { endpoints } = runtime;
    const common = { region: endpoints.region, credentials: { ...endpoints.credentials } };
    s3 = new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  });

  afterAll(async () => {
    s3?.destroy();
    sqs?.destroy();
    await runtime?.stop();
    dataDir.remove();
  });

  beforeEach(() => {
    received.length = 0;
    respond = () => ({ batchItemFailures: [] });
  });

  const landing = () => runtime.endpoints.buckets.landing;

  /** The S3 notification a record carries, parsed with the ingest handler's own schema. */
  function notification(record: SQSRecord) {
    const parsed = ingestSqsRecordSchema.parse(record).body;
    if (!('Records' in parsed)) throw new Error('expected an S3 event notification');
    return parsed.Records[0]!;
  }

  it('announces an object created under api/ as an S3 event naming its _arrivals copy', async () => {
    // Prepare
    const key = 'api/readings/01SLOT/données 1+2.csv';
    const body = 'sensor_id,taken_at\nS0001,2024-01-01T00:00:00Z\n';

    // Act
    await s3.send(new PutObjectCommand({ Bucket: landing(), Key: key, Body: body, ContentType: 'text/csv' }));
    const [record] = await waitFor('the ingest event', () => (received.length > 0 ? received : undefined));

    // Assess
    const event = notification(record!);
    expect(event).toMatchObject({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', awsRegion: runtime.endpoints.region });
    expect(event.s3.bucket).toMatchObject({ name: landing(), arn: `arn:aws:s3:::${landing()}` });
    expect(event.s3.object.key).toMatch(/^_arrivals\/[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(event.s3.object.size).toBe(Buffer.byteLength(body));
    const copy = await s3.send(new GetObjectCommand({ Bucket: landing(), Key: event.s3.object.key }));
    expect(decodeOriginalKey(copy.Metadata?.[ORIGINAL_KEY_METADATA] ?? '')).toBe(key);
    expect(copy.ContentType).toBe('text/csv');
    expect(await copy.Body?.transformToString()).toBe(body);
    expect(copy.ETag).toBe(`"${event.s3.object.eTag}"`);
  });

  it("records the key it was sent to, URI-encoded, in the copy's original-key metadata", async () => {
    // Prepare
    const arrivalKey = (await putAndAwait('api/readings/01SLOT/a b.csv')).s3.object.key;

    // Act
    const copy = await s3.send(new GetObjectCommand({ Bucket: landing(), Key: arrivalKey }));

    // Assess
    expect(copy.Metadata?.[ORIGINAL_KEY_METADATA]).toBe('api/readings/01SLOT/a%20b.csv');
  });

  it('URL-encodes event keys as S3 does: + for a space, %2B for a plus, slashes kept', () => {
    // Prepare
    const key = 'api/readings/01SLOT/a b+c%d é.csv';

    // Act
    const encoded = encodeS3EventKey(key);

    // Assess
    expect(encoded).toBe('api/readings/01SLOT/a+b%2Bc%25d+%C3%A9.csv');
    expect(decodeS3EventKey(encoded)).toBe(key);
  });

  it('announces nothing for objects outside api/, in the data bucket, or its own copies', async () => {
    // Prepare
    await s3.send(new PutObjectCommand({ Bucket: landing(), Key: 'sftp/alice/readings/x.csv', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: runtime.endpoints.buckets.data, Key: 'api/readings/01SLOT/x.csv', Body: 'x' }));

    // Act
    await putAndAwait('api/readings/01SLOT/last.csv');

    // Assess
    expect(received).toHaveLength(1);
  });

  it('names a completed multipart upload ObjectCreated:CompleteMultipartUpload', async () => {
    // Prepare
    const key = 'api/readings/01SLOT/multipart.csv';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: landing(), Key: key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: landing(), Key: key, UploadId, PartNumber: 1, Body: 'a,b\n1,2\n' }));

    // Act
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: landing(), Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    const [record] = await waitFor('the ingest event', () => (received.length > 0 ? received : undefined));

    // Assess
    expect(notification(record!).eventName).toBe('ObjectCreated:CompleteMultipartUpload');
  });

  it('hands the handler records shaped as Lambda shapes them', async () => {
    // Act
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: runtime.endpoints.queues.ingest.url, MessageBody: 'plain' }));
    const [record] = await waitFor('the record', () => (received.length > 0 ? received : undefined));

    // Assess
    expect(record).toMatchObject({
      messageId: sent.MessageId,
      body: 'plain',
      eventSource: 'aws:sqs',
      eventSourceARN: runtime.endpoints.queues.ingest.arn,
      awsRegion: runtime.endpoints.region,
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(record?.receiptHandle).not.toBe('');
    expect(record?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
  });

  it('deletes the records the handler handled and redelivers the ones it reported failed', async () => {
    // Prepare
    const queueUrl = runtime.endpoints.queues.ingest.url;
    respond = (event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'fail' && r.attributes.ApproximateReceiveCount === '1').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    });

    // Act
    const ok = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'ok' }));
    const fail = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'fail' }));
    await waitFor('the second delivery of the failed record', () =>
      received.find((r) => r.messageId === fail.MessageId && r.attributes.ApproximateReceiveCount === '2'),
    );
    // Longer than the visibility timeout: a record that was not deleted would be back by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // Assess
    expect(received.filter((r) => r.messageId === ok.MessageId)).toHaveLength(1);
    expect(received.filter((r) => r.messageId === fail.MessageId)).toHaveLength(2);
  });

  it('redelivers the whole batch when the handler throws', async () => {
    // Prepare
    let calls = 0;
    respond = () => {
      calls += 1;
      if (calls === 1) throw new Error('handler crashed');
      return { batchItemFailures: [] };
    };

    // Act
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: runtime.endpoints.queues.ingest.url, MessageBody: 'again' }));
    const second = await waitFor('the redelivery', () =>
      received.find((r) => r.messageId === sent.MessageId && r.attributes.ApproximateReceiveCount === '2'),
    );

    // Assess
    expect(second.body).toBe('again');
  });

  async function putAndAwait(key: string) {
    const before = received.length;
    await s3.send(new PutObjectCommand({ Bucket: landing(), Key: key, Body: 'a,b\n1,2\n' }));
    const record = await waitFor('the ingest event', () => received[before]);
    return notification(record);
  }
});
