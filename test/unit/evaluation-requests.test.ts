import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError } from '#shared/errors';
import { getRepositoryHead } from '#store/commits';
import { getRequest } from '#store/evaluations';
import { Table } from '#store/table';
import { InvalidEvaluationRequestError, UnknownCommitError } from '#evaluation/errors';
import { reportCommit, requestEvaluation } from '#evaluation/requests';
import { admin, config, memoryQueue, publishVersion, scientist, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** Requests as the API makes them: defaults, the frozen baseline, asking twice, reruns. */

let testTable: TestTable;
let table: Table;

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-requests');
  table = new Table(testTable.client, testTable.tableName);
  await publishVersion(table, 'readings', 1);
  await publishVersion(table, 'readings', 2);
  await reportCommit({ repository: 'features', sha: sha('a') }, scientist, { table, config });
  await reportCommit({ repository: 'model', sha: sha('b') }, scientist, { table, config });
});

afterAll(async () => {
  await testTable.close();
});

describe('reporting commits', () => {
  it('moves the head of a repository for a commit on its default branch', async () => {
    // Act
    const reported = await reportCommit({ repository: 'features', sha: sha('c'), pushedAt: '2030-01-01T00:00:00Z' }, scientist, { table, config });

    // Assess
    expect(reported).toMatchObject({ created: true, headMoved: true, head: { sha: sha('c') } });
    await reportCommit({ repository: 'features', sha: sha('a'), pushedAt: '2030-01-02T00:00:00Z' }, scientist, { table, config });
  });

  it('records a commit on another branch without moving the head', async () => {
    // Act
    const reported = await reportCommit({ repository: 'model', sha: sha('e'), branch: 'experiment' }, scientist, { table, config });

    // Assess
    expect(reported.headMoved).toBe(false);
    expect((await getRepositoryHead(table, 'model'))?.sha).toBe(sha('b'));
  });

  it('refuses a repository the config does not have', async () => {
    // Assess
    await expect(reportCommit({ repository: 'nope', sha: sha('1') }, scientist, { table, config })).rejects.toThrow(/no repository is named nope/);
  });
});

describe('requesting an evaluation', () => {
  it('evaluates the default-branch heads on the latest version over the pipeline’s grid by default', async () => {
    // Prepare
    const queue = memoryQueue();

    // Act
    const { request, created } = await requestEvaluation({ pipeline: 'forecast' }, scientist, { table, config, queue });

    // Assess
    expect(created).toBe(true);
    expect(request).toMatchObject({
      commitSets: [{ features: sha('a'), model: sha('b') }],
      datasetVersions: [{ dataset: 'readings', version: 2 }],
      parameterPoints: [{ window: 3 }, { window: 7 }],
      baselineCommitSet: { features: sha('a'), model: sha('b') },
      total: 2,
      status: 'queued',
    });
    expect(queue.messages).toEqual([expect.objectContaining({ requestId: request.requestId, part: 1, executionName: `forecast-${request.hash.slice(0, 40)}` })]);
  });

  it('records the request before it queues it', async () => {
    // Prepare
    let recorded: unknown;
    const queue = { send: async (message: { requestId: string }) => void (recorded = await getRequest(table, message.requestId)) };

    // Act
    await requestEvaluation({ pipeline: 'forecast', datasetVersions: [{ dataset: 'readings', version: 1 }] }, scientist, { table, config, queue });

    // Assess
    expect(recorded).toMatchObject({ status: 'queued' });
  });

  it('answers the earlier request when the same evaluation is asked again', async () => {
    // Prepare
    const queue = memoryQueue();
    const first = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [5] } }, scientist, { table, config, queue });

    // Act
    const again = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [5] } }, scientist, { table, config, queue });

    // Assess
    expect(again.created).toBe(false);
    expect(again.request.requestId).toBe(first.request.requestId);
    // Still queued: sent again, under the same execution name, which starts nothing twice.
    expect(new Set(queue.messages.map((m) => m.executionName)).size).toBe(1);
  });

  it('runs it again as a rerun with a suffixed execution name for an admin', async () => {
    // Prepare
    const queue = memoryQueue();
    const first = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [9] } }, scientist, { table, config, queue });

    // Act
    const rerun = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [9] }, rerun: true }, admin, { table, config, queue });

    // Assess
    expect(rerun.created).toBe(true);
    expect(rerun.request).toMatchObject({ reason: 'rerun', rerun: 1, executions: [`${first.request.executions[0]}-r1`] });
  });

  it('refuses a rerun to a scientist', async () => {
    // Assess
    await expect(requestEvaluation({ pipeline: 'forecast', rerun: true }, scientist, { table, config, queue: memoryQueue() })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('takes a repository left out of a commit set at its head, and a short sha of a reported commit', async () => {
    // Act
    const { request } = await requestEvaluation({ pipeline: 'forecast', commitSets: [{ model: 'eeeeeee' }] }, scientist, { table, config, queue: memoryQueue() });

    // Assess
    expect(request.commitSets).toEqual([{ features: sha('a'), model: sha('e') }]);
    expect(request.total).toBe(4);
  });

  it('refuses a short sha no reported commit starts with', async () => {
    // Assess
    await expect(requestEvaluation({ pipeline: 'forecast', commitSets: [{ model: '1234567' }] }, scientist, { table, config, queue: memoryQueue() })).rejects.toBeInstanceOf(
      UnknownCommitError,
    );
  });

  it('refuses a dataset version that is not published', async () => {
    // Assess
    await expect(
      requestEvaluation({ pipeline: 'forecast', datasetVersions: [{ dataset: 'readings', version: 9 }] }, scientist, { table, config, queue: memoryQueue() }),
    ).rejects.toThrow(/no published version 9/);
  });

  it('refuses a pipeline the config does not have, naming the known ones', async () => {
    // Act
    const asking = requestEvaluation({ pipeline: 'forcast' }, scientist, { table, config, queue: memoryQueue() });

    // Assess
    await expect(asking).rejects.toBeInstanceOf(InvalidEvaluationRequestError);
    await expect(asking).rejects.toThrow(/known pipelines: forecast/);
  });
});
