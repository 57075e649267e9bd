/**
 * Validation speed: throughput and peak RSS on two generated files with a unique key — a
 * `readings` CSV and a CSV of 10 mixed columns, each `--size` MB (256 MB by default, 64 MB with
 * --quick, 1 GB with --size 1024) — the `readings` file gzipped, and the baselines measured in the
 * same run: DuckDB on one thread (when `@duckdb/node-api` is installed), node's gunzip alone for
 * gzip input, and csv-parse + zod + a Set on a smaller file (a sixteenth of --size, 16 to 256 MB).
 * Best of 3 runs at --size 1024 and up, one run below. Each run is its own process (bench/validation-worker.ts, bundled by esbuild and
 * run by node, as a Lambda function runs), so its peak RSS is its own.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, renameSync, statSync, closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { build } from 'esbuild';
import type { Benchmark, Figure } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const MB = 1024 * 1024;

interface WorkerResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
  readonly rows: number;
  readonly valid: boolean;
  readonly label: string;
}

/** Writes `path` through `write` (given a function that appends text) unless it exists; atomically. */
function generate(path: string, write: (append: (text: string) => void) => void): void {
  if (existsSync(path)) return;
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  try {
    let pending: string[] = [];
    let pendingLength = 0;
    write((text) => {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength > 1 << 20) {
        writeSync(fd, pending.join(''));
        pending = [];
        pendingLength = 0;
      }
    });
    writeSync(fd, pending.join(''));
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
}

/**
 * A valid `readings` CSV of about `bytes` bytes: 10,000 sensors, one reading a minute each, so every
 * (sensor_id, taken_at) key is distinct and the key check holds every row.
 */
export function generateReadings(path: string, bytes: number): void {
  generate(path, (append) => {
    append('sensor_id,taken_at,temperature,status\n');
    const statuses = ['ok', 'ok', 'ok', 'degraded', 'failed'];
    const start = Date.UTC(2024, 0, 1);
    let written = 0;
    let minute = '';
    for (let i = 0; written < bytes; i++) {
      if (i % 10_000 === 0) minute = new Date(start + (i / 10_000) * 60_000).toISOString().replace('.000Z', 'Z');
      const temperature = i % 50 === 0 ? '' : (((i * 37) % 1200) / 10 - 60).toFixed(1);
      const line = `S${String(i % 10_000).padStart(4, '0')},${minute},${temperature},${statuses[i % statuses.length]}\n`;
      append(line);
      written += line.length;
    }
  });
}

/** A valid CSV of about `bytes` bytes in the 10 mixed columns of the worker's `mixed` spec; `id` is the key. */
export function generateMixed(path: string, bytes: number): void {
  generate(path, (append) => {
    append('id,customer,created_at,shipped_on,amount,quantity,currency,express,country,note\n');
    const currencies = ['EUR', 'USD', 'GBP', 'CHF'];
    const countries = ['FR', 'DE', 'CH', 'GB', 'US', 'IT', 'ES', 'NL'];
    const notes = ['', 'Leave at the door', '"Call first, then deliver"', 'Fragile', '"Livraison après 18 h, merci"', '', 'Gift wrap'];
    const start = Date.UTC(2023, 0, 1);
    let written = 0;
    for (let i = 1; written < bytes; i++) {
      const created = new Date(start + i * 7_000).toISOString().replace('.000Z', 'Z');
      const shipped = i % 5 === 0 ? '' : created.slice(0, 10);
      const amount = ((i * 7919) % 1_000_000) / 100;
      const line = `${i},C${String((i * 31) % 1_000_000).padStart(6, '0')},${created},${shipped},${amount},${1 + (i % 20)},${currencies[i % 4]},${i % 3 === 0 ? 'true' : 'false'},${countries[i % 8]},${notes[i % notes.length]}\n`;
      append(line);
      written += Buffer.byteLength(line);
    }
  });
}

async function gzipFile(from: string, to: string): Promise<void> {
  if (existsSync(to)) return;
  await pipeline(createReadStream(from), createGzip(), createWriteStream(`${to}.partial`));
  renameSync(`${to}.partial`, to);
}

