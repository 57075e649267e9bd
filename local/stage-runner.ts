import { execFile, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SymbiontConfig } from '#config/schema';
import { StageFailedError, StageTimeoutError, TransientTaskError } from '#evaluation/errors';
import { stageEnvironment, stageFiles, stageResultSchema, tail, type StageResult, type StageRun } from '#evaluation/stage-contract';
import { downloadObject, downloadPrefix, isMissing, uploadFolder } from '#evaluation/stage-files';
import { isTransient } from '#evaluation/tasks';
import { log as logger } from './log.ts';

/**
 * The local stage runner: what the stage wrapper does in an ECS task, done in this process. A stage
 * runs its `command` in a git worktree of `repositories.<r>.path` checked out at the commit set's
 * sha for that repository (kept under `<dataDir>/worktrees/<repo>/<sha>` and reused), so a commit
 * that changes the code changes the score for real. It reads its input from the data bucket (the
 * dataset version's file, cached per version, or the previous stage's output), writes to a fresh
 * folder, and everything it leaves — output, stdout, stderr, `result.json` — is uploaded under the
 * run's prefix, where `RecordScores` and `RecordFailure` read it as they would in AWS.
 *
 * Commands run with the rights of whoever runs `npm start`.
 */

const exec = promisify(execFile);

export interface StageRunnerOptions {
  readonly config: Pick<SymbiontConfig, 'repositories'>;
  /** Repository paths in the config are relative to this. */
  readonly configDir: string;
  readonly dataDir: string;
  readonly s3: S3Client;
  /** Stage commands running at once (the state machine may ask for 40). @default the number of CPUs */
  readonly maxParallel?: number;
}

/** What a stage run answers when it succeeded (a failure throws). */
export interface StageRunOutcome {
  readonly exitCode: 0;
  readonly durationMs: number;
}

export interface StageRunner {
  run(run: StageRun): Promise<StageRunOutcome>;
}

/** Lines of stderr quoted in the error of a failed stage. */
const QUOTED_STDERR_LINES = 12;

export function createStageRunner(options: StageRunnerOptions): StageRunner {
  const worktrees = new WorktreeCache(options);
  const spawner = new Spawner();
  const slots = new Semaphore(options.maxParallel ?? availableParallelism());
  const workRoot = join(options.dataDir, 'work');
  const cacheRoot = join(options.dataDir, 'cache');
  const datasetFiles = new Map<string, Promise<string>>();

  /** The local folder of an object prefix: the work folder mirrors the data bucket's layout. */
  const localFolder = (prefix: string) => join(workRoot, ...prefix.split('/').filter(Boolean));

  async function datasetFile(bucket: string, key: string): Promise<string> {
    // A version's object never changes: download it once per runtime and data directory.
    let file = datasetFiles.get(key);
    if (!file) {
      file = (async () => {
        const path = join(cacheRoot, ...key.split('/'));
        if (existsSync(path)) return path;
        const temporary = `${path}.${process.pid}.part`;
        await downloadObject(options.s3, bucket, key, temporary);
        renameSync(temporary, path);
        return path;
      })();
      file.catch(() => datasetFiles.delete(key));
      datasetFiles.set(key, file);
    }
    return file;
  }

  async function stageInput(run: StageRun): Promise<string> {
    if (run.input.kind === 'dataset') return datasetFile(run.bucket, run.input.key);
    const folder = localFolder(run.input.prefix);
    // Still here from the previous stage (the usual case); else, as in a fresh container, downloaded.
    if (existsSync(folder)) return folder;
    // aws-local-stepfunctions starts the next iteration of an in-order Map even after one failed,
    // where Step Functions stops: a stage whose previous one did not succeed is not run.
    const previous = run.input.prefix.slice(0, -stageFiles.output.length);
    if (!(await succeeded(options.s3, run.bucket, `${previous}${stageFiles.result}`))) {
      throw new StageFailedError(`stage ${run.stageName} not run: the stage before it did not succeed`);
    }
    await downloadPrefix(options.s3, run.bucket, run.input.prefix, folder);
    return folder;
  }

  async function execute(run: StageRun): Promise<StageRunOutcome> {
    const repositoryPath = worktrees.repositoryPath(run.repository);
    const worktree = await worktrees.checkout(run.repository, repositoryPath, run.sha);
    const folder = localFolder(run.prefix);
    const output = join(folder, stageFiles.output);
    await rm(folder, { recursive: true, force: true });
    await mkdir(output, { recursive: true });
    const input = await stageInput(run);

    const result = await slots.use(() => spawner.run(run, worktree, { input, output }, folder));
    await writeFile(join(folder, stageFiles.result), JSON.stringify(result));
    await uploadFolder(options.s3, run.bucket, run.prefix, folder);
    const failed = result.exitCode !== 0 || result.timedOut;
    const stderr = failed ? await readTail(join(folder, stageFiles.stderr), result) : '';
    // The repeat's folders are not read again once its last stage ran (or one failed).
    if (run.last || failed) {
      const parts = run.prefix.split('/');
      await rm(localFolder(parts.slice(0, 3).join('/')), { recursive: true, force: true });
      // The evaluation's folder goes with its last repeat (rmdir refuses while another repeat is there).
      await rmdir(localFolder(parts.slice(0, 2).join('/'))).catch(() => undefined);
    }
    if (!failed) return { exitCode: 0, durationMs: result.durationMs };

    const where = `stage ${run.stageName} (${run.repository}@${run.sha.slice(0, 12)})`;
    const quoted = stderr.trim() ? `; stderr ends with:\n${stderr.trimEnd().split('\n').slice(-QUOTED_STDERR_LINES).join('\n')}` : '';
    if (result.timedOut) throw new StageTimeoutError(`${where} ran past its ${run.timeoutSeconds} s timeout and was stopped${quoted}`);
    throw new StageFailedError(`${where} exited with ${result.exitCode === null ? `signal ${result.signal ?? 'unknown'}` : `code ${result.exitCode}`}${quoted}`);
  }

  return {
    async run(run) {
      const started = performance.now();
      try {
        const outcome = await execute(run);
        logger.debug('stage ran', { evaluationId: run.evaluationId, stage: run.stageName, repeat: run.repeat + 1, ms: Math.round(performance.now() - started) });
        return outcome;
      } catch (error) {
        if (error instanceof StageFailedError || error instanceof StageTimeoutError) throw error;
        if (isTransient(error)) throw new TransientTaskError(`stage ${run.stageName}: ${(error as Error).message}`, undefined, { cause: error });
        throw error;
      }
    },
  };
}

