import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints } from '#local/endpoints';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { brokenInvariants } from './invariants.ts';
import { exampleConfig, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * The whole local runtime killed (SIGKILL: no clean stop, files and queues as the kill left them)
 * while it validates a large upload, then started again on the same data directory: the upload
 * still ends with exactly one outcome, published once, under one version number.
 */

const dir = tempDataDir('faults-restart');
const dataDir = join(dir.path, 'data');
const configFile = join(dir.path, 'symbiont.config.json');
let child: ChildProcess | undefined;

interface Clients {
  readonly endpoints: Endpoints;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly store: Store;
  close(): void;
}

/** Starts the runtime in its own process and answers clients for it once it is ready. */
async function boot(): Promise<Clients> {
  const started = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'integration', 'fixtures', 'runtime-process.ts'), configFile, dataDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    started.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve();
    });
    started.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    started.once('exit', (code) => reject(new Error(`the runtime exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
  const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
  const common = { region: endpoints.region, credentials: { ...endpoints.credentials } };
  const s3 = new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }), { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoints,
    s3,
    sqs,
    store: createStore({ client: dynamodb, tableName: endpoints.table.name }),
    close: () => [s3, sqs, dynamodb].forEach((client) => client.destroy()),
  };
}

async function kill(): Promise<void> {
  const running = child;
  if (!running || running.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    running.once('exit', () => resolve());
    running.kill('SIGKILL');
  });
}

/** A valid `readings` file of about `megabytes` MB on disk. */
function writeReadings(path: string, megabytes: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('sensor_id,taken_at,temperature,status\n');
  const start = Date.UTC(2024, 0, 1);
  let bytes = 0;
  let row = 0;
  const chunk: string[] = [];
  while (bytes < megabytes * 1_000_000) {
    const line = `S${String(row % 10_000).padStart(4, '0')},${new Date(start + Math.floor(row / 10_000) * 60_000).toISOString().replace('.000Z', 'Z')},${(row % 90) - 30}.25,ok\n`;
    chunk.push(line);
    bytes += line.length;
    row += 1;
    if (chunk.length === 10_000) out.write(chunk.splice(0).join(''));
  }
  out.write(chunk.join(''));
  return new Promise((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

beforeAll(() => {
  // The example datasets alone: this suite is about uploads.
  const example = JSON.parse(readFileSync(exampleConfig, 'utf8')) as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({ ...example, pipelines: {}, templates: {} }, null, 2));
});

afterAll(async () => {
  await kill();
  dir.remove();
});

describe('the local runtime killed mid-upload and started again', () => {
  let killedWhile: UploadRecord['status'] | undefined;
  let after: UploadRecord;
  let clients: Clients;

  beforeAll(async () => {
    const file = join(dir.path, 'big.csv');
    await writeReadings(file, 120);
    const first = await boot();
    await first.s3.send(new PutObjectCommand({ Bucket: first.endpoints.buckets.landing, Key: 'api/readings/slot-crash/big.csv', Body: readFileSync(file) }));
    // Killed as soon as the handler has taken the upload, while it reads and checks the file.
    const taken = await waitFor(
      'the upload being validated',
      async () => {
        const [upload] = (await first.store.listSlotUploads('slot-crash')).items;
        return upload && upload.status !== 'received' ? upload : undefined;
      },
      60_000,
    );
    await kill();
    killedWhile = taken.status;
    first.close();

    clients = await boot();
    after = await waitFor(
      'the upload’s outcome after the restart',
      async () => {
        const [upload] = (await clients.store.listSlotUploads('slot-crash')).items;
        return upload && ['published', 'quarantined', 'rejected', 'failed'].includes(upload.status) ? upload : undefined;
      },
      180_000,
    );
  }, 300_000);

  afterAll(() => clients?.close());

  it('was killed while the upload was being validated', () => {
    expect(killedWhile).toBe('validating');
  });

  it('publishes the upload once after the restart', async () => {
    // Assess
    expect(after).toMatchObject({ status: 'published', version: 1 });
    expect((await clients.store.listSlotUploads('slot-crash')).items).toHaveLength(1);
    expect(await brokenInvariants(clients, { datasets: ['readings', 'sites'] })).toEqual([]);
  });
});
