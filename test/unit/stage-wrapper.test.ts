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

describe('the stage wrapper given a whole stage run', () => {
  const run = {
    evaluationId: 'E1', pipeline: 'forecast', repeat: 0, stage: 1, stageName: 'model', last: true, repository: 'model', sha: 'abc',
    image: 'acme/model', ecrRepository: 'acme/model', imageTag: 'abc', command: ['node', 'run.mjs'], timeoutSeconds: 30, taskTimeoutSeconds: 150, commitSet: { model: 'abc' },
    parameters: { window: 3 }, bucket: 'data', input: { kind: 'stage', prefix: 'evaluations/E1/r1/1-features/output/' }, prefix: 'evaluations/E1/r1/2-model/',
  };

  it('reads its input, output, command and timeout from SYMBIONT_RUN', () => {
    // Act
    const settings = readSettings({ SYMBIONT_RUN: JSON.stringify(run) }, []);

    // Assess
    expect(settings).toMatchObject({
      input: { bucket: 'data', key: 'evaluations/E1/r1/1-features/output/' },
      output: { bucket: 'data', key: 'evaluations/E1/r1/2-model/' },
      command: ['node', 'run.mjs'],
      last: true,
      timeoutSeconds: 30,
      params: '{"window":3}',
    });
  });

  it('refuses a SYMBIONT_RUN that is not a stage run', () => {
    expect(() => readSettings({ SYMBIONT_RUN: '{"evaluationId":"E1"}' }, [])).toThrow('SYMBIONT_RUN is not a stage run');
  });
});
