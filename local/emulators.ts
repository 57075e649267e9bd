import { createServer, type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { LOCAL_CREDENTIALS } from './clients.ts';
import { log as logger } from './log.ts';
import { checkS3Key, checkS3Signature, sendS3Refusal } from './s3-signatures.ts';
import { PortInUseError } from './errors.ts';
import { close, listen, LOCAL_HOST, localUrl } from './net.ts';
import { portRemedy } from './settings.ts';

/** One running emulator. */
export interface Emulator {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

/** The S3 emulator, with the s3rver instance the S3 bridge listens to. */
export interface S3Emulator extends Emulator {
  readonly s3rver: S3rver;
}

/**
 * s3rver with its objects under `<dataDir>/s3`. It is served by our own node:http server so that a
 * taken port is an error we can explain (s3rver's own `run()` lets it escape as an unhandled event).
 * `prepare` runs before the request handler is composed: that is where the S3 bridge puts its hook.
 */
export async function startS3(dataDir: string, port: number, prepare?: (s3rver: S3rver) => void): Promise<S3Emulator> {
  const directory = join(dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  const s3rver = new S3rver({ directory, silent: true, allowMismatchedSignatures: false });
  prepare?.(s3rver);
  s3rver.on('error', (error: unknown) => {
    const status = (error as { status?: number }).status ?? 500;
    if (status >= 500) logger.error('S3 emulator request failed', { error: error as Error });
  });
  // s3rver checks no V4 signature: the local runtime does, so a tampered, re-pointed, expired or
  // unsigned request is refused here as S3 refuses it.
  const serve = s3rver.callback();
  const server = createServer((req, res) => {
    const refusal = checkS3Signature(req, LOCAL_CREDENTIALS) ?? checkS3Key(req);
    if (!refusal) return void serve(req, res);
    logger.warn('S3 request refused', { method: req.method, path: (req.url ?? '').split('?')[0], code: refusal.code });
    req.resume();
    sendS3Refusal(res, refusal);
  });
  const actual = await listen(server, port, 's3');
  return { s3rver, port: actual, url: localUrl(actual), stop: () => close(server) };
}

/**
 * dynalite with its LevelDB store under `<dataDir>/dynamodb`. Tables become ACTIVE at once: the
 * emulated creation delay only slows boot down.
 */
export async function startDynamoDb(dataDir: string, port: number): Promise<Emulator> {
  const path = join(dataDir, 'dynamodb');
  mkdirSync(path, { recursive: true });
  // dynalite opens its store as soon as it is created.
  const server: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let actual: number;
  try {
    actual = await listen(server, port, 'dynamodb');
  } catch (error) {
    // dynalite closes its store only through a listening server's close(); without this a later
    // start in the same process could not open the store again.
    await listen(server, 0, 'dynamodb');
    await close(server);
    throw error;
  }
  return { port: actual, url: localUrl(actual), stop: () => close(server) };
}

/**
 * fauxqs (SQS) with its SQLite store under `<dataDir>/sqs`, so queues and in-flight messages survive
 * a restart. Queue URLs must be built with {@link queueUrl}: the URLs fauxqs stores keep the port of
 * the run that created the queue.
 */
export async function startSqs(dataDir: string, port: number, region: string): Promise<Emulator> {
  const directory = join(dataDir, 'sqs');
  mkdirSync(directory, { recursive: true });
  try {
    const server = await onLoopback(() => startFauxqs({ port, logger: false, dataDir: directory, defaultRegion: region }));
    return { port: server.port, url: localUrl(server.port), stop: () => server.stop() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError('sqs', port, portRemedy('sqs'), { cause: error });
    throw error;
  }
}

/**
 * Runs `start` with listening on every interface turned into listening on loopback. fauxqs fixes
 * its host to 0.0.0.0 whatever it is given, and it checks no signatures: without this, anyone who
 * reaches the machine could read and send the local queues. Only listens asked for 0.0.0.0 change
 * (every other local server asks for 127.0.0.1 itself), and only while `start` runs.
 */
async function onLoopback<T>(start: () => Promise<T>): Promise<T> {
  const listen = NetServer.prototype.listen;
  NetServer.prototype.listen = function (this: NetServer, ...args: unknown[]) {
    const [options] = args;
    if (typeof options === 'object' && options !== null && (options as { host?: string }).host === '0.0.0.0') args[0] = { ...options, host: LOCAL_HOST };
    return (listen as (...a: unknown[]) => NetServer).apply(this, args);
  } as typeof listen;
  try {
    return await start();
  } finally {
    NetServer.prototype.listen = listen;
  }
}

/** fauxqs's account id in queue URLs and ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * The URL of a local queue on this run's port. fauxqs finds a queue by the last path segment, so
 * this URL keeps working whatever port the queue was created on.
 */
export function queueUrl(sqsUrl: string, name: string): string {
  return `${sqsUrl}/${LOCAL_ACCOUNT_ID}/${name}`;
}

/** The ARN of a local queue. */
export function queueArn(region: string, name: string): string {
  return `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${name}`;
}
