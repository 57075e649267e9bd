import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { localKernelExecutor } from '#reports/executor';
import { injectParameters } from '#reports/inject';
import { sourceText, validateNotebook, type NotebookCell } from '#reports/notebook';
import { codeCell, markdownCell, notebook } from '../unit/reports-fixtures.ts';
import { repoRoot, tempDataDir, waitFor } from './local-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/** A cell's stream output as one text (nbformat stores it as lines). */
const printed = (cell: NotebookCell) => (cell.outputs ?? []).filter((o) => o.output_type === 'stream').map((o) => sourceText(o.text ?? '')).join('');

/** The local executor on this machine's Jupyter kernel (Debian's python3-nbclient and python3-ipykernel). */
describeWithKernel('the local kernel executor', () => {
  const executor = localKernelExecutor();
  const limits = { cellTimeoutSeconds: 60, totalTimeoutSeconds: 120 };

  it('runs a papermill notebook unchanged with injected parameters, keeping text and image outputs', async () => {
    // Prepare: written for papermill, knowing nothing of Symbiont.
    const template = notebook([
      markdownCell('# Papermill style'),
      codeCell('alpha = 0.5\nlabel = "default"', ['parameters']),
      codeCell('print(label, alpha * 2)'),
      codeCell('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()'),
    ]);

    // Act
    const outcome = await executor.execute(injectParameters(template, { alpha: 2, label: 'injected' }), limits);

    // Assess
    expect(outcome.status).toBe('succeeded');
    const cells = outcome.notebook.cells;
    expect(cells[2]!.metadata.tags).toEqual(['injected-parameters']);
    expect(printed(cells[3]!)).toBe('injected 4\n');
    expect(cells[4]!.outputs?.some((o) => o.output_type === 'display_data' && typeof o.data?.['image/png'] === 'string')).toBe(true);
    expect(() => validateNotebook(outcome.notebook)).not.toThrow();
  }, 120_000);

  it('stops at a failing cell, keeping what ran before it and naming the error', async () => {
    // Prepare
    const template = notebook([codeCell('x = 1', ['parameters']), codeCell('print("before")'), codeCell('raise ValueError(f"bad x: {x}")'), codeCell('print("after")')]);

    // Act
    const outcome = await executor.execute(template, limits);

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', failure: { cell: 2, name: 'ValueError', message: 'bad x: 1' } });
    const cells = outcome.notebook.cells;
    expect(printed(cells[1]!)).toBe('before\n');
    expect(cells[2]!.outputs).toEqual([expect.objectContaining({ output_type: 'error', ename: 'ValueError' })]);
    expect(cells[3]!.outputs).toEqual([]);
  }, 120_000);

  it('stops a cell that runs past its timeout', async () => {
    // Prepare
    const template = notebook([codeCell('import time\ntime.sleep(30)')]);

    // Act
    const outcome = await executor.execute(template, { cellTimeoutSeconds: 2, totalTimeoutSeconds: 60 });

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', failure: { cell: 0, name: 'CellTimeoutError' } });
  }, 120_000);

  it('stops a notebook that runs past its total timeout', async () => {
    // Prepare
    const template = notebook([codeCell('import time\ntime.sleep(60)')]);

    // Act
    const outcome = await executor.execute(template, { cellTimeoutSeconds: 120, totalTimeoutSeconds: 4 });

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', failure: { name: 'ReportTimeoutError' } });
  }, 120_000);

  it('leaves no kernel behind when the process that started the render exits mid-cell', async () => {
    // Prepare
    const dir = tempDataDir('report-exit');
    const pidFile = join(dir.path, 'kernel.pid');

    // Act: the process exits while the kernel sleeps in the cell
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'integration', 'fixtures', 'render-then-exit.ts'), pidFile], { cwd: repoRoot, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    // Assess
    expect(code).toBe(0);
    const kernelPid = Number(readFileSync(pidFile, 'utf8'));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(`kernel ${kernelPid} to be gone`, () => (alive(kernelPid) ? undefined : true), 15_000);
    expect(existsSync(pidFile)).toBe(true);
    dir.remove();
  }, 120_000);
});

