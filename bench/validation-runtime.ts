/**
 * Validation through the local runtime, as a sender feels it: the generated `readings` file of
 * `--size` MB (256 MB by default, 64 MB with --quick, the same files bench/validation.ts validates) PUT under
 * `api/readings/<slotId>/` in the landing bucket, timed from the PUT's answer to the upload's status
 * `published` (the S3 bridge, the queue, the ingest handler streaming the object from S3 through the
 * validator, the copy into the data bucket, the version record). Beside it, in the same run and
 * from the same S3: a plain GET of the same object streamed to /dev/null, what the target
 * compares against (published in at most 2× the GET).
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import type { Endpoints } from '#local/endpoints';
import { median, type Benchmark, type Figure } from './harness.ts';
import { startRuntime } from './noop-runtime.ts';
import { generateReadings } from './validation.ts';

const MB = 1024 * 1024;

/** DESIGN.md's `readings` dataset, the spec the generated file is shaped for. */
const readingsSpec = {
  format: 'csv',
  columns: [
    { name: 'sensor_id', type: 'string', pattern: '^S[0-9]{4}$' },
    { name: 'taken_at', type: 'timestamp' },
    { name: 'temperature', type: 'number', min: -60, max: 60, nullable: true },
    { name: 'status', type: 'string', enum: ['ok', 'degraded', 'failed'] },
  ],
  unique: ['sensor_id', 'taken_at'],
  minRows: 1,
  maxBytes: 5_000_000_000,
} as const;

/** What {@link measurePublish} measured, in milliseconds. */
export interface PublishTimings {
  readonly bytes: number;
  /** PutObject of the whole file (not part of the figure: the clock starts when it is answered). */
  readonly putMs: number;
  /** The PUT answered → the upload's status is `published`. */
  readonly publishMs: number;
  /** GetObject of the same object streamed to /dev/null, same S3, same run (median of 3). */
  readonly getMs: number;
  readonly version: number;
}

interface UploadItem {
  readonly key: string;
  readonly status: string;
  readonly version?: number;
  readonly reason?: string;
}

/** Boots the runtime on a fresh data directory with the `readings` spec and sends `file` through it. */
export async function measurePublish(file: string): Promise<PublishTimings> {
  const bytes = statSync(file).size;
  if (bytes > readingsSpec.maxBytes) throw new Error(`${file} is larger than the readings dataset's maxBytes`);
  const dir = mkdtempSync(join(tmpdir(), 'symbiont-bench-publish-'));
  const configFile = join(dir, 'symbiont.config.json');
  writeFileSync(configFile, JSON.stringify({ datasets: { readings: readingsSpec }, uploaderDatasets: ['readings'] }, null, 2));
  // In a process of its own, as `npm start` runs: the handlers read their settings once per process, and other benchmarks start runtimes here.
  const dataDir = join(dir, 'data');
  const runtime = await startRuntime(configFile, dataDir);
  const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: endpoints.region,
    credentials: { ...endpoints.credentials },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = endpoints.buckets.landing;
  const Key = `api/readings/${ulid()}/readings.csv`;
  try {
    let start = performance.now();
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: createReadStream(file, { highWaterMark: MB }), ContentLength: bytes, ContentType: 'text/csv' }));
    const putMs = performance.now() - start;

    start = performance.now();
    const upload = await untilFinal(endpoints.api, endpoints.tokens.admin, Key, 30 * 60_000);
    const publishMs = performance.now() - start;
    if (upload.status !== 'published' || upload.version === undefined) throw new Error(`the upload ended ${upload.status}: ${upload.reason ?? 'no reason given'}`);

    // The GET is quick and the machine may be shared: the median of three.
    const gets: number[] = [];
    for (let round = 0; round < 3; round++) {
      start = performance.now();
      const { Body } = await s3.send(new GetObjectCommand({ Bucket, Key }));
      await pipeline(Body as Readable, createWriteStream('/dev/null'));
      gets.push(performance.now() - start);
    }
    return { bytes, putMs, publishMs, getMs: median(gets), version: upload.version };
  } finally {
    s3.destroy();
    if (runtime.exitCode === null) {
      const exited = new Promise((resolve) => runtime.once('exit', resolve));
      runtime.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls GET /uploads until the upload of `key` has an outcome. */
async function untilFinal(api: string, token: string, key: string, timeoutMs: number): Promise<UploadItem> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const response = await fetch(`${api}/uploads?dataset=readings`, { headers: { authorization: `Bearer ${token}` } });
    if (response.ok) {
      const { items } = (await response.json()) as { items: UploadItem[] };
      const upload = items.find((item) => item.key === key);
      if (upload && ['published', 'quarantined', 'rejected', 'failed'].includes(upload.status)) return upload;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${key} had no outcome within ${timeoutMs / 1000} s`);
}

/** The benchmark `npm run bench` runs. */
export const validationRuntimeBenchmark: Benchmark = {
  name: 'validation-runtime',
  description: 'the --size MB readings file (256 MB by default, 64 MB with --quick) through the local runtime: PUT answered → version published, vs a plain GET of the same object',
  async run(context): Promise<Figure[]> {
    const size = context.sizeMb * MB;
    const file = join(context.dataDir, `readings-${size / MB}mb.csv`);
    generateReadings(file, size);
    const t = await measurePublish(file);
    const megabytes = t.bytes / MB;
    return [
      {
        metric: `local runtime, readings (${megabytes.toFixed(0)} MB): PUT answered → version ${t.version} published`,
        value: t.publishMs / 1000,
        unit: 's',
        better: 'lower',
        baseline: { label: 'plain GET of the same object to /dev/null, median of 3', value: t.getMs / 1000 },
        target: { on: 'ratio', op: '<=', value: 2 },
        note: `${(megabytes / (t.publishMs / 1000)).toFixed(0)} MB/s end to end; the PUT itself took ${(t.putMs / 1000).toFixed(1)} s`,
      },
    ];
  },
};
