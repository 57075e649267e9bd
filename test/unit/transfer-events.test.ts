import { readFileSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InvalidIngestMessageError } from '#ingest/errors';
import { parseIngestRecord, splitTransferPath } from '#ingest/messages';
import { logger } from '#shared/observability';

// Outcomes are asserted, not read from the log.
logger.setLogLevel('ERROR');

const LANDING = 'symbiont-dev-storagelanding8a1b2c3d-1q2w3e4r5t6y';
const stored = new Map<string, unknown>();

/** A fresh copy of a stored Transfer Family event from events/transfer/, safe to change. */
function transferEvent(name: string): Record<string, any> {
  if (!stored.has(name)) stored.set(name, JSON.parse(readFileSync(new URL(`../../events/transfer/${name}.json`, import.meta.url), 'utf8')));
  return structuredClone(stored.get(name)) as Record<string, any>;
}

/** The SQS record EventBridge delivers an event in: the stored SQS delivery, with this body. */
function delivered(event: unknown): SQSRecord {
  const sqs = JSON.parse(readFileSync(new URL('../../events/transfer/sqs-upload-completed.json', import.meta.url), 'utf8')) as SQSEvent;
  return { ...sqs.Records[0]!, body: JSON.stringify(event) };
}

describe('Transfer Family events on the ingest queue', () => {
  it('normalises an upload-completed event to a message identified by the event id, with ETag, size and user', () => {
    // Prepare
    const record = delivered(transferEvent('upload-completed'));

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([
      {
        messageId: '5b2c8f3e-7a41-4d0e-9c6b-2f1e8d4a7b90',
        bucket: LANDING,
        key: 'sftp/alice/readings/readings-2025-01-15.csv',
        etag: '8f1c5b2e9d3a7f6b4c0e1a2d3b4c5d6e',
        size: 20480,
        source: 'transfer',
        user: 'alice',
        arrivedAt: '2025-01-15T10:20:31.311866408Z',
      },
    ]);
  });

  it('reads the SQS delivery EventBridge makes as it is stored', () => {
    // Prepare
    const sqs = JSON.parse(readFileSync(new URL('../../events/transfer/sqs-upload-completed.json', import.meta.url), 'utf8')) as SQSEvent;

    // Act
    const [message] = parseIngestRecord(sqs.Records[0]);

    // Assess
    expect(message).toMatchObject({ messageId: '5b2c8f3e-7a41-4d0e-9c6b-2f1e8d4a7b90', source: 'transfer', key: 'sftp/alice/readings/readings-2025-01-15.csv' });
  });

  it('announces the new path of a rename-completed event, without ETag or size (the event has neither)', () => {
    // Prepare
    const record = delivered(transferEvent('rename-completed'));

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([
      {
        messageId: 'e8f7a6b5-c4d3-4e2f-a1b0-9c8d7e6f5a4b',
        bucket: LANDING,
        key: 'sftp/alice/readings/week-03.csv',
        source: 'transfer',
        user: 'alice',
        arrivedAt: '2025-01-15T11:02:10.749749117Z',
      },
    ]);
  });

  it('marks the file of an upload-failed event as failed, to be rejected as interrupted', () => {
    // Prepare
    const record = delivered(transferEvent('upload-failed'));

    // Act
    const [message] = parseIngestRecord(record);

    // Assess
    expect(message).toMatchObject({
      messageId: '3a9b8c7d-6e5f-4a3b-b2c1-d0e9f8a7b6c5',
      key: 'sftp/alice/readings/readings-2025-01-16.csv',
      failed: true,
      source: 'transfer',
    });
  });

  it('gives the same message id when EventBridge delivers an event again', () => {
    // Prepare
    const first = delivered(transferEvent('upload-completed'));
    const again = { ...delivered(transferEvent('upload-completed')), messageId: 'another-sqs-message-id' };

    // Act
    const [a] = parseIngestRecord(first);
    const [b] = parseIngestRecord(again);

    // Assess
    expect(b?.messageId).toBe(a?.messageId);
  });

  it('announces nothing for a Transfer Family event that is not an upload or a rename', () => {
    // Prepare
    const record = delivered(transferEvent('download-completed'));

    // Act
    const messages = parseIngestRecord(record);

    // Assess
    expect(messages).toEqual([]);
  });

  it('refuses a Transfer Family event without a file path, naming the event', () => {
    // Prepare
    const event = transferEvent('upload-completed');
    delete event.detail['file-path'];

    // Act
    const parse = () => parseIngestRecord(delivered(event));

    // Assess
    expect(parse).toThrow(InvalidIngestMessageError);
    expect(parse).toThrow(/5b2c8f3e-7a41-4d0e-9c6b-2f1e8d4a7b90 .* has no file-path/);
  });

  it('refuses a Transfer Family event that lacks the user, naming the field', () => {
    // Prepare
    const event = transferEvent('upload-completed');
    delete event.detail.username;

    // Act
    const parse = () => parseIngestRecord(delivered(event));

    // Assess
    expect(parse).toThrow(/is not a Transfer Family event Symbiont understands: body\.detail\.username/);
  });

  it('splits a Transfer Family S3 path into bucket and key, keeping the slashes of the key', () => {
    // Act
    const split = splitTransferPath('/landing-bucket/sftp/alice/readings/a b.csv');

    // Assess
    expect(split).toEqual({ bucket: 'landing-bucket', key: 'sftp/alice/readings/a b.csv' });
  });

  it('refuses a path that names no key', () => {
    // Act
    const split = () => splitTransferPath('/landing-bucket');

    // Assess
    expect(split).toThrow(/is not \/<bucket>\/<key>/);
  });
});
