import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi, type Router } from '#api/api';
import type { ApiStore } from '#api/route';
import type { ExecutionOutcome, NotebookExecutor } from '#reports/executor';
import { KernelUnavailableError } from '#reports/errors';
import type { ReportMessage } from '#reports/messages';
import type { Notebook } from '#reports/notebook';
import type { ReportBucket } from '#reports/objects';
import { renderReport } from '#reports/render';
import { createReportService, type ReportService } from '#reports/service';
import { createReport, getReport } from '#store/reports';
import { datasetHeadKey, datasetVersionKey } from '#store/keys';
import { Table } from '#store/table';
import { bearer, config, json, localAuthenticator, MemoryUploads, request } from './api-fixtures.ts';
import { codeCell, markdownCell, notebook, papermillTemplate } from './reports-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** The data bucket in memory; presigned URLs name the key so tests can see what was signed. */
class MemoryBucket implements ReportBucket {
  readonly objects = new Map<string, { body: string; contentType: string }>();
  async put(key: string, body: string, contentType: string) {
    this.objects.set(key, { body, contentType });
  }
  async getText(key: string) {
    const found = this.objects.get(key);
    if (!found) throw new Error(`no object ${key}`);
    return found.body;
  }
  async presign(key: string, seconds: number) {
    return `https://bucket.test/${key}?expires=${seconds}`;
  }
  async list(prefix: string) {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}

/** An executor that records what it was given and answers as told. */
class ScriptedExecutor implements NotebookExecutor {
  readonly received: Notebook[] = [];
  constructor(private readonly answer: (notebook: Notebook) => ExecutionOutcome) {}
  async execute(notebook: Notebook) {
    this.received.push(notebook);
    return this.answer(notebook);
  }
}

let testTable: TestTable;
let table: Table;
let bucket: MemoryBucket;
let sent: ReportMessage[];
let service: ReportService;
let api: Router;

beforeAll(async () => {
  testTable = await startTestTable('symbiont-reports-test');
  table = new Table(testTable.client, testTable.tableName);
  // Two published versions of readings.
  for (const version of [1, 2]) {
    await table.put({
      ...datasetVersionKey('readings', version),
      dataset: 'readings',
      version,
      state: 'published',
      sha256: String(version).repeat(64),
      bytes: 100,
      rows: 3,
      specRevision: 'r1',
      profile: { temperature: { nulls: 0, distinctEstimate: 3, min: 1, max: 3 } },
      uploadId: version === 1 ? '01JH2QK7W3M9XG5V8RZB4TNC6D' : '01JH2QM1A4B5C6D7E8F9G0H1J2',
      file: `readings-${version}.csv`,
      key: `datasets/readings/v${version}/readings-${version}.csv`,
      reservedAt: '2025-01-07T09:00:00.000Z',
      createdAt: '2025-01-07T09:00:01.000Z',
    });
  }
  await table.put({ ...datasetHeadKey('readings'), dataset: 'readings', latest: 2, allocated: 2, updatedAt: '2025-01-07T09:00:01.000Z' });
});

afterAll(async () => {
  await testTable.close();
});

beforeEach(() => {
  // The table (and so the bucket that its templates name) lives as long as the file.
  bucket ??= new MemoryBucket();
  sent = [];
  service = createReportService({ table, bucket, queue: { send: async (m) => void sent.push(m) }, config });
  api = createApi({ store: new MemoryUploads() as ApiStore, config, authenticator: localAuthenticator, reports: service });
});

const put = (name: string, body: unknown, role: 'admin' | 'scientist' | 'uploader' = 'scientist') =>
  api.handle(request('PUT', `/templates/${name}`, { ...bearer(role), 'content-type': 'application/json' }, JSON.stringify(body)));
const post = (body: unknown) => api.handle(request('POST', '/reports', { ...bearer('scientist'), 'content-type': 'application/json' }, JSON.stringify(body)));

describe('templates', () => {
  it('registers a notebook and shows its declared parameters', async () => {
    // Act
    const created = await put('smoothing', papermillTemplate());
    const shown = await api.handle(request('GET', '/templates/smoothing', bearer('admin')));

    // Assess
    expect(created.statusCode).toBe(201);
    expect(json(shown).parameters.map((p: { name: string; type: string }) => `${p.name}:${p.type}`)).toEqual(['alpha:float', 'ratio:float', 'name:str', 'items:list', 'flag:bool', 'missing:any']);
    expect(json(shown)).toMatchObject({ kernel: 'python3', language: 'python', hasParametersCell: true, registeredBy: 'local-scientist', revision: 1 });
    expect(bucket.objects.get(json(shown).key)?.contentType).toBe('application/x-ipynb+json');
  });

  it('changes nothing when the same notebook is registered again, and makes a revision when it differs', async () => {
    // Prepare
    await put('again', papermillTemplate());

    // Act
    const same = json(await put('again', papermillTemplate()));
    const changedNotebook = papermillTemplate();
    changedNotebook.cells.push(codeCell('print(2)', undefined, 'extra'));
    const changed = json(await put('again', changedNotebook));

    // Assess
    expect(same).toMatchObject({ created: false, changed: false, template: { revision: 1 } });
    expect(changed).toMatchObject({ created: false, changed: true, template: { revision: 2 } });
  });

  it('refuses a body that is not an nbformat 4 notebook with 400, saying where', async () => {
    // Prepare
    const bad = papermillTemplate() as unknown as { cells: { cell_type: string }[] };
    bad.cells[1]!.cell_type = 'python';

    // Act
    const answer = await put('broken', bad);

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(json(answer).error.message).toMatch(/not a valid nbformat 4 notebook: cells\/1/);
  });

  it('lets an uploader neither register nor read templates', async () => {
    // Act
    const answer = await put('nope', papermillTemplate(), 'uploader');

    // Assess
    expect(answer.statusCode).toBe(403);
  });
});

describe('POST /reports', () => {
  beforeEach(async () => {
    await put('smoothing', papermillTemplate());
  });

  it('records one report per dataset version and queues each after recording it', async () => {
    // Act
    const answer = await post({ template: 'smoothing', parameters: { alpha: 0.2 }, datasets: [{ name: 'readings', version: 1 }, { name: 'readings', version: 'latest' }] });

    // Assess
    expect(answer.statusCode).toBe(202);
    const reports = json(answer).reports as { reportId: string; dataset: unknown; status: string }[];
    expect(reports.map((r) => [r.dataset, r.status])).toEqual([
      [{ name: 'readings', version: 1 }, 'queued'],
      [{ name: 'readings', version: 2 }, 'queued'],
    ]);
    expect(sent).toEqual(reports.map((r) => ({ reportId: r.reportId })));
    for (const r of reports) expect(await getReport(table, r.reportId)).toBeDefined();
  });

  it('refuses unknown parameter names and wrong types with a 400 naming them, and queues nothing', async () => {
    // Act
    const answer = await post({ template: 'smoothing', parameters: { alpah: 1, flag: 'yes' } });

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(json(answer).error.message).toContain('template smoothing declares no parameter alpah');
    expect(json(answer).error.message).toContain('flag must be a bool (default True), not a string');
    expect(sent).toEqual([]);
  });

  it('refuses a dataset version that is not published', async () => {
    // Act
    const answer = await post({ template: 'smoothing', dataset: { name: 'readings', version: 7 } });

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(json(answer).error.message).toBe('dataset readings has no published version 7');
  });

  it('answers 404 for a template that is not registered', async () => {
    // Act
    const answer = await post({ template: 'missing' });

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(json(answer).error.message).toMatch(/no template is named missing; registered templates: .*smoothing/);
  });
});

describe('GET /reports', () => {
  it('lists reports newest first, narrowed by template', async () => {
    // Prepare
    await put('listed', papermillTemplate());
    const first = json(await post({ template: 'listed' })).reports[0];
    const second = json(await post({ template: 'listed', parameters: { alpha: 1 } })).reports[0];

    // Act
    const page = json(await api.handle(request('GET', '/reports?template=listed', bearer('admin'))));

    // Assess
    expect(page.items.map((r: { reportId: string }) => r.reportId)).toEqual([second.reportId, first.reportId]);
  });
});

describe('renderReport', () => {
  const deps = (executor: NotebookExecutor) => ({ table, bucket, executor, config, compare: () => Promise.reject(new Error('no evaluation here')) });

  it('injects the parameters and built-ins, stores the notebook and HTML, and marks the report succeeded', async () => {
    // Prepare
    await put('smoothing', papermillTemplate());
    const [report] = json(await post({ template: 'smoothing', parameters: { alpha: 0.2 }, dataset: { name: 'readings', version: 2 } })).reports;
    const executor = new ScriptedExecutor((nb) => ({ status: 'succeeded', notebook: nb }));

    // Act
    const outcome = await renderReport({ reportId: report.reportId }, deps(executor));

    // Assess
    expect(outcome).toBe('succeeded');
    const injected = String(executor.received[0]!.cells[2]!.source);
    expect(injected).toContain('alpha = 0.2\n');
    expect(injected).toContain('dataset_url = "https://bucket.test/datasets/readings/v2/readings-2.csv?expires=');
    expect(injected).toContain('dataset_version = 2\n');
    expect(injected).toMatch(/^dataset_profile = \{"temperature": \{"nulls": 0, .*"distinctEstimate": 3.*\}\}$/m);
    const stored = await api.handle(request('GET', `/reports/${report.reportId}`, bearer('scientist')));
    expect(json(stored)).toMatchObject({ status: 'succeeded', attempts: 1, notebookKey: `reports/${report.reportId}/report.ipynb`, htmlKey: `reports/${report.reportId}/report.html` });
    expect(json(stored).urls.html).toBe(`https://bucket.test/reports/${report.reportId}/report.html?expires=3600`);
    expect(bucket.objects.get(`reports/${report.reportId}/report.html`)?.contentType).toBe('text/html; charset=utf-8');
  });

  it('stores a report whose cell failed, with the banner and the error on its status', async () => {
    // Prepare
    await put('fails', notebook([markdownCell('# t'), codeCell('x = 1', ['parameters']), codeCell('1/0')]));
    const [report] = json(await post({ template: 'fails' })).reports;
    const executor = new ScriptedExecutor((nb) => ({ status: 'failed', notebook: nb, failure: { cell: 3, name: 'ZeroDivisionError', message: 'division by zero' } }));

    // Act
    const outcome = await renderReport({ reportId: report.reportId }, deps(executor));

    // Assess
    expect(outcome).toBe('failed');
    const stored = await getReport(table, report.reportId);
    expect(stored).toMatchObject({ status: 'failed', error: { name: 'ZeroDivisionError', message: 'division by zero', cell: 4 }, htmlKey: `reports/${report.reportId}/report.html` });
    expect(bucket.objects.get(`reports/${report.reportId}/report.html`)?.body).toContain('<a href="#cell-4">cell 4</a>');
  });

  it('fails the report with what to install when no kernel can run, storing nothing', async () => {
    // Prepare
    await put('smoothing', papermillTemplate());
    const [report] = json(await post({ template: 'smoothing' })).reports;
    const executor: NotebookExecutor = { execute: () => Promise.reject(new KernelUnavailableError('no Jupyter kernel can run here: install python3-nbclient')) };

    // Act
    const outcome = await renderReport({ reportId: report.reportId }, deps(executor));

    // Assess
    expect(outcome).toBe('failed');
    expect(await getReport(table, report.reportId)).toMatchObject({ status: 'failed', error: { name: 'KernelUnavailableError', message: 'no Jupyter kernel can run here: install python3-nbclient' } });
    expect([...bucket.objects.keys()].filter((k) => k.startsWith(`reports/${report.reportId}/`))).toEqual([]);
  });

  it('hands a report about an evaluation the first repeat’s stage outputs of it and of its baseline, by stage and file', async () => {
    // Prepare
    const [head, base] = ['01JH2QN2K3M4N5P6Q7R8S9T0V1', '01JH2QK7W3M9XG5V8RZB4TNC6D'];
    await put('smoothing', papermillTemplate());
    const template = json(await api.handle(request('GET', '/templates/smoothing', bearer('scientist'))));
    const at = new Date().toISOString();
    const reportId = '01JH2QZZZZZZZZZZZZZZZZZZZ1';
    await createReport(table, { reportId, template: 'smoothing', templateKey: template.key, templateSha256: template.sha256, parameters: {}, evaluationId: head, hideCode: true, status: 'queued', requestedBy: 'symbiont:diagnostics', createdAt: at, updatedAt: at, attempts: 0 });
    for (const key of [
      `evaluations/${head}/r1/1-features/output/features.csv`,
      `evaluations/${head}/r1/2-model/output/forecast.csv`,
      `evaluations/${head}/r1/2-model/stderr.txt`,
      `evaluations/${head}/r2/2-model/output/forecast.csv`,
      `evaluations/${base}/r1/2-model/output/forecast.csv`,
    ]) {
      await bucket.put(key, 'x', 'text/csv');
    }
    const record = (evaluationId: string) => ({ evaluationId, pipeline: 'forecast', status: 'succeeded', dataset: 'readings', version: 2, commitSet: {}, parameters: {}, scores: {} }) as never;
    const comparison = { pipeline: 'forecast', head: record(head), base: record(base), metrics: {}, verdict: 'regressed' as const, regressed: true };
    const executor = new ScriptedExecutor((nb) => ({ status: 'succeeded', notebook: nb }));

    // Act
    await renderReport({ reportId }, { ...deps(executor), compare: async () => comparison });

    // Assess
    const injected = String(executor.received[0]!.cells[2]!.source);
    const url = (key: string) => `https://bucket.test/${key}?expires=1080`;
    const outputs = (line: string) => JSON.parse(new RegExp(`^${line} = (.*)$`, 'm').exec(injected)![1]!);
    expect(outputs('evaluation_outputs')).toEqual({
      features: { 'features.csv': url(`evaluations/${head}/r1/1-features/output/features.csv`) },
      model: { 'forecast.csv': url(`evaluations/${head}/r1/2-model/output/forecast.csv`) },
    });
    expect(outputs('baseline_outputs')).toEqual({ model: { 'forecast.csv': url(`evaluations/${base}/r1/2-model/output/forecast.csv`) } });
  });

  it('ignores a redelivered message of a report already rendered', async () => {
    // Prepare
    await put('smoothing', papermillTemplate());
    const [report] = json(await post({ template: 'smoothing' })).reports;
    const executor = new ScriptedExecutor((nb) => ({ status: 'succeeded', notebook: nb }));
    await renderReport({ reportId: report.reportId }, deps(executor));

    // Act
    const again = await renderReport({ reportId: report.reportId }, deps(executor));

    // Assess
    expect(again).toBe('skipped');
    expect(executor.received).toHaveLength(1);
  });
});
