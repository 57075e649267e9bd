import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeTime } from 'ulid';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientTaskError } from '#evaluation/errors';
import { reportCommit, requestEvaluation } from '#evaluation/requests';
import type { StageRun } from '#evaluation/stage-contract';
import { runEvaluationTask, type DiagnoseOutcome, type EvaluationTaskDeps, type PreparedPart } from '#evaluation/tasks';
import { createDiagnostics, diagnosticReportId, DIAGNOSTICS_REQUESTER } from '#reports/diagnostics';
import type { ReportMessage, ReportQueue } from '#reports/messages';
import { getEvaluation, getRequest } from '#store/evaluations';
import { getReport, listReports, putTemplate } from '#store/reports';
import { Table } from '#store/table';
import { config, memoryQueue, objectBody, publishVersion, scientist, sha } from './evaluation-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * The `diagnose` and `diagnostic-failed` tasks: a regressed evaluation gets a report of its
 * pipeline's `onRegression` template (`diagnose` in the example config), recorded, queued and
 * linked from the evaluation; what goes wrong is recorded on the evaluation, which stays succeeded.
 */

let testTable: TestTable;
let table: Table;
const s3 = mockClient(S3Client);
let objects: Record<string, string> = {};
let reportQueue: ReportQueue & { messages: ReportMessage[]; failWith?: Error };
let deps: EvaluationTaskDeps;
const template = config.pipelines.forecast!.onRegression!.template;

beforeAll(async () => {
  testTable = await startTestTable('symbiont-evaluation-diagnose');
  table = new Table(testTable.client, testTable.tableName);
  await publishVersion(table, 'readings', 1);
  await reportCommit({ repository: 'features', sha: sha('a') }, scientist, { table, config });
  await reportCommit({ repository: 'model', sha: sha('b') }, scientist, { table, config });
});

afterAll(async () => {
  await testTable.close();
});

beforeEach(() => {
  const messages: ReportMessage[] = [];
  reportQueue = {
    messages,
    async send(message) {
      if (reportQueue.failWith) throw reportQueue.failWith;
      messages.push(message);
    },
  };
  deps = {
    table,
    s3: new S3Client({ region: 'us-east-1' }),
    dataBucket: 'data',
    config,
    queue: memoryQueue(),
    diagnostics: createDiagnostics({ table, queue: reportQueue }),
  };
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({ ContentLength: Buffer.byteLength(objects[input.Key] ?? '') }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const text = objects[input.Key];
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return objectBody(text);
  });
});

afterEach(() => {
  s3.reset();
  objects = {};
});

const task = <T>(payload: Record<string, unknown>) => runEvaluationTask(payload, deps) as Promise<T>;

/** The template, registered as the config's templates are. */
async function registerTemplate(name = template): Promise<void> {
  const at = '2025-01-06T09:00:00.000Z';
  await putTemplate(table, {
    name,
    sha256: 'c'.repeat(64),
    key: `templates/${name}/${'c'.repeat(64)}.ipynb`,
    kernel: 'python3',
    language: 'python',
    cells: 3,
    parameters: [{ name: 'top_n', type: 'int', inferredTypeName: 'int', default: '10', help: '', nullable: false }],
    hasParametersCell: true,
    registeredBy: 'config',
    source: 'config',
    createdAt: at,
    updatedAt: at,
    revision: 1,
  });
}

/** A request of one point, evaluated and scored: its request id and its (succeeded) evaluation id. */
async function scoredEvaluation(window: number): Promise<{ requestId: string; evaluationId: string }> {
  const { request } = await requestEvaluation({ pipeline: 'forecast', parameters: { window: [window] } }, scientist, { table, config, queue: memoryQueue() });
  const prepared = await task<PreparedPart>({ task: 'prepare', requestId: request.requestId, part: 1 });
  const evaluationId = prepared.phases.flatMap((p) => p.points)[0]!.evaluationId;
  const { runs } = await task<{ runs: StageRun[] }>({ task: 'start-point', requestId: request.requestId, evaluationId });
  for (const run of runs) {
    objects[`${run.prefix}result.json`] = JSON.stringify({ exitCode: 0, signal: null, timedOut: false, durationMs: 5, startedAt: '2025-01-06T09:00:00.000Z', finishedAt: '2025-01-06T09:00:00.005Z' });
    if (run.last) objects[`${run.prefix}output/metrics.json`] = JSON.stringify({ mae: 1.5 });
  }
  await task({ task: 'record-scores', requestId: request.requestId, evaluationId });
  return { requestId: request.requestId, evaluationId };
}

