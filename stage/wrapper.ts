import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#shared/endpoints';
import { InvalidMetricsError, InvalidTaskInputError, StageFailedError } from '#evaluation/errors';
import { parseMetrics } from '#evaluation/scores';
import { stageFiles, stageRunSchema, type StageResult, type StageRun } from '#evaluation/stage-contract';
import { downloadObject, downloadPrefix, isMissing, uploadFolder } from '#evaluation/stage-files';

/**
 * The stage wrapper: the entrypoint of Symbiont's stage base image (stage/Dockerfile). In an ECS
 * task it downloads the stage's input from S3 to a local folder, runs the stage command with the
 * contract of DESIGN.md "Running a stage at a commit" (as the local stage runner does), uploads
 * what the run left under the run's prefix — `output/…`, `stdout.txt`, `stderr.txt`,
 * `result.json` — and exits with the stage's status. A wrapper failure (bad environment, missing
 * input, unusable metrics) is written to `stderr.txt` too, so the evaluation records why.
 *
 * Environment:
 * - `SYMBIONT_INPUT_S3`: `s3://bucket/key` of a dataset version's file, or `s3://bucket/prefix/`
 *   (ending in `/`) of the previous stage's output folder
 * - `SYMBIONT_OUTPUT_S3`: `s3://bucket/prefix/` of this run (`evaluations/<id>/r<n>/<stage>/`)
 * - `SYMBIONT_PARAMS`, `SYMBIONT_COMMIT_SET`: JSON, passed on to the command
 * - `SYMBIONT_LAST`: `true` for the last stage, whose `metrics.json` is checked before upload
 * - `SYMBIONT_TIMEOUT_SECONDS`: the stage's timeout (the command is killed past it)
 * - `SYMBIONT_COMMAND`: the command as a JSON array, when none is given after `--`
 * - `SYMBIONT_S3_TIMEOUT_MS`: the limit on one S3 call (@default 60000)
 * - the other `SYMBIONT_*` variables (evaluation id, stage, repeat) pass through to the command.
 * - or `SYMBIONT_RUN`: the whole stage run as JSON (what the state machine passes), from which
 *   the variables above are derived.
 */

/** Exit status of a command stopped at its timeout (as coreutils `timeout`). */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit status when the wrapper itself fails (bad environment, input, metrics or upload). */
export const WRAPPER_FAILURE_EXIT_CODE = 1;

const DEFAULT_S3_TIMEOUT_MS = 60_000;

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export interface WrapperSettings {
  readonly input: S3Location;
  readonly output: S3Location;
  readonly command: readonly string[];
  readonly params: string;
  readonly commitSet: string;
  readonly last: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly s3TimeoutMs: number;
  /** The digest-pinned image the wrapper runs in (`SYMBIONT_IMAGE`), recorded in `result.json`. */
  readonly image?: string;
}

/** `s3://bucket/key` → its parts. */
export function parseS3Url(url: string, name: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new InvalidTaskInputError(`${name} must be s3://bucket/key, not ${JSON.stringify(url)}`);
  return { bucket: match[1]!, key: match[2]! };
}

function json(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const text = env[name] ?? fallback;
  try {
    JSON.parse(text);
  } catch {
    throw new InvalidTaskInputError(`${name} must be JSON, not ${JSON.stringify(text)}`);
  }
  return text;
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidTaskInputError(`${name} must be a positive number, not ${JSON.stringify(text)}`);
  return value;
}

/**
 * The environment a {@link StageRun} gives the wrapper: what the state machine's RunTask passes as
 * one variable, `SYMBIONT_RUN` (the run as JSON), spelled out.
 */
export function runEnvironment(run: StageRun): Record<string, string> {
  const input = run.input.kind === 'dataset' ? run.input.key : run.input.prefix;
  return {
    SYMBIONT_INPUT_S3: `s3://${run.bucket}/${input}`,
    SYMBIONT_OUTPUT_S3: `s3://${run.bucket}/${run.prefix}`,
    SYMBIONT_PARAMS: JSON.stringify(run.parameters),
    SYMBIONT_COMMIT_SET: JSON.stringify(run.commitSet),
    SYMBIONT_LAST: String(run.last),
    SYMBIONT_TIMEOUT_SECONDS: String(run.timeoutSeconds),
    SYMBIONT_COMMAND: JSON.stringify(run.command),
    SYMBIONT_EVALUATION_ID: run.evaluationId,
    SYMBIONT_STAGE: run.stageName,
    SYMBIONT_REPEAT: String(run.repeat + 1),
    ...(run.stageImage ? { SYMBIONT_IMAGE: run.stageImage.reference } : {}),
  };
}

/**
 * The wrapper's settings from its environment and arguments (the command follows `--`). With
 * `SYMBIONT_RUN` (a {@link StageRun} as JSON), the other variables default to the run's.
 */
