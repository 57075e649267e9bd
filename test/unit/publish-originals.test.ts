import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { copyOriginal, copyParts, MAX_SINGLE_COPY_BYTES, MIN_COPY_PART_BYTES, OriginalCopyError } from '#ingest/originals';

const s3Client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const s3 = mockClient(s3Client);
const GiB = 1024 ** 3;

const source = { Bucket: 'landing', Key: 'sftp/alice/readings/big day.csv', VersionId: 'v+1' };
const target = { bucket: 'data', key: 'datasets/readings/v7/big day.csv' };

beforeEach(() => {
  s3.reset();
  s3.on(CopyObjectCommand).resolves({});
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'mpu-1' });
  s3.on(UploadPartCopyCommand).callsFake((input) => ({ CopyPartResult: { ETag: `"etag-${input.PartNumber}"` } }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
});

describe('copying an original', () => {
  it('copies up to 5 GiB in one CopyObject naming the source version, URL-encoded', async () => {
    // Act
    await copyOriginal(s3Client, { source, ...target, bytes: MAX_SINGLE_COPY_BYTES });

    // Assess
    expect(s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'data', Key: 'datasets/readings/v7/big day.csv', CopySource: 'landing/sftp/alice/readings/big%20day.csv?versionId=v%2B1' },
    ]);
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('copies more than 5 GiB in parts that cover every byte once, each naming the source version', async () => {
    const bytes = 5 * GiB + 1;

    await copyOriginal(s3Client, { source, ...target, bytes });

    const parts = s3
      .commandCalls(UploadPartCopyCommand)
      .map((call) => call.args[0].input)
      .sort((a, b) => a.PartNumber! - b.PartNumber!);
    expect(parts.map((part) => part.CopySourceRange)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `bytes=${i * MIN_COPY_PART_BYTES}-${(i + 1) * MIN_COPY_PART_BYTES - 1}`),
      `bytes=${5 * GiB}-${5 * GiB}`,
    ]);
    expect(new Set(parts.map((part) => part.CopySource))).toEqual(new Set(['landing/sftp/alice/readings/big%20day.csv?versionId=v%2B1']));
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it('completes a multipart copy with the parts’ ETags in part order', async () => {
    await copyOriginal(s3Client, { source, ...target, bytes: 6 * GiB });

    const [complete] = s3.commandCalls(CompleteMultipartUploadCommand).map((call) => call.args[0].input);
    expect(complete?.UploadId).toBe('mpu-1');
    expect(complete?.MultipartUpload?.Parts).toEqual(Array.from({ length: 12 }, (_, i) => ({ ETag: `"etag-${i + 1}"`, PartNumber: i + 1 })));
  });

  it('aborts a multipart copy whose part fails and reports where it was copying', async () => {
    s3.on(UploadPartCopyCommand).rejects(new Error('slow down'));

    const copying = copyOriginal(s3Client, { source, ...target, bytes: 6 * GiB });

    await expect(copying).rejects.toThrow(OriginalCopyError);
    await expect(copying).rejects.toThrow('to s3://data/datasets/readings/v7/big day.csv');
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: 'data', Key: target.key, UploadId: 'mpu-1' }]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('keeps a 5 TiB original within 10,000 parts', () => {
    const parts = copyParts(5 * 1024 * GiB);

    expect(parts.length).toBeLessThanOrEqual(10_000);
    expect(parts.at(-1)?.last).toBe(5 * 1024 * GiB - 1);
  });
});
