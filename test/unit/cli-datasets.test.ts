import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specRevision } from '#validation/spec';
import { run } from '../../cli/main.ts';
import { config } from './api-fixtures.ts';
import { sampleVersions } from './api-datasets-fixtures.ts';
import { captureIo, startMockApi, tokens, type MockApi } from './cli-fixtures.ts';

/**
 * `symbiont datasets …` against the real router on a loopback port, whose store holds three
 * published versions of `readings` and none of `sites`.
 */

let api: MockApi;

beforeAll(async () => {
  api = await startMockApi();
});

afterAll(async () => {
  await api.close();
});

const at = (role: keyof typeof tokens = 'scientist') => ['--api', api.url, '--token', tokens[role]];

describe('datasets list', () => {
  it('prints one line per dataset with its format, newest version and short revision', async () => {
    // Prepare
    const { io, stdout } = captureIo();

    // Act
    const code = await run(['datasets', 'list', ...at()], io);

    // Assess
    expect(code).toBe(0);
    const lines = stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+FORMAT\s+LATEST\s+REVISION\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(new RegExp(`^readings\\s+csv\\s+v3\\s+${specRevision(config.datasets.readings!).slice(0, 12)}\\s+Sensor readings`));
    expect(lines[2]).toMatch(/^sites\s+jsonl\s+-\s+[0-9a-f]{12}\s+Where each sensor stands\.$/);
  });

  it('prints the API’s answer as JSON with --json', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'list', '--json', ...at()], io);

    expect(JSON.parse(stdout()).items.map((d: { name: string; latestVersion?: number }) => [d.name, d.latestVersion])).toEqual([
      ['readings', 3],
      ['sites', undefined],
    ]);
  });
});

describe('datasets show', () => {
  it('prints the spec, its revision, the newest version and a line per column', async () => {
    const { io, stdout } = captureIo();

    const code = await run(['datasets', 'show', 'readings', ...at()], io);

    expect(code).toBe(0);
    expect(stdout()).toMatch(new RegExp(`revision\\s+${specRevision(config.datasets.readings!)}\\n`));
    expect(stdout()).toMatch(/unique key\s+sensor_id, taken_at\n/);
    expect(stdout()).toMatch(/latest\s+v3: 30 rows, 2\.9 KiB, created 2025-01-03 09:00:05Z\n/);
    expect(stdout()).toMatch(/temperature\s+number\s+yes\s+min -60; max 60\n/);
  });

  it('says when nothing is published yet', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'show', 'sites', ...at()], io);

    expect(stdout()).toMatch(/latest\s+none published yet\n/);
  });

  it('exits 1 with the API’s message for a dataset the config lacks', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['datasets', 'show', 'weather', ...at()], io);

    expect(code).toBe(1);
    expect(stderr()).toBe('symbiont: no dataset is named weather; known datasets: readings, sites\n');
  });

  it('exits 1 when an uploader asks for a dataset it is not bound to', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['datasets', 'show', 'sites', ...at('uploader')], io);

    expect(code).toBe(1);
    expect(stderr()).toMatch(/not bound to dataset sites/);
  });
});

describe('datasets versions', () => {
  it('prints the versions newest first', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'versions', 'readings', ...at()], io);

    const lines = stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+ROWS\s+SIZE\s+FILE\s+SENDER\s+SHA256\s+CREATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['v3', 'v2', 'v1']);
  });

  it('tells on stderr how to get the next page', async () => {
    const { io, stdout, stderr } = captureIo();

    await run(['datasets', 'versions', 'readings', '--limit', '2', ...at()], io);

    expect(stdout().trimEnd().split('\n')).toHaveLength(3);
    expect(stderr()).toBe('More versions: add --cursor o2 (or --all).\n');
  });

  it('follows every cursor with --all', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'versions', 'readings', '--limit', '1', '--all', '--json', ...at()], io);

    expect(JSON.parse(stdout())).toEqual({ items: [3, 2, 1].map((version) => expect.objectContaining({ version })) });
  });

  it('says so when a dataset has no published version', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'versions', 'sites', ...at()], io);

    expect(stdout()).toBe('No published versions of sites.\n');
  });
});

describe('datasets version', () => {
  it('prints the version and its column profile', async () => {
    const { io, stdout } = captureIo();

    const code = await run(['datasets', 'version', 'readings', '2', ...at()], io);

    expect(code).toBe(0);
    expect(stdout()).toMatch(new RegExp(`sha256\\s+${sampleVersions[1]!.sha256}\\n`));
    expect(stdout()).toMatch(/object\s+datasets\/readings\/v2\/day-2\.csv\n/);
    expect(stdout()).toMatch(/COLUMN\s+NULLS\s+MIN\s+MAX\s+DISTINCT \(EST\.\)\ntemperature\s+1\s+-3\.5\s+21\.25\s+9\n/);
  });

  it('shows the newest version for latest', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'version', 'readings', 'latest', '--json', ...at()], io);

    expect(JSON.parse(stdout())).toMatchObject({ dataset: 'readings', version: 3 });
  });

  it('takes a version written as v2', async () => {
    const { io, stdout } = captureIo();

    await run(['datasets', 'version', 'readings', 'v2', '--json', ...at()], io);

    expect(JSON.parse(stdout()).version).toBe(2);
  });

  it('exits 2 on a version that is neither a number nor latest, before calling the API', async () => {
    const { io, stderr } = captureIo();
    const before = api.requests.length;

    const code = await run(['datasets', 'version', 'readings', 'newest', ...at()], io);

    expect(code).toBe(2);
    expect(stderr()).toMatch(/value 'newest' is invalid for argument 'version'/);
    expect(api.requests).toHaveLength(before);
  });

  it('exits 1 with the API’s message for a version past the latest', async () => {
    const { io, stderr } = captureIo();

    const code = await run(['datasets', 'version', 'readings', '9', ...at()], io);

    expect(code).toBe(1);
    expect(stderr()).toBe('symbiont: dataset readings has no version 9; its latest version is 3\n');
  });
});
