import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AnnouncedArrival } from '#local/s3-bridge';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { run } from '../../cli/main.ts';
import { freePorts, tempDataDir, waitFor } from './local-helpers.ts';
import { describeWithSftp, makeKey, sftpBatch, writeConfig, type TestKey } from './sftp-helpers.ts';

/**
 * SFTP users at run time, end to end on the local runtime: an admin adds a user with the
 * `symbiont` CLI and OpenSSH's `sftp` logs in as them at once, sees their dataset folders and
 * uploads; a key is rotated; the removed user cannot log in; a non-admin token is refused.
 */
describeWithSftp('SFTP users added and removed at run time', () => {
  const dataDir = tempDataDir('sftp-users');
  const work = tempDataDir('sftp-users-client');
  const arrivals: AnnouncedArrival[] = [];
  let runtime: LocalRuntime;
  let erin: TestKey;
  let erinNext: TestKey;

  /** Runs the CLI in-process against the runtime with a role's token; answers exit code and output. */
  async function symbiont(args: readonly string[], role: 'admin' | 'scientist' | 'uploader' = 'admin') {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), env: {}, cwd: work.path };
    const code = await run([...args, '--api', runtime.endpoints.api, '--token', runtime.endpoints.tokens[role]], io);
    return { code, stdout, stderr };
  }

  const login = (key: TestKey, user = 'erin') => ({ user, privateKeyPath: key.privateKeyPath, cwd: work.path });

  beforeAll(async () => {
    erin = makeKey(work.path, 'erin_ed25519');
    erinNext = makeKey(work.path, 'erin_next_ed25519');
    for (const key of [erin, erinNext]) writeFileSync(`${key.privateKeyPath}.pub`, `${key.publicLine}\n`);
    writeFileSync(join(work.path, 'day.csv'), 'sensor_id,taken_at,temperature,status\nS0001,2024-01-01T00:00:00Z,21.5,ok\n');
    runtime = await startLocal({
      configFile: writeConfig(work.path, {}),
      dataDir: dataDir.path,
      ports: freePorts,
      onArrival: (arrival) => arrivals.push(arrival),
      // What ingest makes of the file is tested elsewhere; here what matters is who may log in.
      handlers: { ingest: async () => ({ batchItemFailures: [] }), evaluation: async () => ({ batchItemFailures: [] }) },
    });
  }, 180_000);

  afterAll(async () => {
    await runtime?.stop();
    dataDir.remove();
    work.remove();
  });

  it('refuses a user nobody added', async () => {
    // Act
    const result = await sftpBatch(runtime.endpoints, login(erin), ['ls /']);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
  });

  it('refuses to add a user with a non-admin token', async () => {
    // Act
    const result = await symbiont(['sftp-users', 'add', 'erin', '--key', `${erin.privateKeyPath}.pub`, '--datasets', 'readings'], 'scientist');

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/admin/);
  });

  it('lets a user added with the CLI log in at once, see their dataset folder and upload to it', async () => {
    // Prepare
    const added = await symbiont(['sftp-users', 'add', 'erin', '--key', `${erin.privateKeyPath}.pub`, '--datasets', 'readings']);

    // Act
    const result = await sftpBatch(runtime.endpoints, login(erin), ['ls /', 'put day.csv /readings/day.csv']);

    // Assess
    expect(added.code).toBe(0);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\/readings\s*$/m);
    expect(result.stdout).not.toMatch(/sites/);
    const arrival = await waitFor('the upload announced', () => arrivals.find((a) => a.originalKey === 'sftp/erin/readings/day.csv'));
    expect(arrival.originalKey).toBe('sftp/erin/readings/day.csv');
  });

  it('rotates a key: the new key logs in, the old one no longer does', async () => {
    // Prepare
    const add = await symbiont(['sftp-users', 'keys', 'add', 'erin', '--key', `${erinNext.privateKeyPath}.pub`]);
    const remove = await symbiont(['sftp-users', 'keys', 'remove', 'erin', '--key', `${erin.privateKeyPath}.pub`]);

    // Act
    const withNew = await sftpBatch(runtime.endpoints, login(erinNext), ['ls /']);
    const withOld = await sftpBatch(runtime.endpoints, login(erin), ['ls /']);

    // Assess
    expect([add.code, remove.code]).toEqual([0, 0]);
    expect(withNew.code, withNew.stderr).toBe(0);
    expect(withOld.code).not.toBe(0);
  });

  it('refuses a removed user from the next login on', async () => {
    // Prepare
    const removed = await symbiont(['sftp-users', 'remove', 'erin']);

    // Act
    const result = await sftpBatch(runtime.endpoints, login(erinNext), ['ls /']);

    // Assess
    expect(removed.code).toBe(0);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
  });

  it('refuses to remove a config user, which belongs to the stack', async () => {
    // Act
    const result = await symbiont(['sftp-users', 'remove', 'demo']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/demo is a user of the config: it belongs to the stack/);
  });
});
