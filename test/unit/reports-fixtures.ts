import type { Notebook, NotebookCell } from '#reports/notebook';

/** Shared by the reports*.test.ts files: small notebooks built cell by cell. */

export function codeCell(source: string, tags?: string[], id?: string): NotebookCell {
  return { ...(id ? { id } : {}), cell_type: 'code', execution_count: null, metadata: tags ? { tags } : {}, outputs: [], source };
}

export function markdownCell(source: string, id?: string): NotebookCell {
  return { ...(id ? { id } : {}), cell_type: 'markdown', metadata: {}, source };
}

/** An nbformat 4.5 notebook (cells need ids) of a Python kernel, unless told otherwise. */
export function notebook(cells: NotebookCell[], kernel: { name: string; language: string } = { name: 'python3', language: 'python' }, minor = 5): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: minor,
    metadata: { kernelspec: { name: kernel.name, display_name: kernel.name, language: kernel.language }, language_info: { name: kernel.language } },
    cells: cells.map((cell, i) => (minor >= 5 ? { id: cell.id ?? `cell-${i}`, ...cell } : cell)),
  };
}

/** A papermill-style template: a title, a `parameters` cell, then code that uses them. */
export function papermillTemplate(): Notebook {
  return notebook([
    markdownCell('# Template'),
    codeCell('alpha = 0.6  # the smoothing factor\nratio: float = 0.1\nname = "world"\nitems = [1, 2]\nflag = True\nmissing = None', ['parameters']),
    codeCell('print(alpha, name)'),
  ]);
}
