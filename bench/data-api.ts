import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import type { Endpoints } from '#local/endpoints';
import { startRuntime, until } from './noop-runtime.ts';
import type { Benchmark, Figure } from './harness.ts';

/**
 * The Data API's read path under load: `GET /datasets/readings/versions/latest` (bearer token,
 * router, zod validation of the answer, two table reads on dynalite) through `npm start`'s
 * runtime in its own process, hammered by autocannon — beside a bare node:http server, also in a
 * process of its own, answering the very same JSON bytes, in the same run.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 10;

export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
}

/** Runs autocannon against `url` for `seconds`; any non-2xx answer voids the run. */
export async function load(url: string, seconds: number, headers: Record<string, string> = {}): Promise<LoadFigures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors; the figures would mean nothing`);
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: result.requests.total };
}

/** A node:http server in its own process answering `body` as JSON to every request. */
async function startBareServer(body: string): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    const body = Buffer.from(process.env.BODY);
    const server = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, BODY: body }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/datasets/readings/versions/latest`, child };
}

export async function measureDataApi(seconds: number): Promise<{ api: LoadFigures; bare: LoadFigures; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'symbiont-bench-data-api-'));
  let runtime: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  try {
    const dataDir = join(dir, '.symbiont');
    runtime = await startRuntime(join(repoRoot, 'symbiont.config.json'), dataDir);
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
    const s3 = new S3Client({ endpoint: endpoints.s3, region: endpoints.region, credentials: { ...endpoints.credentials }, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: 'api/readings/bench/readings.csv', Body: readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv')) }));
    s3.destroy();

    const url = `${endpoints.api}/datasets/readings/versions/latest`;
    const headers = { authorization: `Bearer ${endpoints.tokens.scientist}` };
    const body = await until('a published readings version', async () => {
      const response = await fetch(url, { headers });
      return response.ok ? response.text() : undefined;
    });
    const server = await startBareServer(body);
    bare = server.child;

    // Untimed warm-up of both, then the measured runs one after the other (two cores: never at once).
    await load(url, 1, headers);
    await load(server.url, 1);
    const apiFigures = await load(url, seconds, headers);
    const bareFigures = await load(server.url, seconds);
    return { api: apiFigures, bare: bareFigures, bytes: Buffer.byteLength(body) };
  } finally {
    bare?.kill();
    if (runtime) {
      const exited = new Promise((resolve) => runtime!.once('exit', resolve));
      runtime.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export const dataApiBenchmark: Benchmark = {
  name: 'data-api',
  description: `GET /datasets/readings/versions/latest on the local API under autocannon (${CONNECTIONS} connections), beside a bare node:http server answering the same JSON`,
  async run({ quick }) {
    const seconds = quick ? 3 : 10;
    const { api, bare, bytes } = await measureDataApi(seconds);
    const note = `${seconds} s each, ${CONNECTIONS} connections, ${bytes}-byte answer; ${api.requests} requests to the API`;
    const figures: Figure[] = [
      {
        metric: 'GET /datasets/{name}/versions/latest throughput',
        value: api.requestsPerSecond,
        unit: 'req/s',
        better: 'higher',
        baseline: { label: 'bare node:http, same JSON', value: bare.requestsPerSecond },
        note,
      },
      {
        metric: 'GET /datasets/{name}/versions/latest latency, p99',
        value: api.p99Ms,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'bare node:http, same JSON, p99', value: bare.p99Ms },
      },
      {
        metric: 'GET /datasets/{name}/versions/latest latency, p50',
        value: api.p50Ms,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'bare node:http, same JSON, p50', value: bare.p50Ms },
      },
    ];
    return figures;
  },
};
