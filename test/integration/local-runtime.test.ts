import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRuntime } from '#local/runtime';
import { AWS_CLI_MISSING, aws, awsCliVersion, callApi, exampleConfig, freePorts, portsOf, tempDataDir, waitFor } from './local-helpers.ts';

/**
 * The local runtime as `npm start` runs it — real emulators, the real ingest handler and API
 * router — driven by real clients: the AWS CLI for S3 and DynamoDB, fetch for the API.
 */

const itWithAws = awsCliVersion ? it : (name: string, fn: () => Promise<void>) => it.skip(`${name} (${AWS_CLI_MISSING})`, fn);

interface UploadItem {
  key: string;
  status: string;
  dataset: string;
}

describe('local runtime', () => {
  const dataDir = tempDataDir('runtime');
  let runtime: LocalRuntime;
  const slot = ulid();
  const key = `api/readings/${slot}/first readings.csv`;

  beforeAll(async () => {
    runtime = await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports: freePorts });
  });

  afterAll(async () => {
    await runtime?.stop();
    dataDir.remove();
  });

  async function uploadsWithKey(token: string): Promise<UploadItem[] | undefined> {
    const response = await callApi(runtime.endpoints, '/uploads', token);
    if (response.status !== 200) return undefined;
    const { items } = (await response.json()) as { items: UploadItem[] };
    const found = items.filter((item) => item.key === key);
    return found.length > 0 ? found : undefined;
  }

  it('writes endpoints.json describing what it started', () => {
    // Prepare
    const file = join(dataDir.path, 'endpoints.json');

    // Act
    const written = JSON.parse(readFileSync(file, 'utf8'));

    // Assess
    expect(written).toEqual(JSON.parse(JSON.stringify(runtime.endpoints)));
    expect(written).toMatchObject({
      stateMachines: { evaluate: 'arn:aws:states:us-east-1:000000000000:stateMachine:symbiont-dev-evaluate' },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      buckets: { landing: 'symbiont-dev-landing', data: 'symbiont-dev-data' },
      table: { name: 'symbiont-dev', indexes: ['gsi1', 'gsi2'], ttlAttribute: 'expiresAt' },
      queues: { ingest: { name: 'symbiont-dev-ingest', deadLetterName: 'symbiont-dev-ingest-dlq', maxReceiveCount: 5, batchSize: 5 } },
      uploaderDatasets: ['readings'],
    });
    expect(Object.keys(written.tokens).sort()).toEqual(['admin', 'scientist', 'uploader']);
  });

  itWithAws('shows a file copied with `aws s3 cp` under api/ at GET /uploads', async () => {
    // Prepare
    const file = join(dataDir.path, 'first readings.csv');
    writeFileSync(file, 'sensor_id,taken_at,temperature,status\nS0001,2024-01-01T00:00:00Z,21.5,ok\n');

    // Act
    await aws(runtime.endpoints, ['s3', 'cp', file, `s3://${runtime.endpoints.buckets.landing}/${key}`], 's3');
    const uploads = await waitFor('the upload record', () => uploadsWithKey(runtime.endpoints.tokens.admin));

    // Assess
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ dataset: 'readings', key });
  });

  itWithAws('refuses GET /uploads without a token', async () => {
    // Act
    const response = await callApi(runtime.endpoints, '/uploads');

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  itWithAws('stores the upload record in the table `aws dynamodb scan` reads', async () => {
    // Act
    const scan = JSON.parse(
      await aws(runtime.endpoints, ['dynamodb', 'scan', '--table-name', runtime.endpoints.table.name, '--output', 'json'], 'dynamodb'),
    ) as { Items: Record<string, { S?: string }>[] };

    // Assess
    const keys = scan.Items.map((item) => item.key?.S);
    expect(keys).toContain(key);
  });

  itWithAws('still shows the upload after a restart on the same data directory', async () => {
    // Prepare
    const ports = portsOf(runtime.endpoints);
    const tokens = runtime.endpoints.tokens;
    await runtime.stop();

    // Act
    runtime = await startLocal({ configFile: exampleConfig, dataDir: dataDir.path, ports });
    const uploads = await uploadsWithKey(runtime.endpoints.tokens.admin);

    // Assess
    expect(runtime.endpoints.tokens).toEqual(tokens);
    expect(uploads).toHaveLength(1);
  });
});
