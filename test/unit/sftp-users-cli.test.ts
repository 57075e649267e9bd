import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { createStore, type Store } from '#store/store';
import { run } from '../../cli/main.ts';
import { createHttpAdapter } from '../../local/http-adapter.ts';
import { localGateway } from '#sftp/gateway';
import { parsePublicKey } from '#sftp/public-keys';
import { createSftpUserService } from '#sftp/users';
import { config, localAuthenticator, MemoryUploads, tokens } from './api-fixtures.ts';
import { captureIo } from './cli-fixtures.ts';
import { ed25519Line } from './sftp-users-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * `symbiont sftp-users …` against the real router and the local HTTP adapter on loopback, with
 * run-time users in a real table: what an admin types, what is sent, what is printed.
 */

let table: TestTable;
let store: Store;
let server: Server;
let url: string;
let dir: string;

const at = (role: keyof typeof tokens = 'admin') => ['--api', url, '--token', tokens[role]];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'symbiont-cli-keys-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  table = await startTestTable();
  store = createStore({ client: table.client, tableName: table.tableName });
  const api = createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, sftpUsers: createSftpUserService({ store, config, gateway: localGateway() }) });
  server = createServer(createHttpAdapter({ handler: (event) => api.handle(event) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await table.close();
});

/** Writes a key file and answers its path and line. */
function keyFile(name: string, comment = `${name}@lab`): { path: string; line: string } {
  const line = ed25519Line(comment);
  const path = join(dir, `${name}.pub`);
  writeFileSync(path, `${line}\n`);
  return { path, line };
}

describe('symbiont sftp-users', () => {
  it('adds a user with a key file and datasets, and says they can log in now', async () => {
    // Prepare
    const { path, line } = keyFile('erin');
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(['sftp-users', 'add', 'erin', '--key', path, '--datasets', 'readings,sites', ...at()], io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain(parsePublicKey(line).fingerprint);
    expect(stderr()).toContain('erin can log in now and sees the folders /readings, /sites.');
    expect((await store.getSftpUser('erin'))?.datasets).toEqual(['readings', 'sites']);
  });

  it('reads a key file under ~ from the home folder', async () => {
    // Prepare
    keyFile('id_ed25519');
    const { io } = captureIo({ HOME: dir });

    // Act
    const code = await run(['sftp-users', 'add', 'erin', '--key', '~/id_ed25519.pub', '--datasets', 'readings', ...at()], io);

    // Assess
    expect(code).toBe(0);
  });

  it('refuses a private key without sending anything', async () => {
    // Prepare
    const path = join(dir, 'id_ed25519');
    writeFileSync(path, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    const { io, stderr } = captureIo();

    // Act
    const code = await run(['sftp-users', 'add', 'erin', '--key', path, '--datasets', 'readings', ...at()], io);

    // Assess
    expect(code).toBe(2);
    expect(stderr()).toMatch(/is a private key; give the public one/);
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('prints the API\'s reason for an unknown dataset and exits 1', async () => {
    // Prepare
    const { path } = keyFile('erin');
    const { io, stderr } = captureIo();

    // Act
    const code = await run(['sftp-users', 'add', 'erin', '--key', path, '--datasets', 'weather', ...at()], io);

    // Assess
    expect(code).toBe(1);
    expect(stderr()).toContain('dataset "weather" is not configured; known datasets: readings, sites');
  });

  it('is refused for a scientist', async () => {
    // Prepare
    const { path } = keyFile('erin');
    const { io, stderr } = captureIo();

    // Act
    const code = await run(['sftp-users', 'add', 'erin', '--key', path, '--datasets', 'readings', ...at('scientist')], io);

    // Assess
    expect(code).toBe(1);
    expect(stderr()).toMatch(/admin/);
  });

  it('lists config and run-time users', async () => {
    // Prepare
    const { path } = keyFile('erin');
    await run(['sftp-users', 'add', 'erin', '--key', path, '--datasets', 'readings', ...at()], captureIo().io);
    const { io, stdout } = captureIo();

    // Act
    await run(['sftp-users', 'list', ...at()], io);

    // Assess
    const rows = stdout().trim().split('\n').slice(1).map((line) => line.split(/\s{2,}/).slice(0, 2));
    expect(rows).toEqual([
      ['alice', 'config'],
      ['demo', 'config'],
      ['erin', 'runtime'],
    ]);
  });

  it('rotates a key: adds the new one from its file, removes the old one by its file', async () => {
    // Prepare
    const old = keyFile('old');
    const next = keyFile('new');
    await run(['sftp-users', 'add', 'erin', '--key', old.path, '--datasets', 'readings', ...at()], captureIo().io);

    // Act
    const added = await run(['sftp-users', 'keys', 'add', 'erin', '--key', next.path, ...at()], captureIo().io);
    const removed = await run(['sftp-users', 'keys', 'remove', 'erin', '--key', old.path, ...at()], captureIo().io);

    // Assess
    expect([added, removed]).toEqual([0, 0]);
    expect((await store.getSftpUser('erin'))?.keys.map((k) => k.fingerprint)).toEqual([parsePublicKey(next.line).fingerprint]);
  });

  it('removes a key by the fingerprint show prints', async () => {
    // Prepare
    const old = keyFile('old');
    await run(['sftp-users', 'add', 'erin', '--key', old.path, '--key', keyFile('new').path, '--datasets', 'readings', ...at()], captureIo().io);
    const { io } = captureIo();

    // Act
    const code = await run(['sftp-users', 'keys', 'remove', 'erin', '--fingerprint', parsePublicKey(old.line).fingerprint, ...at()], io);

    // Assess
    expect(code).toBe(0);
    expect((await store.getSftpUser('erin'))?.keys).toHaveLength(1);
  });

  it('removes a run-time user', async () => {
    // Prepare
    await run(['sftp-users', 'add', 'erin', '--key', keyFile('erin').path, '--datasets', 'readings', ...at()], captureIo().io);
    const { io, stdout } = captureIo();

    // Act
    const code = await run(['sftp-users', 'remove', 'erin', ...at()], io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain('Removed SFTP user erin');
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('prints why a config user cannot be removed', async () => {
    // Prepare
    const { io, stderr } = captureIo();

    // Act
    const code = await run(['sftp-users', 'remove', 'alice', ...at()], io);

    // Assess
    expect(code).toBe(1);
    expect(stderr()).toMatch(/alice is a user of the config: it belongs to the stack/);
  });
});
