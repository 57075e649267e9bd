import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.ts';
import { captureIo, deadAddress, startMockApi, tokens, type MockApi } from './cli-fixtures.ts';

let api: MockApi;
let workDir: string;

beforeAll(async () => {
  api = await startMockApi();
  workDir = mkdtempSync(join(tmpdir(), 'symbiont-cli-'));
});

afterAll(async () => {
  await api.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** The global options that point the CLI at the mock API with a token. */
const at = (role: keyof typeof tokens = 'admin') => ['--api', api.url, '--token', tokens[role]];

describe('help', () => {
  it('lists the commands and global options with --help', async () => {
    // Prepare
    const { io, stdout } = captureIo();

    // Act
    const code = await run(['--help'], io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toMatch(/Usage: symbiont \[options\] \[command\]/);
    expect(stdout()).toMatch(/uploads\s+Files that arrived/);
    expect(stdout()).toMatch(/--json[\s\S]*--api <url>[\s\S]*--token <token>[\s\S]*--profile <profile>[\s\S]*--region <region>/);
  });

  it('describes the options of uploads list with --help', async () => {
    const { io, stdout } = captureIo();

    const code = await run(['uploads', 'list', '--help'], io);

    expect(code).toBe(0);
    expect(stdout()).toMatch(/--status <status>[\s\S]*"quarantined"[\s\S]*--limit <n>[\s\S]*--all/);
  });

  it('exits 2 on an unknown command', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uplods', 'list'], io);

    expect(code).toBe(2);
    expect(stderr()).toMatch(/unknown command 'uplods'/);
  });

  it('exits 2 on a limit that is not a whole number', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uploads', 'list', '--limit', 'ten', ...at()], io);

    expect(code).toBe(2);
    expect(stderr()).toMatch(/--limit <n>' argument 'ten' is invalid/);
  });
});

describe('uploads list', () => {
  it('prints the API’s page as JSON with --json', async () => {
    const { io, stdout } = captureIo();

    const code = await run(['uploads', 'list', '--json', '--limit', '2', ...at()], io);

    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toEqual({
      items: [expect.objectContaining({ uploadId: '01JH2QK7W3M9XG5V8RZB4TNC61' }), expect.objectContaining({ uploadId: '01JH2QK7W3M9XG5V8RZB4TNC62' })],
      cursor: 'o2',
    });
  });

  it('sends the token as a bearer token', async () => {
    const { io } = captureIo();
    const before = api.requests.length;

    await run(['uploads', 'list', '--json', ...at('scientist')], io);

    expect(api.requests[before]?.headers.authorization).toBe(`Bearer ${tokens.scientist}`);
  });

  it('prints a table with a header and one line per upload', async () => {
    const { io, stdout } = captureIo();

    await run(['uploads', 'list', '--status', 'quarantined', ...at()], io);

    expect(stdout().split('\n')).toEqual([
      'UPLOAD ID                   DATASET   STATUS       SENDER      SOURCE  SIZE     RECEIVED',
      '01JH2QK7W3M9XG5V8RZB4TNC63  readings  quarantined  field-team  api     4.5 KiB  2025-01-07 09:12:44Z',
      '',
    ]);
  });

  it('tells on stderr how to get the next page', async () => {
    const { io, stderr } = captureIo();

    await run(['uploads', 'list', '--limit', '2', ...at()], io);

    expect(stderr()).toBe('More uploads: add --cursor o2 (or --all).\n');
  });

  it('follows every cursor with --all', async () => {
    const { io, stdout } = captureIo();

    await run(['uploads', 'list', '--all', '--limit', '2', '--json', ...at()], io);

    const listed = JSON.parse(stdout());
    expect(listed.items).toHaveLength(5);
    expect(listed).not.toHaveProperty('cursor');
  });

  it('exits 1 with the API’s message when the API refuses (403)', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uploads', 'list', '--dataset', 'sites', ...at('uploader')], io);

    expect(code).toBe(1);
    expect(stderr()).toBe('symbiont: uploader field-team is not bound to dataset sites; it may read dataset readings\n');
  });

  it('exits 1 naming the bad field when the API finds the query invalid', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uploads', 'list', '--limit', '500', ...at()], io);

    expect(code).toBe(1);
    expect(stderr()).toMatch(/query\.limit: expected a number ≤ 100/);
  });

  it('exits 3 when nothing listens at the API address', async () => {
    const { io, stderr } = captureIo();
    const nowhere = await deadAddress();

    const code = await run(['uploads', 'list', '--api', nowhere, '--token', 't'], io);

    expect(code).toBe(3);
    expect(stderr()).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('exits 3 when nothing says where the API is', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uploads', 'list'], io);

    expect(code).toBe(3);
    expect(stderr()).toMatch(/no API to call/);
  });
});

describe('uploads show', () => {
  it('prints the upload as aligned fields', async () => {
    const { io, stdout } = captureIo();

    await run(['uploads', 'show', '01JH2QK7W3M9XG5V8RZB4TNC63', ...at()], io);

    expect(stdout()).toMatch(/^upload {4}01JH2QK7W3M9XG5V8RZB4TNC63$/m);
    expect(stdout()).toMatch(/^status {4}quarantined$/m);
    expect(stdout()).toMatch(/^size {6}4\.5 KiB \(4608 bytes\)$/m);
  });

  it('exits 1 with the API’s message for an unknown id', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['uploads', 'show', '01JH2QZZZZZZZZZZZZZZZZZZZZ', ...at()], io);

    expect(code).toBe(1);
    expect(stderr()).toBe('symbiont: no upload has the id 01JH2QZZZZZZZZZZZZZZZZZZZZ\n');
  });
});

describe('configuration', () => {
  it('takes the API and the admin token from .symbiont/endpoints.json in the working directory', async () => {
    const dir = join(workDir, 'local');
    mkdirSync(join(dir, '.symbiont'), { recursive: true });
    writeFileSync(join(dir, '.symbiont', 'endpoints.json'), JSON.stringify({ api: api.url, tokens: tokens }));
    const { io } = captureIo({}, dir);
    const before = api.requests.length;

    const code = await run(['uploads', 'list', '--json'], io);

    expect(code).toBe(0);
    expect(api.requests[before]?.headers.authorization).toBe(`Bearer ${tokens.admin}`);
  });

  it('takes the API and token from SYMBIONT_API_URL and SYMBIONT_TOKEN', async () => {
    const { io } = captureIo({ SYMBIONT_API_URL: api.url, SYMBIONT_TOKEN: tokens.uploader });
    const before = api.requests.length;

    await run(['uploads', 'list', '--json'], io);

    expect(api.requests[before]?.headers.authorization).toBe(`Bearer ${tokens.uploader}`);
  });

  it('never sends the local admin token to another API', async () => {
    const dir = join(workDir, 'other');
    mkdirSync(join(dir, '.symbiont'), { recursive: true });
    writeFileSync(join(dir, '.symbiont', 'endpoints.json'), JSON.stringify({ api: 'http://127.0.0.1:4510', tokens }));
    const { io, stderr } = captureIo({}, dir);
    const before = api.requests.length;

    const code = await run(['uploads', 'list', '--api', api.url], io);

    // Without a token it would sign with SigV4, and 127.0.0.1 names no AWS region.
    expect(code).toBe(3);
    expect(stderr()).toMatch(/cannot tell the AWS region/);
    expect(api.requests.length).toBe(before);
  });

  it('exits 2 on an API address that is not a URL', async () => {
    const { io } = captureIo();

    const code = await run(['uploads', 'list', '--api', 'localhost:4510', '--token', 't'], io);

    expect(code).toBe(2);
  });
});