export function readSettings(given: NodeJS.ProcessEnv, argv: readonly string[]): WrapperSettings {
  const env = given.SYMBIONT_RUN ? { ...runEnvironment(parseRun(given.SYMBIONT_RUN)), ...given } : given;
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new InvalidTaskInputError(`${name} is not set: the stage wrapper needs it (see stage/wrapper.ts)`);
    return value;
  };
  const output = parseS3Url(required('SYMBIONT_OUTPUT_S3'), 'SYMBIONT_OUTPUT_S3');
  if (!output.key.endsWith('/')) throw new InvalidTaskInputError(`SYMBIONT_OUTPUT_S3 must be a prefix ending in /, not s3://${output.bucket}/${output.key}`);
  const separator = argv.indexOf('--');
  let command = separator >= 0 ? argv.slice(separator + 1) : [];
  if (command.length === 0 && env.SYMBIONT_COMMAND) {
    const parsed: unknown = JSON.parse(json(env, 'SYMBIONT_COMMAND', '[]'));
    if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new InvalidTaskInputError('SYMBIONT_COMMAND must be a JSON array of strings');
    command = parsed;
  }
  if (command.length === 0) throw new InvalidTaskInputError('no stage command: give it after -- or as SYMBIONT_COMMAND (a JSON array)');
  return {
    input: parseS3Url(required('SYMBIONT_INPUT_S3'), 'SYMBIONT_INPUT_S3'),
    output,
    command,
    params: json(env, 'SYMBIONT_PARAMS', '{}'),
    commitSet: json(env, 'SYMBIONT_COMMIT_SET', '{}'),
    last: env.SYMBIONT_LAST === 'true',
    timeoutSeconds: positive(env, 'SYMBIONT_TIMEOUT_SECONDS'),
    s3TimeoutMs: positive(env, 'SYMBIONT_S3_TIMEOUT_MS') ?? DEFAULT_S3_TIMEOUT_MS,
    ...(env.SYMBIONT_IMAGE ? { image: env.SYMBIONT_IMAGE } : {}),
  };
}

function parseRun(text: string): StageRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidTaskInputError('SYMBIONT_RUN must be JSON (a stage run)');
  }
  const run = stageRunSchema.safeParse(value);
  if (!run.success) throw new InvalidTaskInputError(`SYMBIONT_RUN is not a stage run: ${run.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return run.data;
}

export interface WrapperOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly argv: readonly string[];
  readonly s3: S3Client;
  /** Where the input and the run's folder go. @default a fresh folder under the OS temp dir */
  readonly workDir?: string;
  /** The command's working directory. @default the wrapper's (the image's WORKDIR) */
  readonly cwd?: string;
  /** Where the wrapper's own lines go (CloudWatch in a task). @default process.stderr */
  readonly report?: (line: string) => void;
  /** Also copy the command's output to the wrapper's (CloudWatch in a task). @default false */
  readonly echo?: boolean;
}

/** Runs one stage as the wrapper does and answers the exit status the process should end with. */
export async function runWrapper(options: WrapperOptions): Promise<number> {
  let settings: WrapperSettings;
  let env = options.env;
  const emit = options.report ?? ((line: string) => process.stderr.write(`symbiont-stage ${line}\n`));
  let report = (line: string) => emit(line);
  try {
    if (options.env.SYMBIONT_RUN) env = { ...runEnvironment(parseRun(options.env.SYMBIONT_RUN)), ...options.env };
    settings = readSettings(options.env, options.argv);
  } catch (error) {
    report((error as Error).message);
    return WRAPPER_FAILURE_EXIT_CODE;
  }
  // In CloudWatch every line names its evaluation, stage and repeat, so a search by evaluation id finds them.
  if (env.SYMBIONT_EVALUATION_ID) {
    const who = `evaluation=${env.SYMBIONT_EVALUATION_ID} stage=${env.SYMBIONT_STAGE ?? '?'} repeat=${env.SYMBIONT_REPEAT ?? '1'}`;
    report = (line: string) => emit(`${who}: ${line}`);
  }
  report(`running ${JSON.stringify(settings.command)}${settings.image ? ` in ${settings.image}` : ''}`);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'symbiont-stage-')));
  const folder = join(workDir, 'run');
  const output = join(folder, stageFiles.output);
  const stderrFile = join(folder, stageFiles.stderr);
  const transfer = { timeoutMs: settings.s3TimeoutMs };
  const { bucket: outBucket, key: outPrefix } = settings.output;
  await rm(folder, { recursive: true, force: true });
  await mkdir(output, { recursive: true });

  // Which image ran, so the evaluation can record the digest (DESIGN.md "Running a stage at a commit").
  const image = settings.image ? { image: settings.image } : {};

  /** Records a wrapper failure where the evaluation reads it, then uploads what there is. */
  const fail = async (message: string, result?: StageResult): Promise<number> => {
    report(message);
    await appendFile(stderrFile, `symbiont-stage: ${message}\n`);
    const now = new Date().toISOString();
    const recorded: StageResult = result ?? { exitCode: WRAPPER_FAILURE_EXIT_CODE, signal: null, timedOut: false, durationMs: 0, startedAt: now, finishedAt: now };
    await writeFile(join(folder, stageFiles.result), JSON.stringify({ ...recorded, ...image }));
    try {
      await uploadFolder(options.s3, outBucket, outPrefix, folder, transfer);
    } catch (error) {
      report(`could not upload the run's files to s3://${outBucket}/${outPrefix}: ${(error as Error).message}`);
    }
    return result?.exitCode && result.exitCode !== 0 ? result.exitCode : WRAPPER_FAILURE_EXIT_CODE;
  };

  let input: string;
  try {
    input = await downloadInput(options.s3, settings.input, join(workDir, 'input'), transfer);
  } catch (error) {
    return fail(describeS3Error(error, `the input s3://${settings.input.bucket}/${settings.input.key}`));
  }

  const result = await runCommand(settings, { input, output }, folder, { ...options, env });
  await writeFile(join(folder, stageFiles.result), JSON.stringify({ ...result, ...image }));
  const succeeded = result.exitCode === 0 && !result.timedOut;
  if (succeeded && settings.last) {
    const metrics = join(folder, stageFiles.metrics);
    try {
      if (!existsSync(metrics)) throw new InvalidMetricsError(`the last stage wrote no ${stageFiles.metrics}; write {"metric": number, …} to $SYMBIONT_OUTPUT/metrics.json`);
      parseMetrics(await readFile(metrics, 'utf8'), 'metrics.json');
    } catch (error) {
      return fail((error as Error).message, { ...result, exitCode: WRAPPER_FAILURE_EXIT_CODE });
    }
  }
  try {
    await uploadFolder(options.s3, outBucket, outPrefix, folder, transfer);
  } catch (error) {
    report(describeS3Error(error, `the upload to s3://${outBucket}/${outPrefix}`));
    return WRAPPER_FAILURE_EXIT_CODE;
  }
  if (result.timedOut) {
    report(`the stage ran past its ${settings.timeoutSeconds} s timeout and was stopped`);
    return TIMEOUT_EXIT_CODE;
  }
  if (result.exitCode === null) {
    report(`the stage was stopped by ${result.signal ?? 'a signal'}`);
    return WRAPPER_FAILURE_EXIT_CODE;
  }
  if (result.exitCode !== 0) report(`the stage exited with code ${result.exitCode}; its stderr is at s3://${outBucket}/${outPrefix}${stageFiles.stderr}`);
  return result.exitCode;
}

