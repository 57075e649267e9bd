import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listHeadHistory } from '#store/commits';
import { getRequest } from '#store/evaluations';
import { Table } from '#store/table';
import { cancelRequest, executionArnOf } from '#evaluation/cancel';
import { InvalidEvaluationRequestError, UnknownCommitError } from '#evaluation/errors';
import { expandParameters, reportCommit, requestEvaluation } from '#evaluation/requests';
import { startEvaluation } from '#evaluation/start';
import { runEvaluationTask, type EvaluationTaskDeps, type PreparedPart } from '#evaluation/tasks';
import { admin, config, memoryQueue, publishVersion, scientist, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** Backfills over ranges, parts of at most 500 points, and cancelling between and within parts. */

let testTable: TestTable;
let table: Table;
const sfnMock = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:symbiont-dev-evaluate';
const models = ['1', '2', '3', '4', '5'].map(sha);

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-backfills');
  table = new Table(testTable.client, testTable.tableName);
  for (const version of [1, 2, 3]) await publishVersion(table, 'readings', version);
  await reportCommit({ repository: 'features', sha: sha('a') }, scientist, { table, config });
  for (const [i, model] of models.entries()) {
    await reportCommit({ repository: 'model', sha: model, pushedAt: `2030-01-0${i + 1}T00:00:00Z` }, scientist, { table, config });
  }
});

afterAll(async () => {
  await testTable.close();
  sfnMock.restore();
});

describe('backfill ranges', () => {
  it('keeps one head-history item per move of the default-branch head', async () => {
    // Act
    const history = await listHeadHistory(table, 'model', { order: 'asc' });

    // Assess
    expect(history.map((h) => [h.seq, h.sha])).toEqual(models.map((m, i) => [i + 1, m]));
    expect((await listHeadHistory(table, 'model', { limit: 2 })).map((h) => h.sha)).toEqual([models[4], models[3]]);
  });

  it('expands the last n default-branch commits × a version range into commit sets and versions, reason backfill', async () => {
    // Act
    const { request } = await requestEvaluation(
      { pipeline: 'forecast', commits: { repository: 'model', last: 3 }, datasetVersions: [{ dataset: 'readings', from: 2 }], parameters: { window: [3] } },
      scientist,
      { table, config, queue: memoryQueue() },
    );

    // Assess
    expect(request.reason).toBe('backfill');
    expect(request.commitSets).toEqual([models[2], models[3], models[4]].map((model) => ({ features: sha('a'), model })));
    expect(request.datasetVersions).toEqual([{ dataset: 'readings', version: 2 }, { dataset: 'readings', version: 3 }]);
    expect(request.total).toBe(6);
  });

  it('takes from..to by short shas in the order the head moved', async () => {
    // Act
    const { request } = await requestEvaluation(
      { pipeline: 'forecast', commits: { repository: 'model', from: models[1]!.slice(0, 8), to: models[3]!.slice(0, 8) }, parameters: { window: [7] } },
      scientist,
      { table, config, queue: memoryQueue() },
    );

    // Assess
    expect(request.commitSets.map((s) => s.model)).toEqual([models[1], models[2], models[3]]);
  });

  it('refuses a range end that never was the head, and last with from', async () => {
    // Assess
    const deps = { table, config, queue: memoryQueue() };
    await expect(requestEvaluation({ pipeline: 'forecast', commits: { repository: 'model', from: sha('9') } }, scientist, deps)).rejects.toThrow(UnknownCommitError);
    await expect(requestEvaluation({ pipeline: 'forecast', commits: { repository: 'model', from: models[0], last: 2 } }, scientist, deps)).rejects.toThrow(/not both/);
    await expect(requestEvaluation({ pipeline: 'forecast', commits: { repository: 'model', from: models[3], to: models[1] } }, scientist, deps)).rejects.toThrow(/came before/);
  });

  it('expands parameter ranges, and refuses an empty or endless one', () => {
    // Assess
    expect(expandParameters({ alpha: { from: 0.1, to: 0.5, step: 0.1 }, window: [3, 7] })).toEqual({ alpha: [0.1, 0.2, 0.3, 0.4, 0.5], window: [3, 7] });
    expect(expandParameters({ x: { from: 1, to: 3 } })).toEqual({ x: [1, 2, 3] });
    expect(() => expandParameters({ x: { from: 3, to: 1 } })).toThrow(InvalidEvaluationRequestError);
    expect(() => expandParameters({ x: { from: 0, to: 1, step: 0.0001 } })).toThrow(/at most 1000/);
  });
});

describe('a 600-point request', () => {
  const queue = memoryQueue();
  let deps: EvaluationTaskDeps;

  beforeAll(() => {
    deps = { table, s3: new S3Client({ region: 'us-east-1' }), dataBucket: 'data', config, queue };
  });

  it('runs as two executions of 500 and 100 points, the second queued when the first finishes, none after a cancel', async () => {
    // Arrange: 600 window values at the heads, on one version
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: { from: 1, to: 600 } }, datasetVersions: [{ dataset: 'readings', version: 1 }] }, admin, {
      table,
      config,
      queue,
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const first = (await runEvaluationTask({ task: 'prepare', requestId: request.requestId, part: 1 }, deps)) as PreparedPart;
    const second = (await runEvaluationTask({ task: 'prepare', requestId: request.requestId, part: 2 }, deps)) as PreparedPart;
    expect(await startEvaluation(queue.messages.at(-1)!, { table, sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn })).toBe('started');
    await runEvaluationTask({ task: 'finish', state: { requestId: request.requestId, part: 1 } }, deps);
    const queuedSecond = queue.messages.at(-1)!;
    const cancelled = await cancelRequest(request.requestId, scientist, { table, sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn });
    const startedAfterCancel = await startEvaluation(queuedSecond, { table, sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn });
    const queuedBefore = queue.messages.length;
    const finishedAfterCancel = await runEvaluationTask({ task: 'finish', state: { requestId: request.requestId, part: 2 } }, deps);

    // Assess
    expect(request.total).toBe(600);
    expect(request.executions).toHaveLength(2);
    expect(request.executions[1]).toBe(`${request.executions[0]!.replace(/-1$/, '')}-2`);
    expect(first.phases.flatMap((p) => p.points)).toHaveLength(500);
    expect(second.phases.flatMap((p) => p.points)).toHaveLength(100);
    expect(queuedSecond).toMatchObject({ requestId: request.requestId, part: 2, parts: 2, executionName: request.executions[1] });
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.request).toMatchObject({ status: 'cancelled', cancelled: 600, done: 0, cancelledBy: scientist.name });
    expect(sfnMock.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual(request.executions.map((name) => executionArnOf(stateMachineArn, name)));
    expect(startedAfterCancel).toBe('cancelled');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(finishedAfterCancel).toEqual({ status: 'cancelled' });
    expect(queue.messages).toHaveLength(queuedBefore);
    expect((await getRequest(table, request.requestId))?.status).toBe('cancelled');
  });

  it('refuses cancelling to an uploader and answers an ended request as it is', async () => {
    // Arrange
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [11] } }, admin, { table, config, queue });
    await cancelRequest(request.requestId, admin, { table });

    // Act
    const again = await cancelRequest(request.requestId, admin, { table });

    // Assess
    await expect(cancelRequest(request.requestId, { name: 'u', role: 'uploader' }, { table })).rejects.toThrow(/admin or scientist/);
    expect(again).toMatchObject({ cancelled: false, request: { status: 'cancelled' } });
  });
});
