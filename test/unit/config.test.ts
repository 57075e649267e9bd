import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, jsonPath, loadConfig, parseConfig } from '#config/load';

const root = resolve(import.meta.dirname, '..', '..');
const example = JSON.parse(readFileSync(join(root, 'symbiont.config.json'), 'utf8')) as Record<string, any>;

/** The example config with one change applied to a fresh copy. */
function exampleWith(change: (config: Record<string, any>) => void): Record<string, any> {
  const config = structuredClone(example);
  change(config);
  return config;
}

function problemsOf(json: unknown): { path: string; message: string }[] {
  try {
    parseConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('config', () => {
  it('accepts the example config and fills in defaults', () => {
    const config = parseConfig(example);
    expect(config.datasets.readings!.delimiter).toBe(',');
    expect(config.datasets.readings!.columns[0]!.nullable).toBe(false);
    expect(config.stack.retainData).toBe(true);
    expect(config.local.apiPort).toBe(4510);
  });

  it('names the JSON path of a column with an unknown type', () => {
    const problems = problemsOf(exampleWith((c) => (c.datasets.readings.columns[2].type = 'float')));
    expect(problems).toEqual([{ path: '$.datasets.readings.columns[2].type', message: expect.stringContaining('"number"') }]);
  });

  it('refuses a pipeline name longer than 32 characters', () => {
    const long = 'p'.repeat(33);
    const problems = problemsOf(exampleWith((c) => (c.pipelines = { [long]: c.pipelines.forecast })));
    expect(problems.map((p) => p.path)).toContain(`$.pipelines.${long}`);
  });

  it('refuses a pipeline that names an unknown repository, with where and what is known', () => {
    const problems = problemsOf(exampleWith((c) => (c.pipelines.forecast.stages[1].repository = 'modle')));
    expect(problems).toEqual([
      { path: '$.pipelines.forecast.stages[1].repository', message: 'repository "modle" is not defined (known: features, model)' },
    ]);
  });

  it('refuses a stage image with a tag, since the tag is the commit sha', () => {
    const problems = problemsOf(exampleWith((c) => (c.pipelines.forecast.stages[1].image = 'acme/model:latest')));
    expect(problems).toEqual([{ path: '$.pipelines.forecast.stages[1].image', message: expect.stringContaining('without a tag or digest') }]);
  });

  it('accepts a stage image named with this account’s registry host', () => {
    const config = parseConfig(exampleWith((c) => (c.pipelines.forecast.stages[1].image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/model')));
    expect(config.pipelines.forecast!.stages[1]!.image).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/model');
  });

  it('refuses a unique key over a column the spec does not have', () => {
    const problems = problemsOf(exampleWith((c) => (c.datasets.readings.unique = ['sensor', 'taken_at'])));
    expect(problems).toEqual([
      { path: '$.datasets.readings.unique[0]', message: 'unique key column "sensor" is not one of the columns' },
    ]);
  });

  it('refuses a misspelt field instead of ignoring it', () => {
    const problems = problemsOf(exampleWith((c) => (c.datasets.readings.maxbytes = 10)));
    expect(problems).toEqual([{ path: '$.datasets.readings', message: 'unknown field "maxbytes"' }]);
  });

  it('refuses an SFTP user whose key is not an OpenSSH public key', () => {
    const problems = problemsOf(exampleWith((c) => (c.sftpUsers.alice.publicKeys = ['AAAA not a key'])));
    expect(problems.map((p) => p.path)).toEqual(['$.sftpUsers.alice.publicKeys[0]']);
  });

  it('refuses a pattern that is not a regular expression', () => {
    const problems = problemsOf(exampleWith((c) => (c.datasets.readings.columns[0].pattern = '^S[0-9')));
    expect(problems).toEqual([{ path: '$.datasets.readings.columns[0].pattern', message: 'must be a valid regular expression' }]);
  });

  it('says which file could not be read', () => {
    expect(() => loadConfig('/nonexistent/symbiont.config.json')).toThrow(/\/nonexistent\/symbiont.config.json: cannot read/);
  });

  it('quotes path segments that are not identifiers', () => {
    expect(jsonPath(['datasets', 'my data', 'columns', 0])).toBe('$.datasets["my data"].columns[0]');
  });

  it('stops the CDK app with the path of the bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symbiont-config-'));
    const file = join(dir, 'symbiont.config.json');
    writeFileSync(file, JSON.stringify(exampleWith((c) => (c.datasets.readings.minRows = -1))));
    const run = promisify(execFile)(join(root, 'node_modules/.bin/tsx'), [join(root, 'infra/app.ts')], {
      cwd: root,
      env: { ...process.env, SYMBIONT_CONFIG: file },
    });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('$.datasets.readings.minRows') });
  });
});
