import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { freePorts, tempDataDir, waitFor } from './local-helpers.ts';
import { getWhenThere, outcomeOf, describeWithSftp, sftpBatch, uploadsOf, writeConfig } from './sftp-helpers.ts';

/**
 * SFTP uploads through the whole local pipeline with the real handlers: OpenSSH's `sftp` puts a
 * file, the ingest handler validates it, and the sender reads the outcome in `<file>.result.txt`
 * beside it — as a domain expert would.
 */
describeWithSftp('SFTP uploads, end to end', () => {
  const dataDir = tempDataDir('sftp-ingest');
  const work = tempDataDir('sftp-ingest-client');
  let runtime: LocalRuntime;
  const demo = () => ({ user: 'demo', cwd: work.path });
  const header = 'sensor_id,taken_at,temperature,status\n';

  beforeAll(async () => {
    const configFile = writeConfig(work.path, {});
    runtime = await startLocal({ configFile, dataDir: dataDir.path, ports: freePorts, queueOverrides: { ingest: { visibilityTimeoutSeconds: 5 } } });
  });

  afterAll(async () => {
    await runtime?.stop();
    dataDir.remove();
    work.remove();
  });

  it('publishes a valid file as a version and says so in its result file', async () => {
    // Prepare
    writeFileSync(join(work.path, 'good.csv'), `${header}S0001,2024-01-01T00:00:00Z,21.5,ok\nS0002,2024-01-01T00:00:00Z,19.0,degraded\n`);

    // Act
    const put = await sftpBatch(runtime.endpoints, demo(), ['put good.csv readings/']);
    const result = await getWhenThere(runtime.endpoints, demo(), 'readings/good.csv.result.txt');

    // Assess
    expect(put.code).toBe(0);
    const upload = await outcomeOf(runtime.endpoints, 'demo', 'sftp/demo/readings/good.csv');
    expect(upload).toMatchObject({ status: 'published', sender: 'demo', version: expect.any(Number) });
    expect(result).toMatch(new RegExp(`accepted as version ${upload.version}\\b`, 'i'));
    expect(result).toContain('2 rows');
  });

  it('quarantines an invalid file and names the row and column in its result file', async () => {
    // Prepare
    writeFileSync(join(work.path, 'bad.csv'), `${header}S0001,2024-01-01T00:00:00Z,21.5,ok\nS0002,2024-01-01T00:00:00Z,99.5,ok\n`);

    // Act
    const put = await sftpBatch(runtime.endpoints, demo(), ['put bad.csv readings/']);
    const result = await getWhenThere(runtime.endpoints, demo(), 'readings/bad.csv.result.txt');

    // Assess
    expect(put.code).toBe(0);
    expect(await outcomeOf(runtime.endpoints, 'demo', 'sftp/demo/readings/bad.csv')).toMatchObject({ status: 'quarantined' });
    expect(result).toMatch(/row 2/i);
    expect(result).toContain('temperature');
  });

  it('ingests a file uploaded as .filepart and renamed into place once, under the final name', async () => {
    // Prepare
    writeFileSync(join(work.path, 'winscp.csv'), `${header}S0003,2024-01-02T00:00:00Z,5,ok\n`);

    // Act
    const run = await sftpBatch(runtime.endpoints, demo(), ['put winscp.csv readings/winscp.csv.filepart', 'rename readings/winscp.csv.filepart readings/winscp.csv']);
    await outcomeOf(runtime.endpoints, 'demo', 'sftp/demo/readings/winscp.csv');

    // Assess
    expect(run.code).toBe(0);
    const uploads = (await uploadsOf(runtime.endpoints, 'demo')).filter((u) => u.key.includes('winscp'));
    expect(uploads.map((u) => [u.key, u.status])).toEqual([['sftp/demo/readings/winscp.csv', 'published']]);
  });

  it('never ingests a result file', async () => {
    // Prepare
    writeFileSync(join(work.path, 'once.csv'), `${header}S0004,2024-01-03T00:00:00Z,7,ok\n`);
    await sftpBatch(runtime.endpoints, demo(), ['put once.csv readings/']);
    await getWhenThere(runtime.endpoints, demo(), 'readings/once.csv.result.txt');

    // Act
    const keys = (await uploadsOf(runtime.endpoints, 'demo')).map((u) => u.key);

    // Assess
    expect(keys).toContain('sftp/demo/readings/once.csv');
    expect(keys.filter((k) => k.endsWith('.result.txt'))).toEqual([]);
  });

  it('records an upload cut off before the client closed it as rejected (interrupted), without validating it', async () => {
    // Prepare: what a dropped connection looks like, from ssh2's own client (deterministic, unlike killing sftp).
    const { endpoints } = runtime;
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({
        host: endpoints.sftp.host,
        port: endpoints.sftp.port,
        username: 'demo',
        privateKey: readFileSync(endpoints.sftp.privateKeyPath!),
        hostVerifier: (key: Buffer) => readFileSync(endpoints.sftp.knownHostsPath, 'utf8').includes(key.toString('base64')),
      });
    });
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((error, session) => (error ? reject(error) : resolve(session))));
    const handle = await new Promise<Buffer>((resolve, reject) => sftp.open('/readings/cut.csv', 'w', (error, h) => (error ? reject(error) : resolve(h))));
    const part = Buffer.from(`${header}S0005,2024-01-04T00:00:00Z,1,ok\nS0006,2024-01-04T00:00:00Z,2,o`);
    await new Promise<void>((resolve, reject) => sftp.write(handle, part, 0, part.length, 0, (error) => (error ? reject(error) : resolve())));

    // Act: the connection drops without CLOSE.
    client.destroy();
    const upload = await outcomeOf(endpoints, 'demo', 'sftp/demo/readings/cut.csv');

    // Assess
    expect(upload.status).toBe('rejected');
    expect(upload.reason).toMatch(/interrupted|stopped before the whole file arrived/i);
    expect(upload.version).toBeUndefined();
    const result = await getWhenThere(endpoints, demo(), 'readings/cut.csv.result.txt');
    expect(result).toMatch(/REJECTED/);
    await waitFor('nothing else about cut.csv', async () => ((await uploadsOf(endpoints, 'demo')).filter((u) => u.key.endsWith('cut.csv')).length === 1 ? true : undefined));
  });
});
