import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { decodeOriginalKey, ORIGINAL_KEY_METADATA } from '#ingest/arrivals';
import { log } from '#local/log';
import { startLocal, type LocalRuntime } from '#local/runtime';
import type { AnnouncedArrival } from '#local/s3-bridge';
import { freePorts, tempDataDir, waitFor } from './local-helpers.ts';
import { makeKey, describeWithSftp, sftpBatch, writeConfig, type TestKey } from './sftp-helpers.ts';

/**
 * The local SFTP server as a domain expert meets it, driven by OpenSSH's own `sftp` in batch mode:
 * logging in, the folders they see, what they may and may not do, and what reaches the ingest
 * queue. The ingest handler is a stand-in here (its work is tested with the real one in
 * sftp-ingest.test.ts): what matters is what the server stores and announces.
 */
describeWithSftp('local SFTP server', () => {
  const dataDir = tempDataDir('sftp-access');
  const work = tempDataDir('sftp-access-client');
  const arrivals: AnnouncedArrival[] = [];
  let runtime: LocalRuntime;
  let s3: S3Client;
  let bob: TestKey;
  let stranger: TestKey;
  const demo = () => ({ user: 'demo', cwd: work.path });

  beforeAll(async () => {
    bob = makeKey(work.path, 'bob_ed25519');
    stranger = makeKey(work.path, 'stranger_ed25519');
    const configFile = writeConfig(work.path, { bob: { publicKeys: [bob.publicLine], datasets: ['readings'] } });
    runtime = await startLocal({
      configFile,
      dataDir: dataDir.path,
      ports: freePorts,
      onArrival: (arrival) => arrivals.push(arrival),
      handlers: {
        ingest: async () => ({ batchItemFailures: [] }),
        api: async () => ({ statusCode: 404, headers: {}, body: '{}' }),
      },
    });
    const { endpoints } = runtime;
    s3 = new S3Client({
      endpoint: endpoints.s3,
      region: endpoints.region,
      credentials: { ...endpoints.credentials },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    writeFileSync(join(work.path, 'my.csv'), 'sensor_id,taken_at,temperature,status\nS0001,2024-01-01T00:00:00Z,21.5,ok\n');
  });

  afterAll(async () => {
    s3?.destroy();
    await runtime?.stop();
    dataDir.remove();
    work.remove();
  });

  beforeEach(() => {
    arrivals.length = 0;
  });

  const landingKeys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: runtime.endpoints.buckets.landing, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);
  const landingText = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: runtime.endpoints.buckets.landing, Key: key }))).Body!.transformToString();

  it('runs the command the banner prints, verbatim, and stores the file under the demo user', async () => {
    // Prepare
    const command = runtime.endpoints.sftp.command!;

    // Act
    const { stderr } = await promisify(execFile)('bash', ['-c', command], { cwd: work.path, timeout: 60_000 });

    // Assess
    expect(stderr).toBe('');
    expect(await landingText('sftp/demo/readings/my.csv')).toBe(readFileSync(join(work.path, 'my.csv'), 'utf8'));
  });

  it('announces a closed upload once, as an _arrivals copy naming the key it was sent to', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put my.csv readings/announced.csv']);
    await waitFor('the announcement', () => (arrivals.length > 0 ? arrivals : undefined));

    // Assess
    expect(run.code).toBe(0);
    expect(arrivals).toEqual([expect.objectContaining({ originalKey: 'sftp/demo/readings/announced.csv', arrivalKey: expect.stringMatching(/^_arrivals\//) })]);
    const copy = await s3.send(new GetObjectCommand({ Bucket: runtime.endpoints.buckets.landing, Key: arrivals[0]!.arrivalKey }));
    expect(decodeOriginalKey(copy.Metadata?.[ORIGINAL_KEY_METADATA] ?? '')).toBe('sftp/demo/readings/announced.csv');
  });

  it('shows a user one folder per dataset they may use, and nothing else, at the root', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['ls -1']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((line) => !line.startsWith('sftp>') && line.trim() !== '')).toEqual(['readings', 'sites']);
  });

  it('gives back, byte for byte, a file larger than one multipart part', async () => {
    // Prepare
    const body = randomBytes(20 * 1024 * 1024 + 123);
    writeFileSync(join(work.path, 'large.bin'), body);

    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put large.bin readings/large.bin.tmp', 'get readings/large.bin.tmp large-back.bin']);

    // Assess
    expect(run.code).toBe(0);
    const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    expect(sha(readFileSync(join(work.path, 'large-back.bin')))).toBe(sha(body));
  });

  it('keeps two users uploading at once apart: each sees and stores only its own files', async () => {
    // Prepare
    writeFileSync(join(work.path, 'from-demo.csv'), 'demo\n');
    writeFileSync(join(work.path, 'from-bob.csv'), 'bob\n');

    // Act
    const [byDemo, byBob] = await Promise.all([
      sftpBatch(runtime.endpoints, demo(), ['put from-demo.csv readings/same-name.csv']),
      sftpBatch(runtime.endpoints, { user: 'bob', privateKeyPath: bob.privateKeyPath, cwd: work.path }, ['put from-bob.csv readings/same-name.csv']),
    ]);
    const bobsView = await sftpBatch(runtime.endpoints, { user: 'bob', privateKeyPath: bob.privateKeyPath, cwd: work.path }, ['ls -1 /', 'ls -1 /readings']);

    // Assess
    expect([byDemo.code, byBob.code]).toEqual([0, 0]);
    expect(await landingText('sftp/demo/readings/same-name.csv')).toBe('demo\n');
    expect(await landingText('sftp/bob/readings/same-name.csv')).toBe('bob\n');
    expect(bobsView.stdout).toContain('same-name.csv');
    expect(bobsView.stdout).not.toMatch(/announced\.csv|my\.csv|sites/);
  });

  it('removes a file of the user\'s with rm', async () => {
    // Prepare
    await sftpBatch(runtime.endpoints, demo(), ['put my.csv readings/to-remove.csv']);

    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['rm readings/to-remove.csv']);

    // Assess
    expect(run.code).toBe(0);
    expect(await landingKeys('sftp/demo/readings/to-remove.csv')).toEqual([]);
  });

  it('announces a .filepart upload only when it is renamed into place, under the final name', async () => {
    // Act
    const uploaded = await sftpBatch(runtime.endpoints, demo(), ['put my.csv readings/winscp.csv.filepart']);
    const announcedBeforeRename = arrivals.length;
    const renamed = await sftpBatch(runtime.endpoints, demo(), ['rename readings/winscp.csv.filepart readings/winscp.csv']);
    await waitFor('the announcement', () => (arrivals.length > 0 ? arrivals : undefined));

    // Assess
    expect([uploaded.code, renamed.code]).toEqual([0, 0]);
    expect(announcedBeforeRename).toBe(0);
    expect(arrivals.map((a) => a.originalKey)).toEqual(['sftp/demo/readings/winscp.csv']);
    expect(await landingKeys('sftp/demo/readings/winscp.csv')).toEqual(['sftp/demo/readings/winscp.csv']);
  });

  it('refuses a key that is not one of the user\'s', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, { user: 'demo', privateKeyPath: stranger.privateKeyPath }, ['ls']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied (publickey)');
  });

  it("refuses another user's key for this user", async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, { user: 'demo', privateKeyPath: bob.privateKeyPath }, ['ls']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied (publickey)');
  });

  it('refuses password authentication', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, { user: 'demo', authOptions: ['-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no'] }, ['ls']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied (publickey)');
  });

  it('refuses a put whose path climbs above the root', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put my.csv ../../etc/x']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
  });

  it('refuses to cd above the root', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['cd /../..']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
  });

  it("refuses a put into another user's folder and stores nothing there", async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put my.csv /bob/readings/x.csv', 'put my.csv /bob/x.csv']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
    expect(await landingKeys('sftp/bob/readings/x.csv')).toEqual([]);
  });

  it('refuses a dataset folder the user may not use', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, { user: 'bob', privateKeyPath: bob.privateKeyPath, cwd: work.path }, ['put my.csv sites/x.jsonl']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
    expect(await landingKeys('sftp/bob/sites/')).toEqual([]);
  });

  it('refuses names with direction-changing or invisible characters', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put my.csv "readings/invoice\u202Ecsv.exe"']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
    expect(await landingKeys('sftp/demo/readings/invoice')).toEqual([]);
  });

  it('refuses folders inside dataset folders', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['mkdir readings/sub']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
  });

  it('refuses symbolic links', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['symlink readings/my.csv readings/link.csv']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
  });

  it('refuses writing a .result.txt file, which only Symbiont writes', async () => {
    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put my.csv readings/my.csv.result.txt']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Permission denied');
  });

  it('logs a refused request with the user, the operation and the path', async () => {
    // Prepare
    const warn = vi.spyOn(log, 'warn');

    // Act
    await sftpBatch(runtime.endpoints, demo(), ['put my.csv ../../etc/passwd']);

    // Assess
    expect(warn).toHaveBeenCalledWith('SFTP request refused', expect.objectContaining({ user: 'demo', op: 'open', path: '/../../etc/passwd' }));
    warn.mockRestore();
  });
});