/** The worker as esbuild bundles it for a function: one file node runs without a TypeScript loader. */
async function bundleWorker(dataDir: string): Promise<string> {
  const outfile = join(dataDir, 'validation-worker.mjs');
  await build({
    entryPoints: [join(root, 'bench', 'validation-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    external: ['@duckdb/node-api'],
    // csv-parse and others still call require() in places.
    banner: { js: "import { createRequire as symbiontRequire } from 'node:module'; const require = symbiontRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

function duckdbInstalled(): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('@duckdb/node-api');
    return true;
  } catch {
    return false;
  }
}

async function measure(worker: string, engine: string, spec: string, file: string): Promise<WorkerResult> {
  const { stdout } = await run(process.execPath, [worker, engine, spec, file], { cwd: root, maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
  if (!result.valid) throw new Error(`${engine} judged the generated ${spec} file invalid; the benchmark compares like with like only on a valid file`);
  return result;
}

/** The best of `rounds` runs (the machine is shared: the fastest run is the least disturbed). */
async function best(rounds: number, worker: string, engine: string, spec: string, file: string): Promise<WorkerResult> {
  let bestRun: WorkerResult | undefined;
  for (let i = 0; i < rounds; i++) {
    const result = await measure(worker, engine, spec, file);
    if (!bestRun || result.seconds < bestRun.seconds) bestRun = { ...result, maxRssBytes: Math.max(result.maxRssBytes, bestRun?.maxRssBytes ?? 0) };
    else bestRun = { ...bestRun, maxRssBytes: Math.max(result.maxRssBytes, bestRun.maxRssBytes) };
  }
  return bestRun!;
}

/**
 * Runs of each engine on each large file at --size 1024 and up; the best counts. Smaller sizes run
 * once, so that a default `npm run bench` fits in 10 minutes on 2 cores.
 */
const ROUNDS = 3;

/**
 * The csv-parse baseline's file size for large files of `sizeMb`: a sixteenth, between 16 and
 * 256 MB (64 MB at --size 1024, 16 MB at the default 256): the baseline crawls at 1–5 MB/s.
 */
export function csvParseSizeMb(sizeMb: number): number {
  return Math.min(256, Math.max(16, Math.round(sizeMb / 16)));
}

const NO_DUCKDB = 'DuckDB baseline not installed (npm i -D @duckdb/node-api)';

export const validationBenchmark: Benchmark = {
  name: 'validation',
  description: 'validation throughput and peak RSS: --size MB readings and 10-column CSVs with a unique key (256 MB by default, 64 MB with --quick), gzip, vs DuckDB 1 thread',
  async run(context): Promise<Figure[]> {
    const size = context.sizeMb * MB;
    const rounds = context.quick || context.sizeMb < 1024 ? 1 : ROUNDS;
    const readings = join(context.dataDir, `readings-${size / MB}mb.csv`);
    const mixed = join(context.dataDir, `mixed-${size / MB}mb.csv`);
    // The Validation issue's comparison, csv-parse + zod + a Set, on a smaller file: the baseline runs at 1–5 MB/s.
    const compareSize = csvParseSizeMb(context.sizeMb) * MB;
    const small = join(context.dataDir, `readings-${compareSize / MB}mb.csv`);
    generateReadings(readings, size);
    generateMixed(mixed, size);
    generateReadings(small, compareSize);
    await gzipFile(readings, `${readings}.gz`);
    const worker = await bundleWorker(context.dataDir);
    const duckdb = duckdbInstalled();

    const figures: Figure[] = [];
    for (const [spec, file] of [['readings', readings], ['mixed', mixed]] as const) {
      const megabytes = statSync(file).size / MB;
      const ours = await best(rounds, worker, 'symbiont', spec, file);
      const theirs = duckdb ? await best(rounds, worker, 'duckdb', spec, file) : undefined;
      const what = `${spec} (${megabytes.toFixed(0)} MB, ${ours.rows.toLocaleString('en')} rows, unique key)`;
      const cpu = `one core: ${(megabytes / ours.cpuSeconds).toFixed(0)} MB/s of CPU time`;
      figures.push(
        {
          metric: `throughput, ${what}`,
          value: megabytes / ours.seconds,
          unit: 'MB/s',
          better: 'higher',
          ...(theirs ? { baseline: { label: theirs.label, value: megabytes / theirs.seconds } } : {}),
          target: { on: 'value', op: '>=', value: 150 },
          note: theirs ? cpu : `${cpu}; ${NO_DUCKDB}`,
        },
        {
          metric: `throughput vs DuckDB 1 thread, ${spec}`,
          value: megabytes / ours.seconds,
          unit: 'MB/s',
          better: 'higher',
          ...(theirs ? { baseline: { label: theirs.label, value: megabytes / theirs.seconds } } : {}),
          target: { on: 'ratio', op: '>=', value: 1.5 },
          ...(theirs ? {} : { note: NO_DUCKDB }),
        },
        ...(theirs
          ? [
              {
                // On a shared machine the wall clock says how busy the neighbours were; CPU time says what each engine costs.
                metric: `throughput vs DuckDB 1 thread, ${spec}, CPU time`,
                value: megabytes / ours.cpuSeconds,
                unit: 'MB/s',
                better: 'higher',
                baseline: { label: `${theirs.label}, CPU time`, value: megabytes / theirs.cpuSeconds },
              } satisfies Figure,
            ]
          : []),
        {
          metric: `peak RSS, ${what}`,
          value: ours.maxRssBytes / MB,
          unit: 'MB',
          better: 'lower',
          ...(theirs ? { baseline: { label: theirs.label, value: theirs.maxRssBytes / MB } } : {}),
          ...(spec === 'readings' ? { target: { on: 'value', op: '<=', value: 160 } as const } : {}),
        },
      );
    }

    const gzipped = `${readings}.gz`;
    const unpacked = statSync(readings).size / MB;
    const ours = await best(rounds, worker, 'symbiont', 'readings', gzipped);
    const inflate = await best(rounds, worker, 'gunzip', 'readings', gzipped);
    const here = await measure(worker, 'symbiont-gunzip-here', 'readings', gzipped);
    figures.push({
      metric: `gzip input, readings (${(statSync(gzipped).size / MB).toFixed(0)} MB → ${unpacked.toFixed(0)} MB), uncompressed bytes`,
      value: unpacked / ours.seconds,
      unit: 'MB/s',
      better: 'higher',
      baseline: { label: inflate.label, value: unpacked / inflate.seconds },
      target: { on: 'value', op: '>=', value: 100 },
      note: `peak RSS ${(ours.maxRssBytes / MB).toFixed(0)} MB`,
    });
    figures.push({
      metric: 'gzip input, inflated on a worker thread vs on the main thread',
      value: unpacked / ours.seconds,
      unit: 'MB/s',
      better: 'higher',
      baseline: { label: 'inflated on the main thread', value: unpacked / here.seconds },
      note: `peak RSS ${(ours.maxRssBytes / MB).toFixed(0)} MB vs ${(here.maxRssBytes / MB).toFixed(0)} MB`,
    });

    const smallOurs = await measure(worker, 'symbiont', 'readings', small);
    const smallTheirs = await measure(worker, 'csv-parse', 'readings', small);
    figures.push(
      {
        metric: `throughput, readings (${compareSize / MB} MB) vs csv-parse`,
        value: statSync(small).size / MB / smallOurs.seconds,
        unit: 'MB/s',
        better: 'higher',
        baseline: { label: smallTheirs.label, value: statSync(small).size / MB / smallTheirs.seconds },
      },
      {
        metric: `peak RSS, readings (${compareSize / MB} MB) vs csv-parse`,
        value: smallOurs.maxRssBytes / MB,
        unit: 'MB',
        better: 'lower',
        baseline: { label: smallTheirs.label, value: smallTheirs.maxRssBytes / MB },
      },
    );
    return figures;
  },
};
