import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.ts';
import { captureIo, startScriptedApi, type ScriptEntry, type ScriptedRequest } from './cli-fixtures.ts';
import { codeCell, notebook } from './reports-fixtures.ts';

/** `symbiont templates …` and `symbiont reports …` against a loopback API that records requests and answers from a script. */

const seen: ScriptedRequest[] = [];
const answers: ScriptEntry[] = [];
let api: { url: string; close: () => Promise<void> };
let dir: string;

beforeAll(async () => {
  api = await startScriptedApi(seen, answers);
});

afterAll(async () => {
  await api.close();
});

beforeEach(() => {
  seen.length = 0;
  answers.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'symbiont-cli-reports-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

const cli = (...command: string[]) => {
  const captured = captureIo({}, dir);
  return run([...command, '--api', api.url, '--token', 'admin-token-0123456789abcdef'], captured.io).then((code) => ({ code, ...captured }));
};

const report = (overrides: Record<string, unknown> = {}) => ({
  reportId: '01JD8X5Q3ZREPORTREPORTREPO',
  template: 'explore',
  templateKey: 'templates/explore/x.ipynb',
  templateSha256: 'a'.repeat(64),
  parameters: {},
  hideCode: false,
  status: 'queued',
  requestedBy: 'local-admin',
  createdAt: '2025-01-06T09:00:00.000Z',
  updatedAt: '2025-01-06T09:00:00.000Z',
  attempts: 0,
  ...overrides,
});

describe('reports create', () => {
  it('sends typed parameters, one dataset version per --dataset and the hide-code choice', async () => {
    // Prepare
    answers.push((s) => (s.method === 'POST' && s.path === '/reports' ? { status: 202, body: { reports: [report()] } } : undefined));

    // Act
    const { code, stdout } = await cli('reports', 'create', 'explore', '--dataset', 'readings@2', '--dataset', 'sites', '-p', 'z=2.5', '-p', 'label=abc', '-p', 'flag=true', '-p', 'items=[1,2]', '--hide-code');

    // Assess
    expect(code).toBe(0);
    expect(seen[0]!.body).toEqual({
      template: 'explore',
      parameters: { z: 2.5, label: 'abc', flag: true, items: [1, 2] },
      datasets: [
        { name: 'readings', version: 2 },
        { name: 'sites', version: 'latest' },
      ],
      hideCode: true,
    });
    expect(stdout()).toContain('01JD8X5Q3ZREPORTREPORTREPO');
  });

  it('refuses a parameter without a name as a usage error, sending nothing', async () => {
    // Act
    const { code, stderr } = await cli('reports', 'create', 'explore', '-p', '=3');

    // Assess
    expect(code).toBe(2);
    expect(stderr()).toContain('--param =3: expected name=value');
    expect(seen).toEqual([]);
  });

  it('waits for the reports and exits 1 when one failed, saying why', async () => {
    // Prepare
    answers.push((s) => (s.method === 'POST' ? { status: 202, body: { reports: [report()] } } : undefined));
    answers.push((s) => (s.method === 'GET' ? { status: 200, body: report({ status: 'failed', error: { name: 'ValueError', message: 'bad', cell: 4 } }) } : undefined));

    // Act
    const { code, stdout, stderr } = await cli('reports', 'create', 'explore', '--wait');

    // Assess
    expect(code).toBe(1);
    expect(stdout()).toContain('ValueError: bad (cell 4)');
    expect(stderr()).toContain('1 of 1 report failed');
  });
});

describe('templates put', () => {
  it('PUTs the notebook file as the body, with the description', async () => {
    // Prepare
    const file = join(dir, 'n.ipynb');
    const nb = notebook([codeCell('x = 1', ['parameters'])]);
    writeFileSync(file, JSON.stringify(nb));
    answers.push((s) =>
      s.method === 'PUT'
        ? {
            status: 201,
            body: {
              created: true,
              changed: true,
              template: {
                name: 'n', sha256: 'a'.repeat(64), key: 'k', kernel: 'python3', language: 'python', cells: 1, hasParametersCell: true, registeredBy: 'local-admin',
                source: 'api', createdAt: '2025-01-06T09:00:00.000Z', updatedAt: '2025-01-06T09:00:00.000Z', revision: 1, builtIns: [],
                parameters: [{ name: 'x', type: 'int', inferredTypeName: 'None', default: '1', help: '', nullable: false }],
              },
            },
          }
        : undefined,
    );

    // Act
    const { code, stdout } = await cli('templates', 'put', 'n', 'n.ipynb', '--description', 'a test');

    // Assess
    expect(code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'PUT', path: '/templates/n', query: { description: 'a test' }, body: nb });
    expect(stdout()).toContain('Registered template n (revision 1, 1 cells, python3).');
    expect(stdout()).toMatch(/x\s+int\s+1/);
  });
});

describe('reports download', () => {
  it('writes the HTML and the notebook fetched from the presigned URLs', async () => {
    // Prepare
    answers.push((s) =>
      s.path === '/reports/01JD8X5Q3ZREPORTREPORTREPO'
        ? { status: 200, body: report({ status: 'succeeded', urls: { html: `${api.url}/signed/html`, notebook: `${api.url}/signed/nb`, expiresAt: '2025-01-06T10:00:00.000Z' } }) }
        : undefined,
    );
    answers.push((s) => (s.path === '/signed/html' ? { status: 200, body: '<!doctype html><p>report</p>', type: 'text/html' } : undefined));
    answers.push((s) => (s.path === '/signed/nb' ? { status: 200, body: '{"cells":[]}', type: 'application/json' } : undefined));

    // Act
    const { code } = await cli('reports', 'download', '01JD8X5Q3ZREPORTREPORTREPO', '--dir', 'out');

    // Assess
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'out', '01JD8X5Q3ZREPORTREPORTREPO.html'), 'utf8')).toBe('<!doctype html><p>report</p>');
    expect(readFileSync(join(dir, 'out', '01JD8X5Q3ZREPORTREPORTREPO.ipynb'), 'utf8')).toBe('{"cells":[]}');
  });

  it('says there is nothing to download while the report is queued', async () => {
    // Prepare
    answers.push(() => ({ status: 200, body: report() }));

    // Act
    const { code, stderr } = await cli('reports', 'download', '01JD8X5Q3ZREPORTREPORTREPO');

    // Assess
    expect(code).toBe(1);
    expect(stderr()).toContain('report 01JD8X5Q3ZREPORTREPORTREPO is queued: it has nothing to download yet');
  });
});
