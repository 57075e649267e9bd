import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageForPart } from '#evaluation/requests';
import type { LocalRuntime } from '#local/runtime';
import { getRequest, type RequestRecord } from '#store/evaluations';
import { createStore } from '#store/store';
import { Table } from '#store/table';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { brokenInvariants, depth, type InvariantContext } from './invariants.ts';
import { startExampleEvaluation, type ExampleEvaluation } from './evaluation-helpers.ts';
import { waitFor } from './local-helpers.ts';

/**
 * Fault injection on the evaluation path (the Fault injection issue), through the local runtime
 * with the real tasks and the synthesized state machine: a stage that hangs past its timeout,
 * DynamoDB failing for a while under the tasks, and an evaluation message delivered twice. After
 * each, every request has one outcome and counts each evaluation once.
 */

let ctx: ExampleEvaluation;
let runtime: LocalRuntime;
let dynamodbProxy: FaultProxy;
let invariants: InvariantContext & { readonly table: Table };
let sfn: SFNClient;
let hanging: string;
const requests: string[] = [];

const git = (repo: string, ...args: string[]) => ctx.git(repo, ...args);
const api = <T>(method: string, path: string, body?: unknown) => ctx.api<T>(method, path, body);

/** Asks for an evaluation and waits for its request's outcome. */
async function evaluate(body: Record<string, unknown>): Promise<RequestRecord> {
  const asked = await api<{ request: RequestRecord }>('POST', '/evaluations', { pipeline: 'forecast', ...body });
  expect([200, 202]).toContain(asked.status);
  const { requestId } = asked.body.request;
  requests.push(requestId);
  return waitFor(
    `request ${requestId} to finish`,
    async () => {
      const { body: current } = await api<RequestRecord>('GET', `/evaluations/requests/${requestId}`);
      return current.status === 'finished' || current.status === 'failed' ? current : undefined;
    },
    120_000,
  );
}

async function invariantsHold(): Promise<void> {
  expect(await brokenInvariants(invariants, { datasets: ['readings'], requestIds: requests })).toEqual([]);
}

beforeAll(async () => {
  ctx = await startExampleEvaluation({
    label: 'faults-evaluation',
    configure: (config) => {
      config.templates = {};
      delete config.pipelines.forecast.onRegression;
      for (const stage of config.pipelines.forecast.stages) stage.timeoutSeconds = 10;
    },
    start: {
      // A start that failed is tried again in seconds, not the production 6 minutes.
      queueOverrides: { evaluation: { visibilityTimeoutSeconds: 2 }, commit: { visibilityTimeoutSeconds: 2 } },
      interpose: async (service, url) => {
        if (service === 's3') return url;
        dynamodbProxy = await startFaultProxy(service, url);
        return dynamodbProxy.url;
      },
    },
  });
  runtime = ctx.runtime;
  // A commit whose model stage never ends.
  await git('model', 'checkout', '--quiet', '-b', 'hang', 'main');
  writeFileSync(join(ctx.dir, 'repos', 'model', 'run.mjs'), 'setInterval(() => {}, 1000);\n');
  await git('model', 'commit', '--quiet', '-am', 'model: hangs');
  hanging = await git('model', 'rev-parse', 'HEAD');
  await git('model', 'checkout', '--quiet', 'main');

  const { endpoints } = runtime;
  const common = { region: endpoints.region, credentials: { ...endpoints.credentials } };
  const document = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }), { marshallOptions: { removeUndefinedValues: true } });
  invariants = {
    endpoints,
    s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    store: createStore({ client: document, tableName: endpoints.table.name }),
    table: new Table(document, endpoints.table.name),
  };
  sfn = new SFNClient({ ...common, endpoint: endpoints.stepfunctions });
  await ctx.reportHeads();
}, 180_000);

afterAll(async () => {
  sfn?.destroy();
  await ctx?.stop();
  await dynamodbProxy?.close();
});

