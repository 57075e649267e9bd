import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirInUseError, PortInUseError } from '#local/errors';
import { startLocal } from '#local/runtime';
import { exampleConfig, freePorts, repoRoot, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * Starting and stopping: `npm start` as a child process (banner, Ctrl-C), and the clear errors for
 * a taken port or a data directory already in use.
 */

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs local/main.ts as `npm start` does; `onOutput` may send it signals. */
function npmStart(args: readonly string[], onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'local', 'main.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', SYMBIONT_CONFIG: exampleConfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const freePortFlags = ['--api-port', '0', '--s3-port', '0', '--dynamodb-port', '0', '--sqs-port', '0', '--sftp-port', '0', '--stepfunctions-port', '0'];

/**
 * Stand-ins for the real handlers: they read their settings once per process, and this file
 * starts several runtimes on different ports in one process.
 */
const handlers = {
  ingest: async () => ({ batchItemFailures: [] }),
  api: async () => ({ statusCode: 200, headers: {}, body: '{}' }),
};

describe('starting the local runtime', () => {
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
  });

  it('rejects a taken API port with an error naming the port and how to change it', async () => {
    // Prepare
    const dataDir = tempDataDir('port');

    // Act
    const started = startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: { ...freePorts, api: takenPort }, handlers });

    // Assess
    await expect(started).rejects.toBeInstanceOf(PortInUseError);
    await expect(started).rejects.toThrow(new RegExp(`port ${takenPort} \\(api\\) is already in use.*--api-port.*SYMBIONT_API_PORT`));
    dataDir.remove();
  });

  it('leaves the data directory usable after a start that failed on a taken port', async () => {
    // Prepare
    const dataDir = tempDataDir('port-retry');
    // DynamoDB: its store is opened before its port is tried, so this is the case that must clean up.
    await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: { ...freePorts, dynamodb: takenPort }, handlers }).catch(() => undefined);

    // Act
    const runtime = await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts, handlers });

    // Assess
    expect(runtime.endpoints.dataDir).toBe(dataDir.path);
    await runtime.stop();
    dataDir.remove();
  });

  it('takes a port from its environment variable when no flag names one', async () => {
    // Prepare
    const dataDir = tempDataDir('port-env');
    const { api: _api, ...otherPorts } = freePorts;

    // Act
    const started = startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: otherPorts, env: { SYMBIONT_API_PORT: String(takenPort) }, handlers });

    // Assess
    await expect(started).rejects.toThrow(`port ${takenPort} (api) is already in use`);
    dataDir.remove();
  });

  it('refuses a second runtime on a data directory in use', async () => {
    // Prepare
    const dataDir = tempDataDir('in-use');
    const first = await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts, handlers });

    // Act
    const second = startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts, handlers });

    // Assess
    await expect(second).rejects.toBeInstanceOf(DataDirInUseError);
    await first.stop();
    dataDir.remove();
  });

  it('npm start exits non-zero with a message naming a taken port and its flag', async () => {
    // Prepare
    const dataDir = tempDataDir('npm-port');

    // Act
    const exit = await npmStart([...freePortFlags, '--sqs-port', String(takenPort), '--data-dir', dataDir.path]);

    // Assess
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain(`port ${takenPort} (sqs) is already in use`);
    expect(exit.stderr).toContain('--sqs-port');
    dataDir.remove();
  });

  it('npm start refuses a flag value that is not a port, naming the flag', async () => {
    // Act
    const exit = await npmStart(['--api-port', 'eighty']);

    // Assess
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain('--api-port: "eighty" is not a port');
  });

  it('npm start prints the banner with the console URL and exits 0 on Ctrl-C', async () => {
    // Prepare
    const dataDir = tempDataDir('npm-start');
    let interrupted = false;

    // Act
    const exit = await npmStart([...freePortFlags, '--data-dir', dataDir.path], (stdout, child) => {
      if (!interrupted && stdout.includes('Ctrl-C stops')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });

    // Assess
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/API \+ console\s+http:\/\/127\.0\.0\.1:\d+\/\?token=admin-/);
    expect(exit.stdout).toContain('aws s3 cp');
    expect(exit.stdout).toContain('npx symbiont uploads list');
    dataDir.remove();
  });

  it('delivers a message that was in flight at a stop after the restart', async () => {
    // Prepare
    const dataDir = tempDataDir('in-flight');
    const seen: SQSRecord[] = [];
    const failing = {
      ...handlers,
      ingest: async (event: { Records: SQSRecord[] }) => {
        seen.push(...event.Records);
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    };
    const options = { configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts, queueOverrides: { ingest: { visibilityTimeoutSeconds: 2 } } };
    const first = await startLocal({ ...options, handlers: failing });
    const sqs = new SQSClient({ endpoint: first.endpoints.sqs, region: first.endpoints.region, credentials: { ...first.endpoints.credentials } });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: first.endpoints.queues.ingest.url, MessageBody: 'in flight' }));
    await waitFor('the first delivery', () => seen.find((r) => r.messageId === sent.MessageId));
    sqs.destroy();
    await first.stop();

    // Act
    const second = await startLocal({ ...options, handlers: failing });
    const redelivered = await waitFor('the delivery after the restart', () =>
      seen.find((r) => r.messageId === sent.MessageId && r.attributes.ApproximateReceiveCount === '2'),
    );

    // Assess
    expect(redelivered.body).toBe('in flight');
    await second.stop();
    dataDir.remove();
  });
});
