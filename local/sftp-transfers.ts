import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * Moving file contents between an SFTP session and S3 without holding a file in memory. SFTP
 * clients send many WRITE (or READ) requests at once, each with its offset; S3 wants one stream.
 */

/** Where an upload streams to and how much it may buffer. */
export interface StreamingUploadOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly contentType?: string;
  /** Bytes per multipart part; lib-storage holds up to `queueSize + 1` of them. @default 8 MiB */
  readonly partSize?: number;
  /** Parts sent at once. @default 2 */
  readonly queueSize?: number;
  /** Bytes of writes that arrived ahead of a gap that may wait for it. @default 8 MiB */
  readonly maxEarlyBytes?: number;
}

/** What a finished upload stored. */
export interface StoredObject {
  readonly bytes: number;
  /** Without quotes. */
  readonly eTag?: string;
  /** S3's name for the request that created it (`ObjectCreated:<this>`). */
  readonly createdBy: 'Put' | 'CompleteMultipartUpload';
}

/** A write the client sent that cannot be taken (it rewrites bytes already sent, or too much is ahead of a gap). */
export class WriteOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteOrderError';
  }
}

const MiB = 1024 * 1024;

/**
 * One file being written over SFTP, streaming to S3 with lib-storage's `Upload` (multipart for
 * anything above one part, bounded part buffers). A write is acknowledged only once the stream
 * has room, so the client's window of outstanding requests is all that waits in memory.
 */
export class StreamingUpload {
  /** Bytes taken in order so far; the next write the stream can take starts here. */
  #next = 0;
  #earlyBytes = 0;
  readonly #early = new Map<number, { data: Buffer; taken: () => void }>();
  readonly #body: PassThrough;
  readonly #upload: Upload;
  readonly #done: Promise<{ ETag?: string }>;
  /** Rejects when the upload to S3 fails, so writes waiting for room do not wait forever. */
  readonly #failed: Promise<never>;
  #drained: Promise<unknown> | undefined;
  readonly #partSize: number;
  readonly #maxEarlyBytes: number;

  constructor(options: StreamingUploadOptions) {
    this.#partSize = options.partSize ?? 8 * MiB;
    this.#maxEarlyBytes = options.maxEarlyBytes ?? 8 * MiB;
    this.#body = new PassThrough({ highWaterMark: MiB });
    this.#upload = new Upload({
      client: options.s3,
      params: { Bucket: options.bucket, Key: options.key, Body: this.#body, ContentType: options.contentType },
      partSize: this.#partSize,
      queueSize: options.queueSize ?? 2,
      leavePartsOnError: false,
    });
    this.#done = this.#upload.done();
    this.#failed = this.#done.then(() => new Promise<never>(() => undefined));
    // Observed here; callers see the failure through write() and finish().
    this.#failed.catch(() => undefined);
  }

  /** Bytes written in order so far. */
  get bytes(): number {
    return this.#next;
  }

  /** Whether writes are still waiting for the bytes before them. */
  get hasGap(): boolean {
    return this.#early.size > 0;
  }

  /** Takes the bytes the client wrote at `offset`; resolves when the client may be told OK. */
  async write(offset: number, data: Buffer): Promise<void> {
    if (offset < this.#next) throw new WriteOrderError(`a write at byte ${offset} rewrites bytes already sent (${this.#next} so far)`);
    if (offset > this.#next) {
      if (this.#early.has(offset) || this.#earlyBytes + data.length > this.#maxEarlyBytes) {
        throw new WriteOrderError(`a write at byte ${offset} is too far ahead of byte ${this.#next}`);
      }
      const taken = new Promise<void>((resolve) => this.#early.set(offset, { data, taken: resolve }));
      this.#earlyBytes += data.length;
      await Promise.race([taken, this.#failed]);
      return this.#room();
    }
    // Not copied: ssh2 hands each SFTP packet over in a buffer of its own and never reuses it.
    this.#push(data);
    for (let waiting = this.#early.get(this.#next); waiting; waiting = this.#early.get(this.#next)) {
      this.#early.delete(this.#next);
      this.#earlyBytes -= waiting.data.length;
      this.#push(waiting.data);
      waiting.taken();
    }
    return this.#room();
  }

  /** Ends the stream and waits for S3 to store what arrived, in order (bytes after a gap are dropped). */
  async finish(): Promise<StoredObject> {
    for (const waiting of this.#early.values()) waiting.taken();
    this.#early.clear();
    this.#body.end();
    const output = await this.#done;
    return {
      bytes: this.#next,
      eTag: output.ETag?.replace(/^"(.*)"$/, '$1'),
      createdBy: this.#next < this.#partSize ? 'Put' : 'CompleteMultipartUpload',
    };
  }

  /** Stops the upload and removes the parts sent so far; nothing is stored. */
  async abort(): Promise<void> {
    await this.#upload.abort();
    this.#body.destroy();
    await this.#done.catch(() => undefined);
  }

  #push(data: Buffer): void {
    this.#body.write(data);
    this.#next += data.length;
  }

  /** Resolves once the stream wants more; rejects if the upload failed meanwhile. */
  async #room(): Promise<void> {
    if (!this.#body.writableNeedDrain) return;
    // One listener for every waiting write, however many the client has outstanding.
    this.#drained ??= once(this.#body, 'drain').finally(() => (this.#drained = undefined));
    await Promise.race([this.#drained, this.#failed]);
  }
}

/**
 * Serves READ requests of one object from a single ranged GetObject stream, reopened only when the
 * client jumps elsewhere. Requests are answered one after the other, in the order they came.
 */
export class ObjectReader {
  #position = 0;
  #stream: AsyncIterator<Buffer> | undefined;
  #body: Readable | undefined;
  #leftover: Buffer = Buffer.alloc(0);
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    /** The object's size when it was opened. */
    readonly size: number,
  ) {}

  /** Up to `length` bytes from `offset`; `undefined` at the end of the object. */
  read(offset: number, length: number): Promise<Buffer | undefined> {
    const result = this.#queue.then(() => this.#read(offset, length));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Closes the stream, if one is open. */
  close(): void {
    this.#body?.destroy();
    this.#body = undefined;
    this.#stream = undefined;
  }

  async #read(offset: number, length: number): Promise<Buffer | undefined> {
    if (offset >= this.size || length === 0) return undefined;
    if (!this.#stream || offset !== this.#position) await this.#open(offset);
    const chunks: Buffer[] = [];
    let have = 0;
    if (this.#leftover.length > 0) {
      chunks.push(this.#leftover);
      have = this.#leftover.length;
    }
    while (have < length) {
      const next = await this.#stream!.next();
      if (next.done) break;
      chunks.push(next.value);
      have += next.value.length;
    }
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const data = all.subarray(0, Math.min(length, all.length));
    this.#leftover = all.subarray(data.length);
    this.#position = offset + data.length;
    return data.length === 0 ? undefined : data;
  }

  async #open(offset: number): Promise<void> {
    this.close();
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key, Range: `bytes=${offset}-` }));
    this.#body = object.Body as Readable;
    this.#stream = this.#body[Symbol.asyncIterator]();
    this.#leftover = Buffer.alloc(0);
    this.#position = offset;
  }
}