describe('faults on the evaluation path', () => {
  it('fails the evaluations of a stage that hangs past its timeout, and finishes the request', async () => {
    // Act
    const request = await evaluate({ commitSets: [{ model: hanging }], parameters: { window: [3] } });
    const { body: page } = await api<{ items: { status: string; commitSet: Record<string, string>; failure?: { stage?: string; reason: string } }[] }>(
      'GET',
      `/evaluations?request=${request.requestId}&limit=100`,
    );

    // Assess
    const hung = page.items.filter((e) => e.commitSet.model === hanging);
    expect(request).toMatchObject({ status: 'finished', failed: 1 });
    expect(hung).toHaveLength(1);
    expect(hung[0]).toMatchObject({ status: 'failed', failure: { stage: 'model' } });
    await invariantsHold();
  }, 180_000);

  it('starts once when DynamoDB fails under start-evaluation, and scores once when it fails under the tasks', async () => {
    // Prepare: the request's first writes fail (start-evaluation's message is delivered again), and
    // so do the evaluations' updates (the tasks throw TransientTaskError, which the state machine retries).
    const internal = { kind: 'answer', status: 500, code: 'InternalServerError', message: 'Internal server error' } as const;
    const starting = dynamodbProxy.inject({ match: { target: /UpdateItem/, body: /"REQUEST#/ }, action: internal, times: 4 });
    const scoring = dynamodbProxy.inject({ match: { target: /UpdateItem/, body: /"EVAL#/ }, action: internal, times: 6 });

    // Act
    const request = await evaluate({ parameters: { window: [11] } });

    // Assess
    expect(starting.fired()).toBe(4);
    expect(scoring.fired()).toBe(6);
    expect(request).toMatchObject({ status: 'finished', done: request.total, failed: 0 });
    await invariantsHold();
  }, 180_000);

  it('starts nothing new when an evaluation message is delivered twice more', async () => {
    // Prepare
    const request = await evaluate({ parameters: { window: [12] } });
    const stored = (await getRequest(invariants.table, request.requestId))!;
    const executions = async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn: runtime.endpoints.stateMachines.evaluate, maxResults: 1000 }))).executions ?? [];
    const before = (await executions()).length;

    // Act
    for (let i = 0; i < 2; i++) {
      await invariants.sqs.send(new SendMessageCommand({ QueueUrl: runtime.endpoints.queues.evaluation.url, MessageBody: JSON.stringify(messageForPart(stored, 1, stored.executions.length)) }));
    }
    await waitFor('the evaluation queue drained', async () => ((await depth(invariants.sqs, runtime.endpoints.queues.evaluation.url)) === 0 ? true : undefined), 30_000);

    // Assess
    expect((await executions()).length).toBe(before);
    expect(await getRequest(invariants.table, request.requestId)).toMatchObject({ done: request.done, failed: request.failed, total: request.total });
    await invariantsHold();
  }, 180_000);

  it('records a commit once and asks for nothing new when its commit message and a data message come twice more', async () => {
    // Prepare: the model head, as CI reported it (its request ran in the set-up), and the readings version it was evaluated on.
    const sha = await git('model', 'rev-parse', 'main');
    const executions = async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn: runtime.endpoints.stateMachines.evaluate, maxResults: 1000 }))).executions ?? [];
    const before = (await executions()).length;
    const commit = { repository: 'model', sha, branch: 'main', pushedAt: new Date(Date.now() - 3_600_000).toISOString(), source: 'api' };
    const data = { dataset: 'readings', version: 1, publishedAt: new Date(Date.now() - 3_600_000).toISOString() };
    const queue = runtime.endpoints.queues.commit.url;

    // Act
    for (const body of [commit, commit, data, data]) await invariants.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify(body) }));
    await waitFor('the commit queue drained', async () => ((await depth(invariants.sqs, queue)) === 0 ? true : undefined), 30_000);
    await waitFor('the evaluation queue drained', async () => ((await depth(invariants.sqs, runtime.endpoints.queues.evaluation.url)) === 0 ? true : undefined), 30_000);

    // Assess
    const { body: commits } = await api<{ items: { sha: string }[] }>('GET', '/commits?repository=model&limit=100');
    expect(commits.items.filter((c) => c.sha === sha)).toHaveLength(1);
    expect((await executions()).length).toBe(before);
    expect(await depth(invariants.sqs, runtime.endpoints.queues.commit.deadLetterUrl)).toBe(0);
    await invariantsHold();
  }, 180_000);
});
