import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.ts';
import { captureIo, startMockApi, tokens, type MockApi } from './cli-fixtures.ts';

/**
 * `symbiont datasets download`: the API hands out a presigned URL (here a loopback server), the
 * CLI streams it to a temporary file, checks the sha256 and only then gives it its name.
 */

const BYTES = Buffer.from('sensor_id,taken_at,temperature,status\nS0001,2025-01-06T00:00:00Z,4.5,ok\n');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let objects: Server;
let objectsUrl: string;
let claimedSha = sha256(BYTES);
let api: MockApi;
let dir: string;

beforeAll(async () => {
  objects = createServer((_req, res) => res.end(BYTES));
  await new Promise<void>((resolve) => objects.listen(0, '127.0.0.1', resolve));
  objectsUrl = `http://127.0.0.1:${(objects.address() as AddressInfo).port}/symbiont-dev-data/datasets/readings/v3/day-3.csv?X-Amz-Signature=x`;
  api = await startMockApi(() => ({
    status: 200,
    body: { dataset: 'readings', version: 3, file: 'day-3.csv', fileName: 'readings-v3-day-3.csv', url: objectsUrl, expiresAt: '2025-01-07T10:15:00.000Z', sha256: claimedSha, bytes: BYTES.length, rows: 1 },
  }));
});

afterAll(async () => {
  await api.close();
  await new Promise((resolve) => objects.close(resolve));
});

const dirs: string[] = [];
const fresh = () => {
  dir = mkdtempSync(join(tmpdir(), 'symbiont-download-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('datasets download', () => {
  it('saves the version under its download name once its sha256 matches', async () => {
    // Prepare
    claimedSha = sha256(BYTES);
    const { io, stdout } = captureIo({}, fresh());

    // Act
    const code = await run(['datasets', 'download', 'readings', '--api', api.url, '--token', tokens.scientist], io);

    // Assess
    expect(code).toBe(0);
    expect(readdirSync(dir)).toEqual(['readings-v3-day-3.csv']);
    expect(readFileSync(join(dir, 'readings-v3-day-3.csv'))).toEqual(BYTES);
    expect(stdout()).toMatch(/Saved readings v3 to .*readings-v3-day-3\.csv .*checked/);
    expect(api.requests.at(-1)?.url).toBe('/datasets/readings/versions/latest/download');
  });

  it('leaves nothing on disk and exits 1 when the sha256 does not match', async () => {
    claimedSha = 'f'.repeat(64);
    const { io, stderr } = captureIo({}, fresh());

    const code = await run(['datasets', 'download', 'readings', 'v3', '-o', 'out.csv', '--api', api.url, '--token', tokens.scientist], io);

    expect(code).toBe(1);
    expect(stderr()).toMatch(/sha256 is [0-9a-f]{64}, not the version's f{64}: nothing was saved/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prints only the presigned URL with --url-only', async () => {
    claimedSha = sha256(BYTES);
    const { io, stdout } = captureIo({}, fresh());

    const code = await run(['datasets', 'download', 'readings', '--url-only', '--expires-in', '60', '--api', api.url, '--token', tokens.scientist], io);

    expect(code).toBe(0);
    expect(stdout()).toBe(`${objectsUrl}\n`);
    expect(api.requests.at(-1)?.url).toBe('/datasets/readings/versions/latest/download?expiresIn=60');
    expect(readdirSync(dir)).toEqual([]);
  });
});
