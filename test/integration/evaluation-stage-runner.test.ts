import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ClientConfig } from '#shared/aws';
import { StageFailedError, StageTimeoutError } from '#evaluation/errors';
import type { StageRun } from '#evaluation/stage-contract';
import { LOCAL_CREDENTIALS } from '#local/clients';
import { startS3, type S3Emulator } from '#local/emulators';
import { createStageRunner, type StageRunner } from '#local/stage-runner';
import { tempDataDir } from './local-helpers.ts';

/**
 * The local stage runner against a real local S3 (s3rver) and a real git repository: the stage
 * contract (input, output, parameters, commit set), worktrees at a sha, timeouts, failures.
 */

const run = promisify(execFile);
const bucket = 'data';

describe('the local stage runner', () => {
  const dir = tempDataDir('stage-runner');
  const repository = join(dir.path, 'repo');
  let s3rver: S3Emulator;
  let s3: S3Client;
  let runner: StageRunner;
  let first: string;
  let second: string;

  const git = async (...args: string[]) =>
    (await run('git', ['-C', repository, '-c', 'user.name=Test', '-c', 'user.email=test@symbiont.invalid', '-c', 'commit.gpgsign=false', ...args])).stdout.trim();
  const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

  function stage(overrides: Partial<StageRun> = {}): StageRun {
    return {
      evaluationId: 'E1',
      pipeline: 'forecast',
      repeat: 0,
      stage: 0,
      stageName: 'model',
      last: false,
      repository: 'model',
      sha: first,
      image: 'acme/model',
      ecrRepository: 'acme/model',
      imageTag: first,
      command: ['node', 'run.mjs'],
      timeoutSeconds: 30,
      taskTimeoutSeconds: 150,
      commitSet: { model: first },
      parameters: { window: 3 },
      bucket,
      input: { kind: 'dataset', dataset: 'readings', version: 1, key: 'datasets/readings/v1/readings.csv' },
      prefix: 'evaluations/E1/r1/1-model/',
      ...overrides,
    };
  }

  beforeAll(async () => {
    mkdirSync(repository, { recursive: true });
    await run('git', ['init', '--quiet', '--initial-branch=main', repository]);
    writeFileSync(
      join(repository, 'run.mjs'),
      [
        "import { readFileSync, writeFileSync } from 'node:fs';",
        "import { join } from 'node:path';",
        "const input = readFileSync(process.env.SYMBIONT_INPUT, 'utf8');",
        "writeFileSync(join(process.env.SYMBIONT_OUTPUT, 'seen.json'), JSON.stringify({ version: 'first', input, params: JSON.parse(process.env.SYMBIONT_PARAMS), commitSet: JSON.parse(process.env.SYMBIONT_COMMIT_SET) }));",
        "console.log('stdout line');",
      ].join('\n'),
    );
    writeFileSync(join(repository, 'slow.mjs'), 'setTimeout(() => {}, 60_000);\n');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'first');
    first = await git('rev-parse', 'HEAD');
    writeFileSync(join(repository, 'run.mjs'), "console.error('second: refusing'); process.exit(4);\n");
    await git('commit', '--quiet', '-am', 'second');
    second = await git('rev-parse', 'HEAD');

    s3rver = await startS3(join(dir.path, 'data'), 0);
    s3 = new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: s3rver.url }), region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'datasets/readings/v1/readings.csv', Body: 'sensor_id,taken_at\nS0001,2025-01-06T00:00:00Z\n' }));
    runner = createStageRunner({ config: { repositories: { model: { url: 'https://example.invalid/model', defaultBranch: 'main', path: 'repo' } } }, configDir: dir.path, dataDir: join(dir.path, 'runtime'), s3 });
  });

  afterAll(async () => {
    s3?.destroy();
    await s3rver?.stop();
    dir.remove();
  });

  it('runs the command at its commit with the contract’s input, parameters and commit set, and uploads what it wrote', async () => {
    // Act
    const outcome = await runner.run(stage());

    // Assess
    expect(outcome.exitCode).toBe(0);
    expect(JSON.parse(await text('evaluations/E1/r1/1-model/output/seen.json'))).toEqual({
      version: 'first',
      input: 'sensor_id,taken_at\nS0001,2025-01-06T00:00:00Z\n',
      params: { window: 3 },
      commitSet: { model: first },
    });
    expect(await text('evaluations/E1/r1/1-model/stdout.txt')).toBe('stdout line\n');
    expect(JSON.parse(await text('evaluations/E1/r1/1-model/result.json'))).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it('runs another commit of the same repository in a worktree of its own', async () => {
    // Act
    const running = runner.run(stage({ sha: second, evaluationId: 'E2', prefix: 'evaluations/E2/r1/1-model/' }));

    // Assess
    await expect(running).rejects.toThrow(StageFailedError);
    await expect(running).rejects.toThrow(/exited with code 4; stderr ends with:\nsecond: refusing/);
    expect(await text('evaluations/E2/r1/1-model/stderr.txt')).toBe('second: refusing\n');
  });

  it('stops a stage that runs past its timeout', async () => {
    // Act
    const started = Date.now();
    const running = runner.run(stage({ command: ['node', 'slow.mjs'], timeoutSeconds: 1, evaluationId: 'E3', prefix: 'evaluations/E3/r1/1-model/' }));

    // Assess
    await expect(running).rejects.toBeInstanceOf(StageTimeoutError);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(JSON.parse(await text('evaluations/E3/r1/1-model/result.json'))).toMatchObject({ timedOut: true, exitCode: null });
  });

  it('fails a stage whose command cannot be started, saying why in its stderr', async () => {
    // Act
    const running = runner.run(stage({ command: ['no-such-command-symbiont'], evaluationId: 'E4', prefix: 'evaluations/E4/r1/1-model/' }));

    // Assess
    await expect(running).rejects.toThrow(StageFailedError);
    expect(await text('evaluations/E4/r1/1-model/stderr.txt')).toMatch(/could not start "no-such-command-symbiont"/);
  });

  it('does not run a stage whose previous stage did not succeed', async () => {
    // Act
    const running = runner.run(stage({ stage: 1, evaluationId: 'E2', input: { kind: 'stage', prefix: 'evaluations/E2/r1/1-model/output/' }, prefix: 'evaluations/E2/r1/2-next/' }));

    // Assess
    await expect(running).rejects.toThrow(/not run: the stage before it did not succeed/);
  });

  it('fails a stage at a commit the repository does not have', async () => {
    // Act
    const running = runner.run(stage({ sha: 'f'.repeat(40), evaluationId: 'E5', prefix: 'evaluations/E5/r1/1-model/' }));

    // Assess
    await expect(running).rejects.toThrow(/cannot be checked out/);
  });
});
