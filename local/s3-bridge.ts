import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { CopyObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type S3rver from 's3rver';
import type { S3rverEvent } from 's3rver';
import { monotonicFactory } from 'ulid';
import { encodeOriginalKey, ORIGINAL_KEY_METADATA } from '#ingest/arrivals';
import { landing } from '#shared/resources';
import { log as logger } from './log.ts';

/**
 * The local stand-in for the landing bucket's event notification (prefix `api/` → ingest queue).
 *
 * s3rver keeps no object versions, so for each object created under `api/` the bridge first copies
 * it to `_arrivals/<arrivalId>` (metadata `original-key` = the key it was sent to) and then sends the
 * ingest queue the S3 event notification AWS would send, naming the copy. s3rver's own in-process
 * event is not S3's shape (key not URL-encoded, colliding sequencers), so the record is built here.
 *
 * The local SFTP server announces its arrivals under `sftp/` through the same {@link S3Bridge.announce}.
 *
 * The request that created the object is answered only once its arrival is copied and announced:
 * a client that sends the same key again cannot overwrite the bytes before they are copied, and an
 * arrival the bridge could not announce fails the PUT (the client retries) instead of vanishing.
 */

/** One S3 event notification record, as S3 writes it into an SQS message body. */
export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size: number; eTag: string; sequencer: string; versionId?: string };
  };
}

/** The body of an S3 notification message. */
export interface S3EventNotification {
  Records: S3EventRecord[];
}

/** Notification configuration id the local records carry (in AWS the stack's CDK names it). */
export const LOCAL_CONFIGURATION_ID = 'symbiont-local-api-uploads';

/**
 * An object key as S3 writes it in event notifications: URL-encoded (`encodeURIComponent`), with
 * `+` for a space and `/` left as is.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

const nextSequencerCount = (() => {
  let last = 0n;
  return () => {
    // Milliseconds in the high bits, a counter in the low 20: increasing within a run and across runs.
    const candidate = BigInt(Date.now()) << 20n;
    last = candidate > last ? candidate : last + 1n;
    return last;
  };
})();

/** An S3-style sequencer: 18 upper-case hex digits that only grow. */
export function nextSequencer(): string {
  return nextSequencerCount().toString(16).toUpperCase().padStart(18, '0');
}

/** What an S3 notification record says about one created object. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Without quotes. */
  readonly eTag: string;
  readonly eventName: string;
  readonly region: string;
  readonly sourceIp?: string;
  readonly eventTime?: Date;
}

/** Builds the S3 event notification AWS sends for a created object. */
export function s3EventNotification(object: CreatedObject): S3EventNotification {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: object.region,
        eventTime: (object.eventTime ?? new Date()).toISOString(),
        eventName: object.eventName,
        userIdentity: { principalId: 'AWS:S3RVER' },
        requestParameters: { sourceIPAddress: object.sourceIp ?? '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
          'x-amz-id-2': randomBytes(48).toString('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: LOCAL_CONFIGURATION_ID,
          bucket: { name: object.bucket, ownerIdentity: { principalId: 'S3RVER' }, arn: `arn:aws:s3:::${object.bucket}` },
          object: { key: encodeS3EventKey(object.key), size: object.size, eTag: object.eTag, sequencer: nextSequencer() },
        },
      },
    ],
  };
}

/** Where the bridge sends arrivals, known once the buckets and queues exist. */
export interface BridgeTarget {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
}

/** One arrival as the bridge announced it. */
export interface AnnouncedArrival {
  readonly originalKey: string;
  readonly arrivalKey: string;
  readonly messageId: string;
}

/**
 * An object in the landing bucket to announce to the ingest queue: what the bridge hands over for
 * `api/` and the local SFTP server for `sftp/` (DESIGN.md "Flows").
 */
export interface LandingArrival {
  /** The landing key the sender used. */
  readonly key: string;
  /** The S3 event name the notification carries, e.g. `ObjectCreated:Put`. */
  readonly eventName: string;
  /** The ETag (without quotes) the creation reported; another one at copy time means the key was overwritten meanwhile. */
  readonly eTag?: string;
  /** The sender's address. @default 127.0.0.1 */
  readonly sourceIp?: string;
  /** User metadata added to the arrival copy (the SFTP server marks interrupted transfers this way). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The size the sender wrote: the copy waits until the object has it (see {@link settledHead}). */
  readonly expectedSize?: number;
}

/** Which bucket the bridge watches, and what it reports. */
export interface S3BridgeOptions {
  readonly landingBucket: string;
  readonly region: string;
  /** Called after each announced arrival (the benchmark and tests watch it). */
  readonly onArrival?: (arrival: AnnouncedArrival) => void;
}

/** What the request that created an object tells the bridge. */
interface RequestScope {
  readonly pending: Promise<unknown>[];
  readonly query: Record<string, unknown>;
  readonly ip?: string;
}

/** The bridge between the local S3 and the ingest queue. */
export interface S3Bridge {
  /** Hooks into s3rver; call before its request handler is composed (`callback()`). */
  attach(s3rver: S3rver): void;
  /** Starts forwarding; arrivals made before this wait for it. */
  connect(target: BridgeTarget): void;
  /**
   * Copies a landing object to `_arrivals/<arrivalId>` and sends the ingest queue the S3 event
   * naming the copy, as the bridge does for `api/`; waits for {@link connect}.
   */
  announce(arrival: LandingArrival): Promise<AnnouncedArrival>;
  /** Waits for the arrivals in progress; arrivals still waiting for {@link connect} fail. */
  stop(): Promise<void>;
}

