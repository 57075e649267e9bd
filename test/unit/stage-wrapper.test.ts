import { describe, expect, it } from 'vitest';
import { InvalidTaskInputError } from '#evaluation/errors';
import { parseS3Url, readSettings } from '../../stage/wrapper.ts';

const env = { SYMBIONT_INPUT_S3: 's3://data/datasets/r/v1/r.csv', SYMBIONT_OUTPUT_S3: 's3://data/evaluations/E1/r1/1-model/' };

describe('the stage wrapper’s settings', () => {
  it('splits an s3 url into bucket and key', () => {
    expect(parseS3Url('s3://data/a/b/', 'X')).toEqual({ bucket: 'data', key: 'a/b/' });
  });

  it('takes the command after --', () => {
    expect(readSettings(env, ['--', 'python', 'run.py']).command).toEqual(['python', 'run.py']);
  });

  it('takes the command from SYMBIONT_COMMAND when none follows --', () => {
    expect(readSettings({ ...env, SYMBIONT_COMMAND: '["node","run.mjs"]' }, []).command).toEqual(['node', 'run.mjs']);
  });

  it('refuses an output that is not a prefix', () => {
    expect(() => readSettings({ ...env, SYMBIONT_OUTPUT_S3: 's3://data/file.txt' }, ['--', 'x'])).toThrow(InvalidTaskInputError);
  });

  it('names a missing variable', () => {
    expect(() => readSettings({ SYMBIONT_OUTPUT_S3: env.SYMBIONT_OUTPUT_S3 }, ['--', 'x'])).toThrow('SYMBIONT_INPUT_S3 is not set');
  });

  it('refuses parameters that are not JSON', () => {
    expect(() => readSettings({ ...env, SYMBIONT_PARAMS: '{window' }, ['--', 'x'])).toThrow('SYMBIONT_PARAMS must be JSON');
  });
});
