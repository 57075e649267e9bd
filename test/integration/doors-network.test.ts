import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { exampleConfig, freePorts, portsOf, tempDataDir } from './local-helpers.ts';

/**
 * The local runtime's services are for one person on one machine: the S3, DynamoDB and Step
 * Functions emulators take the well-known local key pair, so they must not be reachable from the
 * network. Each is tried on this machine's non-loopback addresses (skipped where it has none) and
 * must refuse the connection; on loopback it answers.
 * The SQS emulator (fauxqs) fixes its host to every interface; the runtime turns that listen into
 * a loopback one (local/emulators.ts).
 */

const outside = Object.values(networkInterfaces())
  .flat()
  .filter((i): i is NonNullable<typeof i> => i !== undefined && !i.internal && i.family === 'IPv4')
  .map((i) => i.address);

function reach(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 }, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'error'));
  });
}

describe('local services on the network', () => {
  const dataDir = tempDataDir('doors-network');
  let runtime: LocalRuntime;

  beforeAll(async () => {
    runtime = await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts });
  });

  afterAll(async () => {
    await runtime?.stop();
    dataDir.remove();
  });

  const services = ['api', 's3', 'dynamodb', 'sqs', 'sftp', 'stepfunctions'] as const;

  it.each(services)('%s answers on loopback', async (service) => {
    // Act
    const result = await reach('127.0.0.1', portsOf(runtime.endpoints)[service]);

    // Assess
    expect(result).toBe('connected');
  });

  it.skipIf(outside.length === 0).each(services)('%s refuses connections on the machine’s other addresses', async (service) => {
    // Act
    const results = await Promise.all(outside.map((address) => reach(address, portsOf(runtime.endpoints)[service])));

    // Assess
    expect(results.every((r) => r !== 'connected')).toBe(true);
  });
});