/** Creates the S3 bridge for the landing bucket's `api/` prefix. */
export function createS3Bridge(options: S3BridgeOptions): S3Bridge {
  const scope = new AsyncLocalStorage<RequestScope>();
  const arrivalId = monotonicFactory();
  const inFlight = new Set<Promise<unknown>>();
  let resolveTarget!: (target: BridgeTarget) => void;
  let rejectTarget!: (error: Error) => void;
  const target = new Promise<BridgeTarget>((resolve, reject) => {
    resolveTarget = resolve;
    rejectTarget = reject;
  });
  target.catch(() => undefined);

  async function forward(event: S3rverEvent, request: RequestScope | undefined): Promise<void> {
    const record = event.Records[0];
    if (!record) return;
    const { bucket, object } = record.s3;
    // Only creations under api/ of the landing bucket; arrival copies (_arrivals/) never match.
    if (!record.eventName.startsWith('ObjectCreated:') || bucket.name !== options.landingBucket || !object.key.startsWith(landing.apiPrefix)) return;
    await announce({ key: object.key, eTag: object.eTag, eventName: eventNameOf(record.eventName, request), sourceIp: request?.ip });
  }

  async function announce(arrival: LandingArrival): Promise<AnnouncedArrival> {
    const { s3, sqs, queueUrl } = await target;
    const bucket = options.landingBucket;
    const arrivalKey = `${landing.arrivalsPrefix}${arrivalId()}`;
    const head = await settledHead(s3, bucket, arrival.key, arrival.expectedSize);
    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: arrivalKey,
        // s3rver reads the copy source with decodeURI, which leaves %2B, %23… encoded: encodeURI is its exact inverse.
        CopySource: encodeURI(`${bucket}/${arrival.key}`),
        MetadataDirective: 'REPLACE',
        ContentType: head.ContentType,
        ContentEncoding: head.ContentEncoding,
        ContentDisposition: head.ContentDisposition,
        CacheControl: head.CacheControl,
        Metadata: { ...head.Metadata, ...arrival.metadata, [ORIGINAL_KEY_METADATA]: encodeOriginalKey(arrival.key) },
      }),
    );
    const eTag = (copy.CopyObjectResult?.ETag ?? head.ETag ?? '').replace(/^"(.*)"$/, '$1');
    if (arrival.eTag !== undefined && arrival.eTag !== eTag) {
      // Another client overwrote the key between its creation and the copy; that write is announced on its own.
      logger.warn('landing object changed before its arrival copy', { key: arrival.key, expected: arrival.eTag, copied: eTag });
    }
    const notification = s3EventNotification({
      bucket,
      key: arrivalKey,
      size: head.ContentLength ?? 0,
      eTag,
      eventName: arrival.eventName,
      region: options.region,
      sourceIp: arrival.sourceIp,
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(notification) }));
    logger.info('arrival announced', { key: arrival.key, arrivalKey, sqsMessageId: sent.MessageId });
    const announced = { originalKey: arrival.key, arrivalKey, messageId: sent.MessageId ?? '' };
    options.onArrival?.(announced);
    return announced;
  }

  function track(promise: Promise<unknown>): Promise<unknown> {
    inFlight.add(promise);
    const done = () => inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  return {
    attach(s3rver) {
      // In front of every s3rver middleware: the response is sent only after these resolve.
      s3rver.middleware.unshift(async (ctx, next) => {
        const request: RequestScope = { pending: [], query: ctx.query, ip: sourceIp(ctx.ip) };
        await scope.run(request, next);
        if (request.pending.length === 0) return;
        const results = await Promise.allSettled(request.pending);
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw new Error('the object was stored but its arrival could not be announced; send it again', { cause: failure.reason });
      });
      s3rver.on('event', (event: S3rverEvent) => {
        const request = scope.getStore();
        const forwarded = track(forward(event, request));
        if (request) request.pending.push(forwarded);
        forwarded.catch((error: unknown) => logger.error('S3 bridge could not announce an arrival', { error: error as Error, key: event.Records[0]?.s3.object.key }));
      });
    },
    connect(next) {
      resolveTarget(next);
    },
    announce(arrival) {
      return track(announce(arrival)) as Promise<AnnouncedArrival>;
    },
    async stop() {
      rejectTarget(new Error('the local runtime is stopping'));
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** How long {@link settledHead} waits for an object to reach its expected size. */
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * HeadObject of `key`, once the object has `expectedSize` bytes (any size when it is undefined).
 * s3rver answers a write before its file is flushed, so a copy made at once could miss the tail.
 */
export async function settledHead(s3: S3Client, bucket: string, key: string, expectedSize?: number): Promise<HeadObjectCommandOutput> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (expectedSize === undefined || head.ContentLength === expectedSize) return head;
    if (performance.now() > deadline) throw new Error(`${key} has ${head.ContentLength} bytes, not the ${expectedSize} its sender wrote`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** s3rver calls a completed multipart upload a POST; S3 names it for what it is. */
function eventNameOf(name: string, request: RequestScope | undefined): string {
  if (name === 'ObjectCreated:Post' && request && 'uploadId' in request.query) return 'ObjectCreated:CompleteMultipartUpload';
  return name;
}

function sourceIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  return ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
}