/**
 * Starts stage commands through the helper process of `stage-spawner.mjs` (see why there), one
 * for the runner's life, started on first use. It does not keep the runtime alive: it is
 * referenced only while a stage runs, and exits when the runtime does.
 */
class Spawner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, (result: StageResult) => void>();
  private next = 0;

  run(run: StageRun, cwd: string, paths: { input: string; output: string }, folder: string): Promise<StageResult> {
    const child = this.start();
    const id = ++this.next;
    const [command, ...args] = run.command;
    return new Promise<StageResult>((resolvePromise) => {
      this.pending.set(id, resolvePromise);
      if (this.pending.size === 1) child.channel?.ref();
      child.send({
        id,
        command,
        args,
        cwd,
        env: { ...process.env, ...stageEnvironment(run, paths) },
        stdout: join(folder, stageFiles.stdout),
        stderr: join(folder, stageFiles.stderr),
        timeoutMs: run.timeoutSeconds * 1000,
      });
    });
  }

  private start(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    // Plain node, without the loaders the runtime may run under: the helper is plain JavaScript.
    const child = fork(SPAWNER, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    child.on('message', (message: StageResult & { id: number }) => {
      const done = this.pending.get(message.id);
      if (!done) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) child.channel?.unref();
      const { id: _id, ...result } = message;
      done(result);
    });
    child.on('exit', (code, signal) => {
      // Stages in flight cannot report any more: they end as failed, with the reason in their stderr.
      for (const [id, done] of this.pending) {
        this.pending.delete(id);
        done({ exitCode: null, signal: signal ?? `helper exited with ${code}`, timedOut: false, durationMs: 0, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() });
      }
      if (this.child === child) this.child = undefined;
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}

const SPAWNER = join(dirname(fileURLToPath(import.meta.url)), 'stage-spawner.mjs');

async function readTail(file: string, result: StageResult): Promise<string> {
  try {
    return tail(await readFile(file, 'utf8'));
  } catch {
    return result.timedOut ? '' : '(no stderr)';
  }
}

/**
 * Worktrees per repository and sha, created once and reused. Creation is serialised per
 * repository (git locks its worktree list), and a kept worktree is checked to be at its sha the
 * first time this process uses it: a repository recreated since would have left a stale one.
 */
class WorktreeCache {
  private readonly ready = new Map<string, Promise<string>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: StageRunnerOptions) {}

  repositoryPath(repository: string): string {
    const spec = this.options.config.repositories[repository];
    if (!spec?.path) {
      throw new StageFailedError(`repositories.${repository}.path is not set in the config: the local runtime runs stages in a worktree of a local checkout`);
    }
    return isAbsolute(spec.path) ? spec.path : resolve(this.options.configDir, spec.path);
  }

  checkout(repository: string, repositoryPath: string, sha: string): Promise<string> {
    const dir = join(this.options.dataDir, 'worktrees', repository, sha);
    let ready = this.ready.get(dir);
    if (!ready) {
      ready = this.serialised(repositoryPath, () => this.create(repositoryPath, dir, sha));
      ready.catch(() => this.ready.delete(dir));
      this.ready.set(dir, ready);
    }
    return ready;
  }

  private serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(key, next.catch(() => undefined));
    return next;
  }

  private async create(repositoryPath: string, dir: string, sha: string): Promise<string> {
    if (!existsSync(join(repositoryPath, '.git')) && !existsSync(join(repositoryPath, 'HEAD'))) {
      throw new StageFailedError(`${repositoryPath} is not a git repository (create the example ones with: node examples/create-repos.mjs)`);
    }
    if (existsSync(join(dir, '.git'))) {
      const head = await git(dir, ['rev-parse', 'HEAD']).catch(() => '');
      if (head === sha) return dir;
    }
    rmSync(dir, { recursive: true, force: true });
    await git(repositoryPath, ['worktree', 'prune']);
    mkdirSync(dirname(dir), { recursive: true });
    try {
      await git(repositoryPath, ['worktree', 'add', '--detach', '--force', dir, sha]);
    } catch (error) {
      throw new StageFailedError(`commit ${sha} cannot be checked out from ${repositoryPath}: ${firstLine((error as Error).message)} (is it fetched?)`, undefined, { cause: error });
    }
    logger.info('worktree created', { worktree: dir, sha });
    return dir;
  }
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await exec('git', ['-C', cwd, ...args], { encoding: 'utf8' });
  return stdout.trim();
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() && !line.startsWith('Command failed')) ?? text;
}

/** Whether a stage run's `result.json` says it succeeded (absent: it never finished). */
async function succeeded(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const result = stageResultSchema.safeParse(JSON.parse(await object.Body!.transformToString('utf8')));
    return result.success && result.data.exitCode === 0 && !result.data.timedOut;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** At most `size` at once; the rest wait in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
