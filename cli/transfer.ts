import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, UnreachableError } from './errors.ts';
import { formatBytes } from './output.ts';

/**
 * Moving bytes to and from presigned URLs: no API credentials, straight to S3 (or the local S3).
 * Downloads are hashed while they stream and land under their final name only when the sha256
 * matches; uploads stream from disk with their length, as S3 wants for a presigned PUT.
 */

/** The checksum of a download differs from the version's: nothing is left on disk. */
export class ChecksumMismatchError extends CliError {
  override name = 'ChecksumMismatchError';
}

/** A presigned URL answered with an error. */
export class TransferError extends CliError {
  override name = 'TransferError';
}

/** Reports bytes moved; `done` ends the line. */
export interface Progress {
  advance(bytes: number): void;
  done(): void;
}

const silent: Progress = { advance: () => undefined, done: () => undefined };

/**
 * A one-line progress bar on stderr, redrawn at most ten times a second, when stderr is a
 * terminal; otherwise nothing (so logs and pipes stay clean).
 */
export function progressBar(write: (text: string) => void, isTTY: boolean, label: string, total: number | undefined): Progress {
  if (!isTTY) return silent;
  let moved = 0;
  let drawnAt = 0;
  const draw = () => {
    const share = total ? Math.min(1, moved / total) : 0;
    const width = 24;
    const filled = Math.round(share * width);
    const bar = total ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ` : '';
    write(`\r${label} ${bar}${formatBytes(moved)}${total ? ` / ${formatBytes(total)}` : ''}\x1b[K`);
  };
  return {
    advance(bytes) {
      moved += bytes;
      const now = Date.now();
      if (now - drawnAt >= 100) {
        drawnAt = now;
        draw();
      }
    },
    done() {
      draw();
      write('\n');
    },
  };
}

/** Counts and hashes what passes through. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly progress: Progress) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.progress.advance(chunk.length);
    callback(null, chunk);
  }
}

/**
 * Downloads `url` to `path` through a temporary file beside it, checking the sha256 on the way;
 * renames it into place only when it matches, and removes it otherwise.
 */
export async function downloadToFile(options: {
  url: string;
  path: string;
  sha256: string;
  fetch?: typeof fetch;
  progress?: Progress;
}): Promise<{ bytes: number; sha256: string }> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(options.url);
  } catch (error) {
    throw new UnreachableError(`cannot reach the download URL's host (${new URL(options.url).host}): ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    const expired = response.status === 403 && /expired/i.test(text);
    throw new TransferError(`the download URL answered HTTP ${response.status}${expired ? ' (the URL expired: ask for a new one)' : ''}`);
  }
  const temp = join(dirname(options.path), `.${basename(options.path)}.${randomBytes(4).toString('hex')}.partial`);
  const meter = new Meter(options.progress ?? silent);
  try {
    await pipeline(response.body, meter, createWriteStream(temp, { flags: 'wx' }));
    const sha256 = meter.hash.digest('hex');
    if (sha256 !== options.sha256) {
      throw new ChecksumMismatchError(`the download's sha256 is ${sha256}, not the version's ${options.sha256}: nothing was saved; try again`);
    }
    await rename(temp, options.path);
    return { bytes: meter.bytes, sha256 };
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    options.progress?.done();
  }
}

/** PUTs the file at `path` to a presigned URL with its length, streaming from disk. */
export async function putFile(options: { url: string; path: string; headers?: Readonly<Record<string, string>>; progress?: Progress }): Promise<void> {
  const { size } = await stat(options.path);
  const url = new URL(options.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const progress = options.progress ?? silent;
  try {
    await new Promise<void>((resolve, reject) => {
      const request = send(url, { method: 'PUT', headers: { ...options.headers, 'content-length': String(size) } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new TransferError(`the upload URL answered HTTP ${status}${/expired/i.test(body) ? ' (the URL expired: ask for a new slot)' : ''}`));
        });
      });
      request.on('error', (error) => reject(new UnreachableError(`cannot reach the upload URL's host (${url.host}): ${error.message}`, { cause: error })));
      const file = createReadStream(options.path);
      file.on('data', (chunk) => progress.advance(chunk.length));
      file.on('error', reject);
      file.pipe(request);
    });
  } finally {
    progress.done();
  }
}