describe('the diagnose task', () => {
  it('records and queues a report of the pipeline’s onRegression template about the evaluation, and links it', async () => {
    // Prepare
    await registerTemplate();
    const { requestId, evaluationId } = await scoredEvaluation(21);

    // Act
    const outcome = await task<DiagnoseOutcome>({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });

    // Assess
    const evaluation = await getEvaluation(table, evaluationId);
    const reportId = evaluation?.report?.reportId;
    expect(outcome).toEqual({ queued: 1, failed: 0 });
    expect(evaluation).toMatchObject({ status: 'succeeded', report: { status: 'queued', template, reportId: expect.any(String) } });
    expect(await getReport(table, reportId!)).toMatchObject({ template, evaluationId, status: 'queued', parameters: {}, requestedBy: DIAGNOSTICS_REQUESTER });
    expect(reportQueue.messages).toEqual([{ reportId }]);
    expect((await getRequest(table, requestId))?.report).toMatchObject({ status: 'wanted', template, evaluationIds: [evaluationId] });
  });

  it('makes the same report once when run again', async () => {
    // Prepare
    await registerTemplate();
    const { requestId, evaluationId } = await scoredEvaluation(22);
    await task({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });
    const first = (await getEvaluation(table, evaluationId))?.report?.reportId;

    // Act
    await task({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });

    // Assess
    expect((await getEvaluation(table, evaluationId))?.report?.reportId).toBe(first);
    expect(reportQueue.messages).toEqual([{ reportId: first }]);
    expect((await listReports(table, { limit: 100 })).items.filter((r) => r.evaluationId === evaluationId)).toHaveLength(1);
  });

  it('records a missing template as a failed diagnostic on the evaluation, which stays succeeded', async () => {
    // Prepare
    const planned = { ...config, pipelines: { forecast: { ...config.pipelines.forecast!, onRegression: { template: 'no-such-template' } } } };
    deps = { ...deps, config: planned };
    const { requestId, evaluationId } = await scoredEvaluation(23);

    // Act
    const outcome = await task<DiagnoseOutcome>({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });

    // Assess
    expect(outcome).toEqual({ queued: 0, failed: 1 });
    const evaluation = await getEvaluation(table, evaluationId);
    expect(evaluation?.status).toBe('succeeded');
    expect(evaluation?.report).toMatchObject({ status: 'failed', template: 'no-such-template', reason: expect.stringMatching(/no template is named no-such-template/) });
    expect(reportQueue.messages).toEqual([]);
  });

  it('throws a queue that refuses for the state machine to retry, and queues the recorded report on the retry', async () => {
    // Prepare
    await registerTemplate();
    const { requestId, evaluationId } = await scoredEvaluation(24);
    reportQueue.failWith = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    // Act
    const failing = task({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });
    await expect(failing).rejects.toBeInstanceOf(TransientTaskError);
    reportQueue.failWith = undefined;
    await task({ task: 'diagnose', requestId, evaluationIds: [evaluationId] });

    // Assess
    const reportId = (await getEvaluation(table, evaluationId))?.report?.reportId;
    expect(reportQueue.messages).toEqual([{ reportId }]);
  });

  it('records a diagnostic that failed for good on the evaluations still without a report', async () => {
    // Prepare
    const { requestId, evaluationId } = await scoredEvaluation(25);

    // Act
    await task({ task: 'diagnostic-failed', requestId, evaluationIds: [evaluationId], error: { Error: 'TransientTaskError', Cause: 'diagnose: Rate exceeded' } });

    // Assess
    const evaluation = await getEvaluation(table, evaluationId);
    expect(evaluation?.status).toBe('succeeded');
    expect(evaluation?.report).toMatchObject({ status: 'failed', template, reason: 'TransientTaskError: diagnose: Rate exceeded' });
  });
});

describe('diagnosticReportId', () => {
  it('is a ULID dated when the evaluation finished, the same for the same evaluation', () => {
    // Act
    const id = diagnosticReportId('01JD8X5Q3ZC9W8M2V7K4T6R1YB', '2025-01-06T09:00:00.000Z');

    // Assess
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id)).toBe(Date.parse('2025-01-06T09:00:00.000Z'));
    expect(diagnosticReportId('01JD8X5Q3ZC9W8M2V7K4T6R1YB', '2025-01-06T09:00:00.000Z')).toBe(id);
    expect(diagnosticReportId('01JD8X5Q3ZC9W8M2V7K4T6R1YC', '2025-01-06T09:00:00.000Z')).not.toBe(id);
  });
});
