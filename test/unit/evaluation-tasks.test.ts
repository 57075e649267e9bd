import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getBaseline, getEvaluation, getRequest, type RequestRecord } from '#store/evaluations';
import { Table } from '#store/table';
import { EvaluationPartFailedError, InvalidMetricsError, StageRunnerUnavailableError } from '#evaluation/errors';
import { reportCommit, requestEvaluation } from '#evaluation/requests';
import { runEvaluationTask, type EvaluationTaskDeps, type PreparedPart, type PartTally } from '#evaluation/tasks';
import type { StageRun } from '#evaluation/stage-contract';
import { config, memoryQueue, objectBody, publishVersion, scientist, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * The state machine's tasks on a real (in-memory) dynalite, with the data bucket's objects — what
 * the stage runner leaves there — answered by a mocked S3 client.
 */

let testTable: TestTable;
let table: Table;
const s3 = mockClient(S3Client);
const queue = memoryQueue();
/** What the tasks counted for operations (the MetricSink). */
const counted: Record<string, string>[] = [];
let deps: EvaluationTaskDeps;

/** Objects of the data bucket, by key. */
let objects: Record<string, string> = {};

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-tasks');
  table = new Table(testTable.client, testTable.tableName);
  deps = { table, s3: new S3Client({ region: 'us-east-1' }), dataBucket: 'data', config, queue, metrics: { count: (name, dimensions) => counted.push({ name, ...dimensions }), measure: () => undefined } };
  await publishVersion(table, 'readings', 1);
  await reportCommit({ repository: 'features', sha: sha('a') }, scientist, { table, config });
  await reportCommit({ repository: 'model', sha: sha('b') }, scientist, { table, config });
});

afterAll(async () => {
  await testTable.close();
});

afterEach(() => {
  s3.reset();
  objects = {};
});

function serveObjects(): void {
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const text = objects[input.Key];
    if (text === undefined) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return { ContentLength: Buffer.byteLength(text) };
  });
  s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
    const text = objects[input.Key];
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    // As the local S3 does: a suffix range of an empty object drops the connection.
    if (input.Range?.startsWith('bytes=-') && text.length === 0) throw Object.assign(new Error('aborted'), { name: 'Error' });
    const range = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    return objectBody(range ? Buffer.from(text).subarray(Number(range[1]), Number(range[2]) + 1).toString() : text);
  });
}

/** What the stage runner leaves for one run. */
function ran(run: StageRun, outcome: { exitCode: number; metrics?: string; stderr?: string; image?: string }): void {
  objects[`${run.prefix}result.json`] = JSON.stringify({
    exitCode: outcome.exitCode,
    signal: null,
    timedOut: false,
    durationMs: 12,
    startedAt: '2025-01-06T09:00:00.000Z',
    finishedAt: '2025-01-06T09:00:00.012Z',
    ...(outcome.image ? { image: outcome.image } : {}),
  });
  if (outcome.metrics !== undefined) objects[`${run.prefix}output/metrics.json`] = outcome.metrics;
  if (outcome.stderr !== undefined) objects[`${run.prefix}stderr.txt`] = outcome.stderr;
}

const task = <T>(payload: Record<string, unknown>) => runEvaluationTask(payload, deps) as Promise<T>;

/** Prepares part 1 of a request and starts its points: their evaluation ids, phase by phase, and their runs. */
async function startAll(request: RequestRecord) {
  const prepared = await task<PreparedPart>({ task: 'prepare', requestId: request.requestId, part: 1 });
  const runs = new Map<string, StageRun[]>();
  for (const phase of prepared.phases) {
    for (const { evaluationId } of phase.points) {
      runs.set(evaluationId, (await task<{ runs: StageRun[] }>({ task: 'start-point', requestId: request.requestId, evaluationId })).runs);
    }
  }
  return { prepared, runs };
}

async function scoreAll(request: RequestRecord, runs: Map<string, StageRun[]>, mae: (run: StageRun) => number) {
  for (const [evaluationId, list] of runs) {
    for (const run of list) ran(run, { exitCode: 0, ...(run.last ? { metrics: JSON.stringify({ mae: mae(run) }) } : {}) });
    await task({ task: 'record-scores', requestId: request.requestId, evaluationId });
    await task({ task: 'compare', requestId: request.requestId, evaluationId });
  }
}

