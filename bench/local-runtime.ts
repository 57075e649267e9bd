import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { startLocal } from '#local/runtime';
import { median, type Benchmark, type Figure } from './harness.ts';

/**
 * The local runtime's speed as a person feels it: how long `npm start` takes to be ready, and how
 * long an object put under `api/` takes to become an upload record — beside a bare PutObject
 * round trip on the same S3 in the same run, which is what the bridge, the queue and the handler
 * add to.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(repoRoot, 'symbiont.config.json');
const freePorts = { api: 0, s3: 0, dynamodb: 0, sqs: 0, sftp: 0, stepfunctions: 0 };

/** What {@link measureLocalRuntime} measured, in milliseconds. */
export interface LocalRuntimeTimings {
  /** `npm start` in a new process, from spawn to the banner (module loading included). */
  readonly processBootMs: number;
  /** `startLocal` in this process on an empty data directory (emulators, resources, handlers). */
  readonly inProcessBootMs: number;
  /** Median, PutObject under `api/` sent → the upload listed by `GET /uploads`. */
  readonly putToRecordMs: number;
  /** Median, a PutObject outside `api/` (no bridge), same S3, same run. */
  readonly barePutMs: number;
  readonly rounds: number;
}

/** Boots the runtime (in a child process, then in this one) and times uploads through it. */
export async function measureLocalRuntime(rounds = 10): Promise<LocalRuntimeTimings> {
  const processBootMs = await timeProcessBoot();
  const dataDir = mkdtempSync(join(tmpdir(), 'symbiont-bench-'));
  const runtime = await startLocal({ configFile, dataDir, ports: freePorts });
  const { endpoints } = runtime;
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: endpoints.region,
    credentials: { ...endpoints.credentials },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const body = 'sensor_id,taken_at,temperature,status\nS0001,2024-01-01T00:00:00Z,21.5,ok\n';
  const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: key, Body: body, ContentType: 'text/csv' }));
  try {
    const bare: number[] = [];
    const toRecord: number[] = [];
    // One untimed round of each warms the connections and the handler's first invocation.
    for (let round = -1; round < rounds; round++) {
      let start = performance.now();
      await put(`sftp/bench/readings/${ulid()}.csv`);
      if (round >= 0) bare.push(performance.now() - start);

      const key = `api/readings/${ulid()}/bench.csv`;
      start = performance.now();
      await put(key);
      await untilListed(endpoints.api, endpoints.tokens.admin, key);
      if (round >= 0) toRecord.push(performance.now() - start);
    }
    return { processBootMs, inProcessBootMs: runtime.bootMs, putToRecordMs: median(toRecord), barePutMs: median(bare), rounds };
  } finally {
    s3.destroy();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The benchmark `npm run bench` runs. */
export const localRuntimeBenchmark: Benchmark = {
  name: 'local-runtime',
  description: 'npm start boot time, and PutObject under api/ → upload record through the S3 bridge, queue and handler',
  async run({ quick }) {
    const t = await measureLocalRuntime(quick ? 3 : 10);
    const figures: Figure[] = [
      { metric: 'npm start → ready (new process)', value: t.processBootMs, unit: 'ms', better: 'lower' },
      { metric: 'startLocal → ready (in process, empty data dir)', value: t.inProcessBootMs, unit: 'ms', better: 'lower' },
      {
        metric: `PutObject → upload record (median of ${t.rounds})`,
        value: t.putToRecordMs,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'bare PutObject round trip', value: t.barePutMs },
      },
    ];
    return figures;
  },
};

async function untilListed(api: string, token: string, key: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const response = await fetch(`${api}/uploads`, { headers: { authorization: `Bearer ${token}` } });
    if (response.ok) {
      const { items } = (await response.json()) as { items: { key: string }[] };
      if (items.some((item) => item.key === key)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${key} was not listed at GET /uploads within 30 s`);
}

/** Spawns `npm start` (local/main.ts under tsx) and times it from spawn to its banner. */
function timeProcessBoot(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'symbiont-bench-boot-'));
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'local', 'main.ts'), '--api-port', '0', '--s3-port', '0', '--dynamodb-port', '0', '--sqs-port', '0', '--sftp-port', '0', '--stepfunctions-port', '0', '--data-dir', dataDir],
      { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', SYMBIONT_CONFIG: configFile }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let ready: number | undefined;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready === undefined && output.includes('Ctrl-C stops')) {
        ready = performance.now() - start;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      if (ready !== undefined && code === 0) resolve(ready);
      else reject(new Error(`npm start exited with ${code} before it was ready`));
    });
  });
}
