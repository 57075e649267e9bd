import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUseError, SftpKeyError } from '#local/errors';
import { startLocal } from '#local/runtime';
import { freePorts, tempDataDir } from './local-helpers.ts';
import { writeConfig } from './sftp-helpers.ts';

/**
 * What the SFTP server needs at start: a port, a host key kept across restarts, the demo user's
 * key pair and a known_hosts file for OpenSSH's batch mode — and a clear error when a user's key
 * file is missing.
 */

/** Stand-ins: starting and stopping is what is tested here. */
const handlers = {
  ingest: async () => ({ batchItemFailures: [] }),
  api: async () => ({ statusCode: 200, headers: {}, body: '{}' }),
};

describe('starting the local SFTP server', () => {
  const work = tempDataDir('sftp-start-config');
  let configFile: string;
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    configFile = writeConfig(work.path, {});
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    work.remove();
  });

  it('rejects a taken SFTP port with an error naming the port and how to change it', async () => {
    // Prepare
    const dataDir = tempDataDir('sftp-port');

    // Act
    const started = startLocal({ configFile, dataDir: dataDir.path, ports: { ...freePorts, sftp: takenPort }, handlers });

    // Assess
    await expect(started).rejects.toBeInstanceOf(PortInUseError);
    await expect(started).rejects.toThrow(new RegExp(`port ${takenPort} \\(sftp\\) is already in use.*--sftp-port.*SYMBIONT_SFTP_PORT`));
    dataDir.remove();
  });

  it("creates the demo user's key pair under the data directory, the private key readable by its owner only", async () => {
    // Prepare
    const dataDir = tempDataDir('sftp-keys');

    // Act
    const runtime = await startLocal({ configFile, dataDir: dataDir.path, ports: freePorts, handlers });
    await runtime.stop();

    // Assess
    const { sftp } = runtime.endpoints;
    expect(sftp).toMatchObject({ user: 'demo', privateKeyPath: join(dataDir.path, 'sftp', 'demo_ed25519'), datasets: ['readings', 'sites'] });
    expect(statSync(sftp.privateKeyPath!).mode & 0o777).toBe(0o600);
    expect(readFileSync(sftp.privateKeyPath!, 'utf8')).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(readFileSync(`${sftp.privateKeyPath}.pub`, 'utf8')).toMatch(/^ssh-ed25519 AAAA/);
    dataDir.remove();
  });

  it('writes a known_hosts line for the host key on the port it got', async () => {
    // Prepare
    const dataDir = tempDataDir('sftp-known-hosts');

    // Act
    const runtime = await startLocal({ configFile, dataDir: dataDir.path, ports: freePorts, handlers });
    await runtime.stop();

    // Assess
    const { sftp } = runtime.endpoints;
    const hostKey = readFileSync(join(dataDir.path, 'sftp', 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(sftp.knownHostsPath, 'utf8')).toBe(`[127.0.0.1]:${sftp.port} ${hostKey}\n`);
    expect(sftp.command).toContain(`-P ${sftp.port} -b - demo@127.0.0.1`);
    dataDir.remove();
  });

  it('keeps the host key and the demo key across a restart', async () => {
    // Prepare
    const dataDir = tempDataDir('sftp-restart');
    const first = await startLocal({ configFile, dataDir: dataDir.path, ports: freePorts, handlers });
    await first.stop();
    const keysBefore = [readFileSync(join(dataDir.path, 'sftp', 'host_ed25519'), 'utf8'), readFileSync(first.endpoints.sftp.privateKeyPath!, 'utf8')];

    // Act
    const second = await startLocal({ configFile, dataDir: dataDir.path, ports: freePorts, handlers });
    await second.stop();

    // Assess
    const keysAfter = [readFileSync(join(dataDir.path, 'sftp', 'host_ed25519'), 'utf8'), readFileSync(second.endpoints.sftp.privateKeyPath!, 'utf8')];
    expect(keysAfter).toEqual(keysBefore);
    dataDir.remove();
  });

  it("stops the start naming the user and the file when a user's own key file is missing", async () => {
    // Prepare
    const dataDir = tempDataDir('sftp-missing-key');
    const configDir = tempDataDir('sftp-missing-key-config');
    const broken = writeConfig(configDir.path, {});
    const config = JSON.parse(readFileSync(broken, 'utf8'));
    config.sftpUsers.carol = { publicKeyFiles: ['keys/carol.pub'], datasets: ['readings'] };
    writeFileSync(broken, JSON.stringify(config));

    // Act
    const started = startLocal({ configFile: broken, dataDir: dataDir.path, ports: freePorts, handlers });

    // Assess
    await expect(started).rejects.toBeInstanceOf(SftpKeyError);
    await expect(started).rejects.toThrow(/sftpUsers\.carol: cannot read public key file keys\/carol\.pub/);
    dataDir.remove();
    configDir.remove();
  });
});
