import { createWriteStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Moving a stage run's files between a local folder and the data bucket: what the stage wrapper
 * does in an ECS task (and what the local stage runner does in its process). Every S3 call takes
 * an optional `timeoutMs`, so a stalled endpoint fails the call instead of hanging the task.
 */

export interface TransferOptions {
  /** Milliseconds one S3 call (a download includes reading its body) may take. @default no limit */
  readonly timeoutMs?: number;
}

const signal = (options: TransferOptions) => (options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs));

/** Every file under `folder`, recursively. */
export function listFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else if (entry.isFile() || statSync(path).isFile()) files.push(path);
  }
  return files;
}

/** Uploads every file under `folder` to `prefix` (keys with `/`, whatever the platform), 8 at once. */
export async function uploadFolder(s3: S3Client, bucket: string, prefix: string, folder: string, options: TransferOptions = {}): Promise<number> {
  const files = listFiles(folder);
  const pending = [...files];
  const worker = async () => {
    for (let file = pending.shift(); file !== undefined; file = pending.shift()) {
      const key = `${prefix}${relative(folder, file).split(sep).join('/')}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }), { abortSignal: signal(options) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return files.length;
}

/** Downloads one object to `path` (its folder is created). */
export async function downloadObject(s3: S3Client, bucket: string, key: string, path: string, options: TransferOptions = {}): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const abortSignal = signal(options);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
  await pipeline(object.Body as Readable, createWriteStream(path), ...(abortSignal ? [{ signal: abortSignal }] : []));
}

/** Downloads every object under `prefix` into `folder`, keeping the layout below the prefix. Answers how many. */
export async function downloadPrefix(s3: S3Client, bucket: string, prefix: string, folder: string, options: TransferOptions = {}): Promise<number> {
  mkdirSync(folder, { recursive: true });
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal(options) });
    for (const object of page.Contents ?? []) {
      if (object.Key!.endsWith('/')) continue;
      await downloadObject(s3, bucket, object.Key!, join(folder, ...object.Key!.slice(prefix.length).split('/')), options);
      count++;
    }
    token = page.NextContinuationToken;
  } while (token);
  return count;
}

/** Whether an S3 error says the object (or bucket) is not there. */
export function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
