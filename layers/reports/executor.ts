import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelUnavailableError } from './errors.ts';
import { kernelOf, type Notebook } from './notebook.ts';

/**
 * Running a notebook's cells on a Jupyter kernel. Rendering never depends on where that happens:
 * the local executor below runs this machine's kernel through nbclient; a container (the AWS
 * report task) implements the same interface, so injection and HTML rendering are shared.
 */
export interface NotebookExecutor {
  /** Executes every cell in order; a failing cell ends the run and is reported, never thrown. */
  execute(notebook: Notebook, options: ExecuteOptions): Promise<ExecutionOutcome>;
}

export interface ExecuteOptions {
  /** Seconds one cell may run. */
  readonly cellTimeoutSeconds: number;
  /** Seconds the whole notebook may run, kernel start included. */
  readonly totalTimeoutSeconds: number;
  /** The kernel's working directory. @default a fresh temporary directory */
  readonly workingDirectory?: string;
}

/** Why a run stopped early: the failing cell (0-based index) and the error's name and message. */
export interface ExecutionFailure {
  readonly cell?: number;
  readonly name: string;
  readonly message: string;
}

/** The executed notebook — up to the failure when one cell failed — and how the run ended. */
export type ExecutionOutcome =
  | { readonly status: 'succeeded'; readonly notebook: Notebook }
  | { readonly status: 'failed'; readonly notebook: Notebook; readonly failure: ExecutionFailure };

/** What the local executor needs of the machine: a Python with nbclient, nbformat and ipykernel. */
const REQUIRED_MODULES = [
  { module: 'nbclient', debian: 'python3-nbclient' },
  { module: 'nbformat', debian: 'python3-nbformat' },
  { module: 'ipykernel', debian: 'python3-ipykernel' },
] as const;

/** Variable naming the Python to run kernels with, when it is not Debian's /usr/bin/python3. */
export const JUPYTER_PYTHON_ENV = 'SYMBIONT_JUPYTER_PYTHON';

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'kernel-runner.py');

/** A Python that can run notebooks, or what is missing. */
export type KernelRuntime = { readonly python: string } | { readonly missing: string };

let found: KernelRuntime | undefined;

/**
 * Finds a Python that has nbclient, nbformat and ipykernel: `$SYMBIONT_JUPYTER_PYTHON`, else
 * Debian's `/usr/bin/python3` (the `python3` first on PATH may be another interpreter without
 * them), else `python3`. The answer is kept for the process.
 */
export function findKernelRuntime(env: NodeJS.ProcessEnv = process.env): KernelRuntime {
  if (found && !env[JUPYTER_PYTHON_ENV]) return found;
  const candidates = env[JUPYTER_PYTHON_ENV] ? [env[JUPYTER_PYTHON_ENV]!] : ['/usr/bin/python3', 'python3'];
  let missing: string[] = REQUIRED_MODULES.map((m) => m.debian);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import importlib.util as u; print(",".join(m for m in ${JSON.stringify(REQUIRED_MODULES.map((m) => m.module))} if u.find_spec(m) is None))`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (probe.status !== 0) continue;
    const absent = probe.stdout.trim().split(',').filter(Boolean);
    if (absent.length === 0) return (found = { python });
    if (absent.length < missing.length) missing = REQUIRED_MODULES.filter((m) => absent.includes(m.module)).map((m) => m.debian);
  }
  return {
    missing: `no Jupyter kernel can run here: install ${missing.join(', ')} (Debian: apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel python3-pandas python3-matplotlib), or set ${JUPYTER_PYTHON_ENV} to a Python that has nbclient and ipykernel. In AWS, render-report runs as a container image (reports/Dockerfile) that has them.`,
  };
}

/** The local executor: this machine's Jupyter kernel, one nbclient run per notebook. */
export function localKernelExecutor(env: NodeJS.ProcessEnv = process.env): NotebookExecutor {
  return {
    async execute(notebook, options) {
      const runtime = findKernelRuntime(env);
      if ('missing' in runtime) throw new KernelUnavailableError(runtime.missing);
      if (!existsSync(RUNNER)) throw new KernelUnavailableError(`the kernel runner ${RUNNER} is not beside the reports code; run reports where the project's layers/reports/ is installed`);
      const scratch = await mkdtemp(join(tmpdir(), 'symbiont-report-'));
      try {
        const input = join(scratch, 'input.ipynb');
        const output = join(scratch, 'output.ipynb');
        const workdir = options.workingDirectory ?? scratch;
        await writeFile(input, JSON.stringify(notebook));
        const { kernel } = kernelOf(notebook);
        const result = await runPython(
          runtime.python,
          [RUNNER, input, output, String(options.cellTimeoutSeconds), kernel, workdir],
          options.totalTimeoutSeconds * 1000,
          env,
        );
        const executed = existsSync(output) ? (JSON.parse(await readFile(output, 'utf8')) as Notebook) : notebook;
        if (result.timedOut) {
          return { status: 'failed', notebook: executed, failure: { name: 'ReportTimeoutError', message: `the notebook ran longer than ${options.totalTimeoutSeconds} seconds and was stopped` } };
        }
        const line = result.stdout.trim().split('\n').pop() ?? '';
        let outcome: { status?: string; cell?: number | null; ename?: string; evalue?: string } | undefined;
        try {
          outcome = JSON.parse(line) as typeof outcome;
        } catch {
          outcome = undefined;
        }
        if (!outcome || result.code !== 0) {
          const detail = lastLines(result.stderr, 8) || `exit code ${result.code}`;
          return { status: 'failed', notebook: executed, failure: { name: 'KernelError', message: `the kernel runner failed: ${detail}` } };
        }
        if (outcome.status === 'succeeded') return { status: 'succeeded', notebook: executed };
        return {
          status: 'failed',
          notebook: executed,
          failure: { ...(typeof outcome.cell === 'number' ? { cell: outcome.cell } : {}), name: outcome.ename ?? 'Error', message: outcome.evalue ?? '' },
        };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

interface PythonResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/**
 * Runs the runner with the interpreter's own directory first on PATH: the kernel spec may name
 * `python3`, which must be the interpreter that has ipykernel, not whatever PATH finds first.
 */
function runPython(python: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<PythonResult> {
  killRunnersOnExit();
  return new Promise((resolve, reject) => {
    const pathDir = python.includes('/') ? dirname(python) : undefined;
    const child = spawn(python, args, {
      env: { ...env, ...(pathDir ? { PATH: `${pathDir}:${env.PATH ?? ''}` } : {}), PYTHONUNBUFFERED: '1', PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) runners.add(child.pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
    const timer = setTimeout(() => {
      timedOut = true;
      // The runner's process group: the kernel it started goes too.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new KernelUnavailableError(`could not start ${python}: ${error.message}`, undefined, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (child.pid !== undefined) runners.delete(child.pid);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Process groups of the runners still going (each a detached group: the runner and its kernel). */
const runners = new Set<number>();
let exitHookInstalled = false;

/**
 * A runner is detached so that a timeout can kill its kernel with it; detached, it would also
 * outlive the process that started it (`npm start` stopped with Ctrl-C mid-render). When this
 * process exits, the groups still running are killed.
 */
function killRunnersOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of runners) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
