import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '#local/clients';
import { startS3, type S3Emulator } from '#local/emulators';
import { s3ClientConfig } from '#shared/aws';
import { tempDataDir } from './local-helpers.ts';

/**
 * The local S3 refuses what S3 refuses (the Doors issue): s3rver checks no V4 signature, so the
 * local runtime does. Every SDK call still works; a presigned URL works until it is tampered with,
 * re-pointed at another key, or expired; a request without a signature or signed with another
 * secret is refused.
 */

const dir = tempDataDir('s3-signatures');
const bucket = 'symbiont-doors';
let emulator: S3Emulator;
let s3: S3Client;

const client = (secretAccessKey: string = LOCAL_CREDENTIALS.secretAccessKey) =>
  new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: emulator.url }), region: 'us-east-1', credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey } });

async function errorCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

beforeAll(async () => {
  emulator = await startS3(join(dir.path, 'data'), 0);
  s3 = client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv', Body: 'sensor_id\nS0001\n' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'datasets/secret/v1/secret.csv', Body: 'not yours\n' }));
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  dir.remove();
});

describe('the local S3’s signature checks', () => {
  it('serves the SDK’s signed calls, keys with spaces, pluses and accents included', async () => {
    // Act
    const key = 'api/readings/01J/a b+c (ü).csv';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'api/readings/01J/' }));

    // Assess
    expect(body).toBe('x');
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
  });

  it('serves a multipart upload of a stream', async () => {
    // Act
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'api/big.bin', Body: Buffer.alloc(11 * 1024 * 1024, 7) }, partSize: 5 * 1024 * 1024 });
    await upload.done();
    const head = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'api/big.bin' }));

    // Assess
    expect(head.ContentLength).toBe(11 * 1024 * 1024);
  });

  it('serves a presigned GET and a presigned PUT', async () => {
    // Prepare
    const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv' }), { expiresIn: 60 });
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'api/readings/01K/day.csv' }), { expiresIn: 60 });

    // Act
    const read = await fetch(get);
    const written = await fetch(put, { method: 'PUT', body: 'sensor_id\nS0002\n' });

    // Assess
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('sensor_id\nS0001\n');
    expect(written.status).toBe(200);
  });

  it('refuses a presigned URL whose signature was tampered with', async () => {
    // Prepare
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv' }), { expiresIn: 60 }));
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);

    // Act
    const response = await fetch(url);

    // Assess
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('SignatureDoesNotMatch');
  });

  it('refuses a presigned URL re-pointed at another key, or given a longer life', async () => {
    // Prepare
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv' }), { expiresIn: 60 });
    const repointed = url.replace('/datasets/readings/v1/readings.csv', '/datasets/secret/v1/secret.csv');
    const longer = url.replace('X-Amz-Expires=60', 'X-Amz-Expires=604800');

    // Act
    const answers = await Promise.all([fetch(repointed), fetch(longer)]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([403, 403]);
    expect(await Promise.all(answers.map(errorCode))).toEqual(['SignatureDoesNotMatch', 'SignatureDoesNotMatch']);
  });

  it('refuses an expired presigned URL', async () => {
    // Prepare: signed two minutes ago for one minute.
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv' }), { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });

    // Act
    const response = await fetch(url);

    // Assess
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
  });

  it('refuses a request without a signature, and one signed with another secret', async () => {
    // Act
    const anonymous = await fetch(`${emulator.url}/${bucket}/datasets/readings/v1/readings.csv`);
    const stranger = client('not-the-local-secret');
    const refused = await stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv' })).catch((error: Error) => error);
    stranger.destroy();

    // Assess
    expect(anonymous.status).toBe(403);
    expect(await errorCode(anonymous)).toBe('AccessDenied');
    expect((refused as Error).name).toBe('SignatureDoesNotMatch');
  });

  it('stores no key with a dot-dot segment, which s3rver would write outside its folder', async () => {
    // Act
    const refused = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'api/x/../../../../escape.txt', Body: 'out' })).catch((error: Error) => error);

    // Assess
    expect((refused as Error).name).toBe('InvalidObjectName');
  });
});
