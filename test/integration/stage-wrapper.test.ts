import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ClientConfig } from '#shared/aws';
import { LOCAL_CREDENTIALS } from '#local/clients';
import { startS3, type S3Emulator } from '#local/emulators';
import { runWrapper, TIMEOUT_EXIT_CODE, WRAPPER_FAILURE_EXIT_CODE } from '../../stage/wrapper.ts';
import { tempDataDir } from './local-helpers.ts';

/**
 * The stage wrapper (the ECS task's entrypoint) against a real local S3 (s3rver): it downloads the
 * input, runs the command with the contract, uploads the run's files and exits with the stage's status.
 */

const bucket = 'data';
const datasetKey = 'datasets/readings/v1/readings.csv';

describe('the stage wrapper', () => {
  const dir = tempDataDir('stage-wrapper');
  let s3rver: S3Emulator;
  let s3: S3Client;
  let runs = 0;
  const lines: string[] = [];

  const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

  /** Runs the wrapper on a fresh run prefix with `node -e <script>` as the stage command. */
  async function wrap(script: string, env: Record<string, string> = {}) {
    const prefix = `evaluations/E1/r1/${++runs}-model/`;
    const code = await runWrapper({
      env: {
        PATH: process.env.PATH,
        SYMBIONT_INPUT_S3: `s3://${bucket}/${datasetKey}`,
        SYMBIONT_OUTPUT_S3: `s3://${bucket}/${prefix}`,
        SYMBIONT_PARAMS: '{"window":3}',
        SYMBIONT_COMMIT_SET: '{"model":"abc123"}',
        SYMBIONT_S3_TIMEOUT_MS: '5000',
        ...env,
      },
      argv: ['--', process.execPath, '-e', script],
      s3,
      workDir: join(dir.path, `work-${runs}`),
      report: (line) => lines.push(line),
    });
    return { code, prefix };
  }

  beforeAll(async () => {
    s3rver = await startS3(join(dir.path, 'data'), 0);
    s3 = new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: s3rver.url }), region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: datasetKey, Body: 'sensor_id\nS0001\n' }));
  });

  afterAll(async () => {
    s3?.destroy();
    await s3rver?.stop();
    dir.remove();
  });

  it('runs a successful stage with the contract and uploads its output, stdout and result', async () => {
    // Act
    const { code, prefix } = await wrap(
      [
        "const { readFileSync, writeFileSync } = require('node:fs');",
        "const input = readFileSync(process.env.SYMBIONT_INPUT, 'utf8');",
        "writeFileSync(process.env.SYMBIONT_OUTPUT + '/seen.json', JSON.stringify({ input, params: JSON.parse(process.env.SYMBIONT_PARAMS), commitSet: JSON.parse(process.env.SYMBIONT_COMMIT_SET) }));",
        "console.log('stdout line');",
      ].join('\n'),
    );

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(await text(`${prefix}output/seen.json`))).toEqual({ input: 'sensor_id\nS0001\n', params: { window: 3 }, commitSet: { model: 'abc123' } });
    expect(await text(`${prefix}stdout.txt`)).toBe('stdout line\n');
    expect(JSON.parse(await text(`${prefix}result.json`))).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it('reads the previous stage’s output folder when the input is a prefix', async () => {
    // Prepare
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'evaluations/E2/r1/1-prepare/output/nested/part.txt', Body: 'from the previous stage' }));

    // Act
    const { code, prefix } = await wrap(
      "require('node:fs').copyFileSync(process.env.SYMBIONT_INPUT + '/nested/part.txt', process.env.SYMBIONT_OUTPUT + '/copy.txt');",
      { SYMBIONT_INPUT_S3: `s3://${bucket}/evaluations/E2/r1/1-prepare/output/` },
    );

    // Assess
    expect(code).toBe(0);
    expect(await text(`${prefix}output/copy.txt`)).toBe('from the previous stage');
  });

  it('exits with a failing stage’s status and uploads its stderr', async () => {
    // Act
    const { code, prefix } = await wrap("console.error('model diverged'); process.exit(3);");

    // Assess
    expect(code).toBe(3);
    expect(await text(`${prefix}stderr.txt`)).toContain('model diverged');
    expect(JSON.parse(await text(`${prefix}result.json`))).toMatchObject({ exitCode: 3 });
  });

  it('fails clearly without running the command when the input object is missing', async () => {
    // Act
    const { code, prefix } = await wrap("require('node:fs').writeFileSync(process.env.SYMBIONT_OUTPUT + '/ran', 'yes');", {
      SYMBIONT_INPUT_S3: `s3://${bucket}/datasets/readings/v9/missing.csv`,
    });

    // Assess
    expect(code).toBe(WRAPPER_FAILURE_EXIT_CODE);
    expect(await text(`${prefix}stderr.txt`)).toContain('the input s3://data/datasets/readings/v9/missing.csv does not exist');
    await expect(text(`${prefix}output/ran`)).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('fails the last stage whose metrics.json holds something other than numbers', async () => {
    // Act
    const { code, prefix } = await wrap("require('node:fs').writeFileSync(process.env.SYMBIONT_OUTPUT + '/metrics.json', JSON.stringify({ mae: 'low' }));", { SYMBIONT_LAST: 'true' });

    // Assess
    expect(code).toBe(WRAPPER_FAILURE_EXIT_CODE);
    expect(await text(`${prefix}stderr.txt`)).toContain('metrics.json must hold only finite numbers: mae is "low"');
  });

  it('fails the last stage whose metrics.json is not JSON', async () => {
    // Act
    const { code, prefix } = await wrap("require('node:fs').writeFileSync(process.env.SYMBIONT_OUTPUT + '/metrics.json', '{mae: 1');", { SYMBIONT_LAST: 'true' });

    // Assess
    expect(code).toBe(WRAPPER_FAILURE_EXIT_CODE);
    expect(await text(`${prefix}stderr.txt`)).toContain('metrics.json is not JSON');
  });

  it('stops a stage past its timeout and exits with 124', async () => {
    // Act
    const { code } = await wrap('setTimeout(() => {}, 60_000);', { SYMBIONT_TIMEOUT_SECONDS: '1' });

    // Assess
    expect(code).toBe(TIMEOUT_EXIT_CODE);
  });

  it('fails an S3 call that does not answer within SYMBIONT_S3_TIMEOUT_MS instead of hanging', async () => {
    // Prepare: an endpoint that accepts connections and never answers
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const stalled = new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` }), region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
    const reported: string[] = [];

    // Act
    const code = await runWrapper({
      env: { SYMBIONT_INPUT_S3: `s3://${bucket}/${datasetKey}`, SYMBIONT_OUTPUT_S3: `s3://${bucket}/evaluations/E3/r1/1-model/`, SYMBIONT_S3_TIMEOUT_MS: '300' },
      argv: ['--', process.execPath, '-e', ''],
      s3: stalled,
      workDir: join(dir.path, 'stalled'),
      report: (line) => reported.push(line),
    });
    stalled.destroy();
    silent.close();

    // Assess
    expect(code).toBe(WRAPPER_FAILURE_EXIT_CODE);
    expect(reported.join('\n')).toContain('timed out');
  });

  it('runs a stage described whole by SYMBIONT_RUN, as the ECS task passes it', async () => {
    // Prepare
    const digest = `sha256:${'d'.repeat(64)}`;
    const reference = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/model@${digest}`;
    const run = {
      evaluationId: 'E4', pipeline: 'forecast', repeat: 0, stage: 0, stageName: 'model', last: true, repository: 'model', sha: 'abc123',
      image: 'acme/model', ecrRepository: 'acme/model', imageTag: 'abc123', taskTimeoutSeconds: 150, timeoutSeconds: 30, commitSet: { model: 'abc123' }, parameters: { window: 5 }, bucket,
      command: [process.execPath, '-e', "require('node:fs').writeFileSync(process.env.SYMBIONT_OUTPUT + '/metrics.json', JSON.stringify({ mae: JSON.parse(process.env.SYMBIONT_PARAMS).window }))"],
      input: { kind: 'dataset', dataset: 'readings', version: 1, key: datasetKey },
      prefix: 'evaluations/E4/r1/1-model/',
    };

    // Act
    const code = await runWrapper({
      env: { PATH: process.env.PATH, SYMBIONT_RUN: JSON.stringify({ ...run, stageImage: { digest, reference }, stageTask: { arn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/x:1' } }) },
      argv: [],
      s3,
      workDir: join(dir.path, 'whole-run'),
      report: (line) => lines.push(line),
    });

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(await text('evaluations/E4/r1/1-model/output/metrics.json'))).toEqual({ mae: 5 });
    // Its lines name the evaluation, so CloudWatch finds them by its id; the digest ECR resolved is what the evaluation records.
    expect(lines).toContain(`evaluation=E4 stage=model repeat=1: running ${JSON.stringify(run.command)} in ${reference}`);
    expect(JSON.parse(await text('evaluations/E4/r1/1-model/result.json'))).toMatchObject({ exitCode: 0, image: reference });
  });
});
