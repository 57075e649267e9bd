import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiEvent, ApiResult } from '#api/api';

const ddb = mockClient(DynamoDBDocumentClient);
const event = (name: string) =>
  structuredClone(JSON.parse(readFileSync(fileURLToPath(new URL(`../../events/apigw/${name}.json`, import.meta.url)), 'utf8'))) as ApiEvent;
const context = { functionName: 'symbiont-dev-api', awsRequestId: 'c0ffee00-0000-4000-8000-000000000001' } as Context;

const stored = {
  pk: 'UPLOAD#01JH2QK7W3M9XG5V8RZB4TNC6D',
  sk: 'UPLOAD',
  gsi2pk: 'UPLOADS#readings',
  uploadId: '01JH2QK7W3M9XG5V8RZB4TNC6D',
  dataset: 'readings',
  bucket: 'symbiont-dev-landing',
  key: 'api/readings/01JH2QK0000000000000000000/readings.csv',
  source: 'api',
  sender: 'uploader',
  status: 'published',
  receivedAt: '2025-01-07T09:12:44.118Z',
  updatedAt: '2025-01-07T09:12:45.001Z',
};

let handler: (event: ApiEvent, context: Context) => Promise<ApiResult>;

beforeAll(async () => {
  vi.stubEnv('TABLE_NAME', 'symbiont-dev');
  vi.stubEnv('DATA_BUCKET', 'symbiont-dev-data');
  vi.stubEnv('LANDING_BUCKET', 'symbiont-dev-landing');
  vi.stubEnv('EVALUATION_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/symbiont-dev-evaluation');
  vi.stubEnv('REPORT_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/symbiont-dev-report');
  vi.stubEnv('COMMIT_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/symbiont-dev-commit');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('SYMBIONT_CONFIG', fileURLToPath(new URL('../../symbiont.config.json', import.meta.url)));
  vi.stubEnv(
    'ROLE_MAP',
    JSON.stringify({
      'symbiont-dev-scientist': 'scientist',
      'symbiont-dev-uploader': { role: 'uploader', name: 'uploader', datasets: ['readings'] },
    }),
  );
  ({ handler } = await import('../../functions/api/handler.ts'));
});

afterAll(() => {
  vi.unstubAllEnvs();
  ddb.restore();
});

describe('the API Lambda handler', () => {
  it('lists uploads for an assumed scientist role from the table named by TABLE_NAME', async () => {
    // Prepare
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [stored] });

    // Act
    const result = await handler(event('get-uploads-iam'), context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).items).toEqual([expect.objectContaining({ uploadId: stored.uploadId })]);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ TableName: 'symbiont-dev', Limit: 10 });
  });

  it('shows an upload to the uploader role that sent it', async () => {
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: stored });

    const result = await handler(event('get-upload-iam'), context);

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).not.toHaveProperty('pk');
  });

  it('answers GET /health without an IAM context', async () => {
    const result = await handler(event('get-health'), context);

    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });
});
