import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { presignGet, presignPut } from '#shared/presign';

/** Presigned URLs say truly how long they work, whatever credentials sign them. */
describe('presigned URLs', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  const object = { bucket: 'symbiont-dev-data', key: 'datasets/readings/v1/readings.csv' };
  const client = (expiration?: Date) =>
    new S3Client({ region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token', ...(expiration ? { expiration } : {}) }) });
  const expiresParam = (url: string) => new URL(url).searchParams.get('X-Amz-Expires');

  it('last the seconds asked for when the credentials do not expire', async () => {
    // Act
    const signed = await presignGet(client(), object, 3600, { now });

    // Assess
    expect(signed.expiresAt).toBe('2026-11-28T13:00:00.000Z');
    expect(expiresParam(signed.url)).toBe('3600');
  });

  it('last only as long as the temporary credentials that sign them, and say so', async () => {
    // Prepare: a role session with ten minutes left
    const s3 = client(new Date(now.getTime() + 600_000));

    // Act
    const download = await presignGet(s3, object, 3600, { now });
    const upload = await presignPut(s3, object, 900, { now });

    // Assess
    expect(download.expiresAt).toBe('2026-11-28T12:10:00.000Z');
    expect(expiresParam(download.url)).toBe('600');
    expect(upload.expiresAt).toBe('2026-11-28T12:10:00.000Z');
    expect(expiresParam(upload.url)).toBe('600');
  });

  it('name a download safely whatever the file is called', async () => {
    // Act
    const signed = await presignGet(client(), object, 60, { now, fileName: 'a"b\r\nc.csv' });

    // Assess
    const disposition = new URL(signed.url).searchParams.get('response-content-disposition');
    expect(disposition).toBe(`attachment; filename="a_b__c.csv"; filename*=UTF-8''a%22b%0D%0Ac.csv`);
  });
});
