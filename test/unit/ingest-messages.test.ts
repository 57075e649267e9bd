import { readFileSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InvalidIngestMessageError } from '#ingest/errors';
import { decodeS3EventKey, parseIngestRecord } from '#ingest/messages';

const events = new Map<string, SQSEvent>();

/** A fresh copy of a stored event from events/s3/, safe to change. */
function loadEvent(name: string): SQSEvent {
  if (!events.has(name)) events.set(name, JSON.parse(readFileSync(new URL(`../../events/s3/${name}.json`, import.meta.url), 'utf8')));
  return structuredClone(events.get(name)!);
}

function firstRecord(name: string): SQSRecord {
  return loadEvent(name).Records[0]!;
}

/** Changes the S3 notification inside a record's body. */
function withBody(record: SQSRecord, change: (body: any) => void): SQSRecord {
  const body = JSON.parse(record.body);
  change(body);
  return { ...record, body: JSON.stringify(body) };
}

describe('parseIngestRecord', () => {
  it('normalises an S3 ObjectCreated:Put notification to one ingest message', () => {
    // Prepare
    const record = firstRecord('object-created-put');

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([
      {
        messageId: expect.stringMatching(/^s3-[0-9a-f]{40}$/),
        bucket: 'symbiont-dev-landing',
        key: 'api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W2/readings-2025-01-15.csv',
        versionId: 'Ty9Wq2aK0.bYzUe3Lr7mNfPx1HcJd5Sg',
        etag: '8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e',
        size: 20480,
        source: 's3',
        arrivedAt: '2025-01-15T10:20:30.123Z',
      },
    ]);
  });

  it('decodes a URL-encoded key with "+" for spaces and non-ASCII characters', () => {
    // Prepare
    const record = firstRecord('object-created-encoded-key');

    // Act
    const [message] = parseIngestRecord(record);

    // Assess
    expect(message?.key).toBe('api/readings/01JHB3Q4V7K2M9N8P6R5S4T3W2/mesures été 2025 + hiver (1).csv');
  });

  it('accepts a CompleteMultipartUpload notification', () => {
    // Prepare
    const record = firstRecord('object-created-multipart');

    // Act
    const [message] = parseIngestRecord(record);

    // Assess
    expect(message).toMatchObject({ key: 'api/sites/01JHB3R1A2B3C4D5E6F7G8H9J0/sites.jsonl', size: 73400320, etag: 'a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4-9' });
  });

  it('skips the test event S3 sends when notifications are configured', () => {
    // Prepare
    const record = firstRecord('test-event');

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([]);
  });

  it('gives a redelivered notification the same message id, whatever SQS message carries it', () => {
    // Prepare
    const first = firstRecord('object-created-put');
    const again = { ...firstRecord('object-created-put'), messageId: 'another-sqs-id', receiptHandle: 'another-handle' };
    again.attributes.ApproximateReceiveCount = '2';

    // Act
    const [a] = parseIngestRecord(first);
    const [b] = parseIngestRecord(again);

    // Assess
    expect(b?.messageId).toBe(a?.messageId);
  });

  it('gives a new version of the same key a new message id', () => {
    // Prepare
    const first = firstRecord('object-created-put');
    const newVersion = withBody(firstRecord('object-created-put'), (body) => {
      body.Records[0].s3.object.versionId = 'AnotherVersion00000000000000000';
    });

    // Act
    const [a] = parseIngestRecord(first);
    const [b] = parseIngestRecord(newVersion);

    // Assess
    expect(b?.messageId).not.toBe(a?.messageId);
  });

  it('identifies a local arrival, which has no version, by its key', () => {
    // Prepare
    const record = firstRecord('local-arrival');

    // Act
    const [message] = parseIngestRecord(record);

    // Assess
    expect(message).toMatchObject({ key: '_arrivals/01JHB3T7V8W9X0Y1Z2A3B4C5D6', messageId: expect.stringMatching(/^s3-/) });
    expect(message?.versionId).toBeUndefined();
  });

  it('accepts an IPv6 source address, which S3 reports for dual-stack clients', () => {
    // Prepare
    const record = withBody(firstRecord('object-created-put'), (body) => {
      body.Records[0].requestParameters.sourceIPAddress = '2001:db8::17';
    });

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toHaveLength(1);
  });

  it('skips a notification that creates no object', () => {
    // Prepare
    const record = withBody(firstRecord('object-created-put'), (body) => {
      body.Records[0].eventName = 'ObjectRemoved:Delete';
    });

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([]);
  });

  it('refuses a body that is not an S3 notification, naming the SQS message and the problem', () => {
    // Prepare
    const record = { ...firstRecord('object-created-put'), body: '{"hello":"world"}' };

    // Act
    const parse = () => parseIngestRecord(record);

    // Assess
    expect(parse).toThrow(InvalidIngestMessageError);
    expect(parse).toThrow(/9f2a7c1e-4b3d-4f0a-8c6e-1d2b3a4c5d6e is not an S3 event notification: body/);
  });

  it('refuses a key whose URL-encoding is broken', () => {
    // Prepare
    const record = withBody(firstRecord('object-created-put'), (body) => {
      body.Records[0].s3.object.key = 'api/readings/slot/bad%E0%A4.csv';
    });

    // Act
    const parse = () => parseIngestRecord(record);

    // Assess
    expect(parse).toThrow(/not validly URL-encoded/);
  });
});

describe('decodeS3EventKey', () => {
  it('keeps an encoded "+" apart from a space', () => {
    // Act
    const key = decodeS3EventKey('a+b%2Bc');

    // Assess
    expect(key).toBe('a b+c');
  });
});
