import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findKernelRuntime, localKernelExecutor } from '#reports/executor';
import { injectParameters } from '#reports/inject';
import type { Notebook, NotebookCell } from '#reports/notebook';
import { renderNotebookHtml } from '#reports/render-html';
import { median, type Benchmark } from './harness.ts';

/**
 * What rendering a report costs: a 50-cell notebook (markdown, small pandas computations, two
 * matplotlib figures) injected, executed on the machine's Jupyter kernel and rendered to offline
 * HTML by Symbiont's executor and renderer, beside `jupyter nbconvert --execute --to html` of the
 * same injected notebook in the same run. Both start a Python, an nbclient and a kernel per
 * notebook, so the difference is what Symbiont adds (and the HTML it writes).
 */

const run = promisify(execFile);
const JUPYTER = existsSync('/usr/bin/jupyter') ? '/usr/bin/jupyter' : 'jupyter';

/** 50 cells: a parameters cell, 10 markdown cells, 37 small computations and 2 figures. */
export function fiftyCellNotebook(): Notebook {
  const cells: NotebookCell[] = [
    { id: 'parameters', cell_type: 'code', execution_count: null, metadata: { tags: ['parameters'] }, outputs: [], source: 'rows = 1000\nseed = 1' },
    { id: 'imports', cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: 'import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\nrng = np.random.default_rng(seed)\nframe = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.integers(0, 10, size=rows)})' },
  ];
  for (let i = 0; cells.length < 48; i++) {
    if (i % 4 === 0) cells.push({ id: `md-${i}`, cell_type: 'markdown', metadata: {}, source: `## Step ${i}\n\nA *short* note about step ${i}.` });
    else cells.push({ id: `code-${i}`, cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: i % 3 === 0 ? `frame.describe().T` : `frame["c${i}"] = frame["a"] * ${i} + frame["b"]\nprint(round(frame["c${i}"].mean(), 3))` });
  }
  cells.push({ id: 'hist', cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: 'frame["a"].plot.hist(bins=30)\nplt.show()' });
  cells.push({ id: 'bars', cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: 'frame["b"].value_counts().sort_index().plot.bar()\nplt.show()' });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    cells,
  };
}

export const reportsBenchmark: Benchmark = {
  name: 'reports',
  description: 'a 50-cell notebook injected, executed and rendered to offline HTML by Symbiont, beside jupyter nbconvert --execute --to html of the same notebook',
  async run({ quick }) {
    const kernel = findKernelRuntime();
    if ('missing' in kernel) throw new Error(kernel.missing);
    const rounds = quick ? 1 : 3;
    const dir = mkdtempSync(join(tmpdir(), 'symbiont-bench-reports-'));
    try {
      const notebook = injectParameters(fiftyCellNotebook(), { rows: 2000, seed: 7 });
      if (notebook.cells.length !== 51) throw new Error(`expected 50 cells plus the injected one, got ${notebook.cells.length}`);
      const input = join(dir, 'fifty.ipynb');
      writeFileSync(input, JSON.stringify(notebook));
      const executor = localKernelExecutor();
      const ours: number[] = [];
      const theirs: number[] = [];
      let htmlBytes = 0;
      let theirBytes = 0;
      // Alternated, so that a slow moment of the machine falls on both.
      for (let round = 0; round < rounds; round++) {
        let started = performance.now();
        const outcome = await executor.execute(notebook, { cellTimeoutSeconds: 120, totalTimeoutSeconds: 600 });
        if (outcome.status !== 'succeeded') throw new Error(`the bench notebook failed: ${outcome.failure.name}: ${outcome.failure.message}`);
        const html = renderNotebookHtml(outcome.notebook, { title: 'bench' });
        writeFileSync(join(dir, 'ours.html'), html);
        ours.push(performance.now() - started);
        htmlBytes = Buffer.byteLength(html);

        started = performance.now();
        await run(JUPYTER, ['nbconvert', '--execute', '--to', 'html', '--output', 'theirs', '--output-dir', dir, input], { timeout: 600_000, env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } });
        theirs.push(performance.now() - started);
        theirBytes = statSync(join(dir, 'theirs.html')).size;
      }
      return [
        {
          metric: '50-cell notebook: inject, execute on the kernel, render offline HTML',
          value: median(ours),
          unit: 'ms',
          better: 'lower',
          baseline: { label: 'jupyter nbconvert --execute --to html', value: median(theirs) },
          target: { on: 'ratio', op: '<=', value: 1.1 },
          note: `median of ${rounds}; a fresh kernel each time, as nbconvert`,
        },
        {
          metric: 'HTML size (ours offline; nbconvert loads require.js and MathJax from a CDN)',
          value: htmlBytes / 1024,
          unit: 'KiB',
          better: 'lower',
          baseline: { label: 'nbconvert HTML', value: theirBytes / 1024 },
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