/** The input in a local folder: the dataset version's file, or the previous stage's output folder. */
async function downloadInput(s3: S3Client, input: S3Location, dir: string, transfer: { timeoutMs: number }): Promise<string> {
  if (input.key.endsWith('/')) {
    const count = await downloadPrefix(s3, input.bucket, input.key, dir, transfer);
    if (count === 0) throw new StageFailedError(`the input s3://${input.bucket}/${input.key} holds no files (did the previous stage succeed?)`);
    return dir;
  }
  const path = join(dir, basename(input.key));
  await downloadObject(s3, input.bucket, input.key, path, transfer);
  return path;
}

function describeS3Error(error: unknown, what: string): string {
  if (error instanceof StageFailedError) return error.message;
  if (isMissing(error)) return `${what} does not exist`;
  const e = error as Error;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `${what} timed out (SYMBIONT_S3_TIMEOUT_MS)`;
  return `${what} failed: ${e.name}: ${e.message}`;
}

function runCommand(settings: WrapperSettings, paths: { input: string; output: string }, folder: string, options: WrapperOptions): Promise<StageResult> {
  const startedAt = new Date();
  const [command, ...args] = settings.command;
  const stdout = createWriteStream(join(folder, stageFiles.stdout));
  const stderr = createWriteStream(join(folder, stageFiles.stderr));
  const closed = (stream: WriteStream) => new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));
  return new Promise<StageResult>((resolve) => {
    let timedOut = false;
    const child = spawn(command!, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...options.env,
        SYMBIONT_INPUT: paths.input,
        SYMBIONT_OUTPUT: paths.output,
        SYMBIONT_PARAMS: settings.params,
        SYMBIONT_COMMIT_SET: settings.commitSet,
      },
    });
    child.stdout.pipe(stdout);
    child.stderr.pipe(stderr);
    if (options.echo) {
      child.stdout.pipe(process.stdout, { end: false });
      child.stderr.pipe(process.stderr, { end: false });
    }
    const timer = settings.timeoutSeconds === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, settings.timeoutSeconds * 1000);
    let finished = false;
    const finish = async (exitCode: number | null, signal: string | null, message?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (message) stderr.write(`symbiont-stage: ${message}\n`);
      stdout.end();
      stderr.end();
      await Promise.all([closed(stdout), closed(stderr)]);
      const finishedAt = new Date();
      resolve({ exitCode, signal, timedOut, durationMs: finishedAt.getTime() - startedAt.getTime(), startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString() });
    };
    child.once('error', (error) => void finish(127, null, `the command ${JSON.stringify(command)} could not start: ${error.message}`));
    child.once('close', (code, signal) => void finish(code, signal));
  });
}

/** As the image's entrypoint: `node wrapper.mjs -- <command…>`. */
async function main(): Promise<void> {
  const s3 = new S3Client(s3ClientConfig(process.env));
  const code = await runWrapper({ env: process.env, argv: process.argv.slice(2), s3, echo: true });
  s3.destroy();
  process.exit(code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
