import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from '#local/endpoints';
import type { Benchmark, Figure } from './harness.ts';

/**
 * The local SFTP server under a big file: OpenSSH's `sftp -b` puts one file through a runtime
 * started for the purpose in a process of its own (so its memory is its own), beside a plain `cp`
 * of the same file in the same run. The server streams uploads to S3 in bounded parts; its peak
 * memory must not grow with the file.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(repoRoot, 'symbiont.config.json');
const MB = 1024 * 1024;

/** The memory ceiling the runtime must stay under while it receives the file. */
export const SFTP_PEAK_RSS_TARGET_MB = 300;

/** What {@link measureSftpUpload} measured. */
export interface SftpUploadFigures {
  readonly bytes: number;
  /** `sftp -b` spawned → exited (the CLOSE is answered once the file is stored and announced). */
  readonly uploadMs: number;
  /** `cp` of the same file, same run. */
  readonly copyMs: number;
  /** The runtime's resident memory once ready, before the upload. */
  readonly idleRssMb: number;
  /** The highest resident memory sampled while the file was sent. */
  readonly peakRssMb: number;
  /** The kernel's high-water mark of resident memory (VmHWM) when the upload ended. */
  readonly highWaterMb: number;
}

/** Generates (once, kept in `dataDir`) a valid `readings` CSV of about `bytes`, then measures. */
export async function measureSftpUpload(dataDir: string, bytes: number): Promise<SftpUploadFigures> {
  const file = await readingsFile(dataDir, bytes);
  const size = statSync(file).size;
  const copyMs = await timeCopy(file);

  const runtimeDir = mkdtempSync(join(tmpdir(), 'symbiont-bench-sftp-'));
  const runtime = await startRuntime(runtimeDir);
  try {
    const endpoints = JSON.parse(readFileSync(join(runtimeDir, 'endpoints.json'), 'utf8')) as Endpoints;
    const idleRssMb = memoryOf(runtime.pid!).rssMb;
    let peakRssMb = idleRssMb;
    const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, memoryOf(runtime.pid!).rssMb)), 50);
    const started = performance.now();
    const code = await sftpPut(endpoints, file, `${endpoints.sftp.datasets[0]}/bench.csv`);
    const uploadMs = performance.now() - started;
    clearInterval(sampler);
    const { rssMb, highWaterMb } = memoryOf(runtime.pid!);
    if (code !== 0) throw new Error(`sftp put exited with ${code}`);
    return { bytes: size, uploadMs, copyMs, idleRssMb, peakRssMb: Math.max(peakRssMb, rssMb), highWaterMb };
  } finally {
    await stopRuntime(runtime);
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}

/** The benchmark `npm run bench` runs. */
export const sftpBenchmark: Benchmark = {
  name: 'sftp',
  description: 'OpenSSH sftp -b put of a --size MB file (256 MB by default, 64 MB with --quick) through the local SFTP server, beside cp of the same file; the runtime\'s peak memory',
  async run({ dataDir, sizeMb }) {
    const f = await measureSftpUpload(dataDir, sizeMb * MB);
    const size = `${(f.bytes / MB).toFixed(0)} MB`;
    const figures: Figure[] = [
      {
        metric: `SFTP put of ${size} (stored in S3 and announced)`,
        value: f.bytes / MB / (f.uploadMs / 1000),
        unit: 'MB/s',
        better: 'higher',
        baseline: { label: 'cp of the same file', value: f.bytes / MB / (f.copyMs / 1000) },
      },
      {
        metric: `runtime peak RSS while receiving ${size}`,
        value: f.peakRssMb,
        unit: 'MB',
        better: 'lower',
        baseline: { label: 'idle runtime', value: f.idleRssMb },
        target: { on: 'value', op: '<=', value: SFTP_PEAK_RSS_TARGET_MB },
        note: `sampled every 50 ms; VmHWM ${f.highWaterMb.toFixed(0)} MB when the put ended`,
      },
    ];
    return figures;
  },
};

/** A `readings` file of valid rows with a unique key, about `bytes` long, made once. */
async function readingsFile(dataDir: string, bytes: number): Promise<string> {
  const file = join(dataDir, `sftp-readings-${Math.round(bytes / MB)}mb.csv`);
  if (existsSync(file)) return file;
  mkdirSync(dataDir, { recursive: true });
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  out.write('sensor_id,taken_at,temperature,status\n');
  const statuses = ['ok', 'ok', 'ok', 'degraded', 'failed'];
  let written = 0;
  const start = Date.UTC(2024, 0, 1);
  for (let minute = 0; written < bytes; minute++) {
    const takenAt = new Date(start + minute * 60_000).toISOString().replace('.000Z', 'Z');
    let block = '';
    for (let sensor = 0; sensor < 1000; sensor++) {
      block += `S${String(sensor).padStart(4, '0')},${takenAt},${(((sensor * 7 + minute) % 900) / 10 - 30).toFixed(1)},${statuses[(sensor + minute) % 5]}\n`;
    }
    written += block.length;
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(partial, file);
  return file;
}

/** Milliseconds `cp` takes for the file (page cache warmed by a first copy, as for the upload). */
async function timeCopy(file: string): Promise<number> {
  const target = join(tmpdir(), `symbiont-bench-cp-${process.pid}`);
  try {
    await copyFile(file, target);
    rmSync(target);
    const started = performance.now();
    const cp = spawn('cp', [file, target], { stdio: 'inherit' });
    const [code] = (await once(cp, 'exit')) as [number];
    if (code !== 0) throw new Error(`cp exited with ${code}`);
    return performance.now() - started;
  } finally {
    rmSync(target, { force: true });
  }
}

/** `npm start` (local/main.ts) in a child process on free ports; resolves once its banner is out. */
async function startRuntime(dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'local', 'main.ts'), ...['api', 's3', 'dynamodb', 'sqs', 'sftp', 'stepfunctions'].flatMap((s) => [`--${s}-port`, '0']), '--data-dir', dataDir],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', SYMBIONT_CONFIG: configFile, POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready`)));
  });
  // Keep draining: log lines must not block the runtime on a full pipe.
  child.stdout!.resume();
  return child;
}

/** Ctrl-C, then a kill if it still validates the file after a few seconds (the figures are taken). */
async function stopRuntime(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Puts `file` at `remote` as the demo user with OpenSSH's `sftp -b`; resolves its exit code. */
async function sftpPut(endpoints: Endpoints, file: string, remote: string): Promise<number | null> {
  const { sftp } = endpoints;
  const child = spawn(
    'sftp',
    [
      '-F', '/dev/null',
      '-i', sftp.privateKeyPath!,
      '-o', `UserKnownHostsFile=${sftp.knownHostsPath}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'BatchMode=yes',
      '-P', String(sftp.port),
      '-b', '-',
      `${sftp.user}@${sftp.host}`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  child.stdin!.end(`put ${file} ${remote}\n`);
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** Resident memory now and its high-water mark, from /proc/<pid>/status (Linux). */
function memoryOf(pid: number): { rssMb: number; highWaterMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: (kb('VmRSS') * 1024) / MB, highWaterMb: (kb('VmHWM') * 1024) / MB };
}
