import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ContentReader } from './content.ts';
import { InputReadError } from './errors.ts';
import { inflateOffThread } from './inflate-worker.ts';
import type { IssueCollector, Rule } from './issues.ts';

/** Why a file is not processable as sent (DESIGN.md "rejected"), as opposed to invalid. */
export interface Rejection {
  readonly rule: Extract<Rule, 'size.max' | 'gzip.ratio'>;
  readonly message: string;
}

export interface InputLimits {
  /** Largest file accepted, as sent and once unpacked. */
  readonly maxBytes: number;
  /** Largest unpacked/packed ratio accepted for gzip input. */
  readonly maxGzipRatio: number;
  /** The size the sender announced (S3 Content-Length), checked before reading anything. */
  readonly declaredBytes?: number;
  /** "the dataset "readings"", for the messages. */
  readonly datasetName: string;
  /** Inflate gzip input on a worker thread ({@link inflateOffThread}) instead of this one. */
  readonly inflateOffThread?: boolean;
}

/** What reading the input found, besides what the content reader found. */
export interface InputSummary {
  /** Bytes as received (compressed, when gzip). */
  bytes: number;
  /** Bytes after gunzip (equal to `bytes` for plain input). */
  uncompressedBytes: number;
  compressed: boolean;
  /** sha256 (hex) of the bytes as received; absent when the input was not read to its end. */
  sha256?: string;
  rejection?: Rejection;
}

/**
 * Before the early ratio check, the inflater may have read this much more input than the count
 * says; without it, a small file that compresses well could be refused on its first chunk.
 */
const READ_AHEAD_SLACK = 64 * 1024;

/** Thrown inside the gzip pipeline to stop it once the verdict is known; never escapes. */
class StopReading extends Error {}

/**
 * Reads the input once: counts and hashes the bytes as received, detects gzip by its magic bytes
 * (1f 8b, never by the name), inflates it as a stream while checking size and expansion, and
 * hands the content to `reader`. A file too large or a decompression bomb is a rejection and
 * reading stops at once; a damaged or truncated gzip stream is an issue (the file is invalid). An
 * error of the input itself is thrown as {@link InputReadError}: that is not the file's fault.
 */
export async function readInput(
  input: AsyncIterable<Uint8Array>,
  limits: InputLimits,
  reader: ContentReader,
  issues: IssueCollector,
): Promise<InputSummary> {
  const summary: InputSummary = { bytes: 0, uncompressedBytes: 0, compressed: false };
  const reject = (rejection: Rejection): void => {
    summary.rejection = rejection;
    issues.clear();
    issues.add(rejection.rule, undefined, () => ({ message: rejection.message }));
  };
  if (limits.declaredBytes !== undefined && limits.declaredBytes > limits.maxBytes) {
    summary.bytes = limits.declaredBytes;
    reject(tooLarge(limits, `is ${format(limits.declaredBytes)},`));
    return summary;
  }

  const hash = createHash('sha256');
  let complete = false;
  async function* received(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of input) {
        summary.bytes += chunk.length;
        if (summary.bytes > limits.maxBytes) {
          reject(tooLarge(limits, 'is'));
          return;
        }
        hash.update(chunk);
        yield chunk;
      }
      complete = true;
    } catch (error) {
      throw new InputReadError(`reading the file failed: ${(error as Error).message}`, undefined, { cause: error });
    }
  }

  const chunks = received()[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = head[0];
  summary.compressed = headLength >= 2 && first !== undefined && byteAt(head, 0) === 0x1f && byteAt(head, 1) === 0x8b;
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }

  if (!summary.compressed) {
    for await (const chunk of all()) {
      if (!reader.stopped) reader.push(chunk);
    }
    summary.uncompressedBytes = summary.bytes;
  } else {
    await inflate(all(), summary, limits, reader, issues, reject);
  }
  if (complete && !summary.rejection) summary.sha256 = hash.digest('hex');
  if (summary.rejection || (summary.compressed && issues.countsByRule['gzip.truncated']) || issues.countsByRule['gzip.corrupt']) {
    return summary;
  }
  reader.end();
  return summary;
}

async function inflate(
  source: AsyncIterable<Uint8Array>,
  summary: InputSummary,
  limits: InputLimits,
  reader: ContentReader,
  issues: IssueCollector,
  reject: (rejection: Rejection) => void,
): Promise<void> {
  // Stopping the pipeline from inside surfaces as an AbortError, not as the error thrown; remember why.
  let stopped = false;
  const stop = (rejection: Rejection): never => {
    reject(rejection);
    stopped = true;
    throw new StopReading();
  };
  const take = (chunk: Uint8Array): void => {
    summary.uncompressedBytes += chunk.length;
    if (summary.uncompressedBytes > limits.maxBytes) stop(tooLarge(limits, 'unpacks to more than'));
    // The announced size is the whole file; without it, what was read so far is all we know.
    const basis = Math.max(limits.declaredBytes ?? 0, summary.bytes + READ_AHEAD_SLACK);
    if (summary.uncompressedBytes > limits.maxGzipRatio * basis) stop(bomb(limits));
    if (!reader.stopped) reader.push(chunk);
  };
  try {
    if (limits.inflateOffThread) {
      await inflateOffThread(source, take);
    } else {
      await pipeline(Readable.from(source, { objectMode: false }), createGunzip(), async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) take(chunk);
      });
    }
  } catch (error) {
    if (stopped || error instanceof StopReading) return;
    if (error instanceof InputReadError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') {
      issues.add('gzip.truncated', undefined, () => ({
        message: `The compressed (gzip) file ends before its data does: it was cut off, probably while being sent or copied. The ${format(summary.uncompressedBytes)} that could be unpacked were checked; send the complete file again.`,
      }));
      return;
    }
    if (typeof code === 'string' && code.startsWith('Z_')) {
      issues.add('gzip.corrupt', undefined, () => ({
        message: `The compressed (gzip) file is damaged (${(error as Error).message}). Compress the original again and send it.`,
      }));
      return;
    }
    throw error;
  }
  // The exact check, now that the whole compressed size is known.
  if (summary.uncompressedBytes > limits.maxGzipRatio * summary.bytes) reject(bomb(limits));
}

function byteAt(chunks: readonly Uint8Array[], index: number): number | undefined {
  let rest = index;
  for (const chunk of chunks) {
    if (rest < chunk.length) return chunk[rest];
    rest -= chunk.length;
  }
  return undefined;
}

/** The message names the limit, not the bytes counted so far: those depend on how the input was chunked. */
function tooLarge(limits: InputLimits, verb: string): Rejection {
  return {
    rule: 'size.max',
    message: `The file ${verb} larger than the ${format(limits.maxBytes)} ${limits.datasetName} accepts, so it was not processed. Split it into smaller files and send them one by one.`,
  };
}

function bomb(limits: InputLimits): Rejection {
  return {
    rule: 'gzip.ratio',
    message: `The compressed file unpacks to more than ${limits.maxGzipRatio} times its size, so it is refused as a possible decompression bomb and was not processed. Send the file uncompressed, or compressed in parts.`,
  };
}

/** Bytes for people: "1.5 MB". */
export function format(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