describe('the evaluation tasks', () => {
  it('starts a point as a running evaluation with its stages in order', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [11] } }, scientist, { table, config, queue });

    // Act
    const { runs } = await startAll(request);

    // Assess
    const [evaluationId, list] = [...runs][0]!;
    expect((await getEvaluation(table, evaluationId))?.status).toBe('running');
    expect(list.map((r) => [r.stageName, r.sha, r.input.kind])).toEqual([
      ['features', sha('a'), 'dataset'],
      ['model', sha('b'), 'stage'],
    ]);
    expect(list[1]!.input).toEqual({ kind: 'stage', prefix: `${list[0]!.prefix}output/` });
    expect(list[0]!.taskTimeoutSeconds).toBe(list[0]!.timeoutSeconds + 120);
  });

  it('asks for each stage’s image by its ECR repository and the commit’s sha as tag', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [41] } }, scientist, { table, config, queue });

    // Act
    const { runs } = await startAll(request);

    // Assess
    const list = [...runs.values()][0]!;
    expect(list.map((r) => [r.ecrRepository, r.imageTag])).toEqual([
      ['acme/features', sha('a')],
      ['acme/model', sha('b')],
    ]);
  });

  it('refuses a point whose stage run would not fit in an ECS container override', async () => {
    // Prepare: a parameter value of 8,000 characters.
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: ['w'.repeat(8000)] } }, scientist, { table, config, queue });
    const prepared = await task<PreparedPart>({ task: 'prepare', requestId: request.requestId, part: 1 });
    const { evaluationId } = prepared.phases.at(-1)!.points[0]!;

    // Act
    const starting = task({ task: 'start-point', requestId: request.requestId, evaluationId });

    // Assess
    await expect(starting).rejects.toThrow(/would be passed \d+ characters \(at most 7000 fit in an ECS override\)/);
  });

  it('records the digest-pinned image each stage ran, as its result says', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [42] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);
    const [evaluationId, list] = [...runs][0]!;
    const pinned = (run: StageRun) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${run.ecrRepository}@sha256:${run.imageTag.slice(0, 1).repeat(64)}`;
    for (const run of list) ran(run, { exitCode: 0, image: pinned(run), ...(run.last ? { metrics: '{"mae": 1}' } : {}) });

    // Act
    await task({ task: 'record-scores', requestId: request.requestId, evaluationId });

    // Assess
    const evaluation = await getEvaluation(table, evaluationId);
    expect(evaluation?.stages?.map((s) => [s.name, s.image])).toEqual(list.map((run) => [run.stageName, pinned(run)]));
  });

  it('scores the heads, says no-baseline, and moves the baseline pointer to them', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [12] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);

    // Act
    await scoreAll(request, runs, () => 1.25);

    // Assess
    const [evaluationId] = [...runs.keys()];
    const evaluation = await getEvaluation(table, evaluationId!);
    expect(evaluation).toMatchObject({ status: 'succeeded', scores: { mae: { mean: 1.25 } }, verdict: 'no-baseline', regressed: false });
    expect((await getBaseline(table, 'forecast', 'readings', 1, evaluation!.pointHash))?.evaluationId).toBe(evaluationId);
    expect(await getRequest(table, request.requestId)).toMatchObject({ done: 1 });
  });

  it('flags a candidate whose mae rose beyond the tolerance, against the heads evaluated first', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', commitSets: [{ model: sha('c') }], parameters: { window: [13] } }, scientist, { table, config, queue });
    const { prepared, runs } = await startAll(request);

    // Act: the heads score 1.0, the candidate 1.1.
    await scoreAll(request, runs, (run) => (run.commitSet.model === sha('b') ? 1 : 1.1));
    const tallied = await task<PartTally>({ task: 'tally', requestId: request.requestId, part: 1 });

    // Assess
    expect(prepared.phases.map((p) => p.points.length)).toEqual([1, 1]);
    const candidate = await getEvaluation(table, prepared.phases[1]!.points[0]!.evaluationId);
    expect(candidate).toMatchObject({ regressed: true, verdict: 'regressed', comparison: { mae: { base: 1, head: 1.1, verdict: 'regressed' } } });
    expect(tallied).toEqual({ regressed: true, evaluationIds: [candidate!.evaluationId] });
    // Counted for operations: the verdicts, and the regression once.
    expect(counted.slice(-3)).toEqual([
      { name: 'Evaluations', pipeline: 'forecast', verdict: 'no-baseline' },
      { name: 'Evaluations', pipeline: 'forecast', verdict: 'regressed' },
      { name: 'Regressions', pipeline: 'forecast' },
    ]);
  });

  it('records a failed stage with its exit code and the tail of its stderr', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [14] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);
    const [evaluationId, list] = [...runs][0]!;
    ran(list[0]!, { exitCode: 0 });
    ran(list[1]!, { exitCode: 2, stderr: `${'noise\n'.repeat(2000)}Traceback: model.mjs:12 boom\n` });

    // Act
    await task({ task: 'record-failure', requestId: request.requestId, evaluationId, error: { Error: 'StageFailedError', Cause: 'stage model exited with code 2' } });

    // Assess
    const evaluation = await getEvaluation(table, evaluationId);
    expect(evaluation).toMatchObject({ status: 'failed', failure: { error: 'StageFailedError', stage: 'model', exitCode: 2, reason: 'stage model exited with code 2' } });
    expect(evaluation!.failure!.stderrTail).toMatch(/Traceback: model.mjs:12 boom\n$/);
    expect(evaluation!.failure!.stderrTail!.length).toBeLessThanOrEqual(4096);
    expect(await getRequest(table, request.requestId)).toMatchObject({ failed: 1 });
  });

  it('records a stage that was stopped at its timeout with an empty stderr', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [43] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);
    const [evaluationId, list] = [...runs][0]!;
    ran(list[0]!, { exitCode: 0 });
    objects[`${list[1]!.prefix}result.json`] = JSON.stringify({ exitCode: null, signal: 'SIGKILL', timedOut: true, durationMs: 10_000, startedAt: '2025-01-06T09:00:00.000Z', finishedAt: '2025-01-06T09:00:10.000Z' });
    objects[`${list[1]!.prefix}stderr.txt`] = '';

    // Act
    await task({ task: 'record-failure', requestId: request.requestId, evaluationId, error: { Error: 'StageTimedOutError', Cause: 'stage model ran past its 10 s timeout' } });

    // Assess
    const evaluation = await getEvaluation(table, evaluationId);
    expect(evaluation).toMatchObject({ status: 'failed', failure: { error: 'StageTimedOutError', stage: 'model', exitCode: null } });
    expect(evaluation!.failure!.stderrTail).toBeUndefined();
  });

  it('fails scoring when the last stage wrote no metrics.json', async () => {
    // Prepare
    serveObjects();
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [15] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);
    const [evaluationId, list] = [...runs][0]!;
    for (const run of list) ran(run, { exitCode: 0 });

    // Act
    const scoring = task({ task: 'record-scores', requestId: request.requestId, evaluationId });

    // Assess
    await expect(scoring).rejects.toBeInstanceOf(InvalidMetricsError);
    await expect(scoring).rejects.toThrow(/metrics.json of stage model is missing/);
  });

  it('finishes the request after its last part', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [17] } }, scientist, { table, config, queue });
    await table.update({ pk: `REQUEST#${request.requestId}`, sk: 'REQUEST' }, { set: { status: 'running' } });

    // Act
    await task({ task: 'finish', state: { requestId: request.requestId, part: 1 } });

    // Assess
    expect(await getRequest(table, request.requestId)).toMatchObject({ status: 'finished', partsFinished: 1 });
  });

  it('finishes a request its start left queued (the start’s write was lost or came late)', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [44] } }, scientist, { table, config, queue });

    // Act
    await task({ task: 'finish', state: { requestId: request.requestId, part: 1 } });

    // Assess
    expect(await getRequest(table, request.requestId)).toMatchObject({ status: 'finished', partsFinished: 1 });
  });

  it('records why a part failed and fails the execution', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [18] } }, scientist, { table, config, queue });

    // Act
    const finishing = task({ task: 'finish', state: { requestId: request.requestId, part: 1, error: { Error: 'States.Timeout', Cause: 'too slow' } } });

    // Assess
    await expect(finishing).rejects.toBeInstanceOf(EvaluationPartFailedError);
    expect(await getRequest(table, request.requestId)).toMatchObject({ status: 'failed', error: 'States.Timeout: too slow' });
  });

  it('refuses to run a stage inside the tasks function', async () => {
    // Prepare
    const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [19] } }, scientist, { table, config, queue });
    const { runs } = await startAll(request);

    // Act
    const running = task({ task: 'run-stage', run: [...runs.values()][0]![0] });

    // Assess
    await expect(running).rejects.toBeInstanceOf(StageRunnerUnavailableError);
  });
});
