import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
// The official nbformat v4 schemas, vendored unchanged from the nbformat project (Project Jupyter,
// nbformat/v4/nbformat.v4.{4,5}.schema.json, BSD-3-Clause; see nbformat/README.md beside this file).
import schema44 from './nbformat/nbformat.v4.4.schema.json' with { type: 'json' };
import schema45 from './nbformat/nbformat.v4.5.schema.json' with { type: 'json' };
import { InvalidTemplateError } from './errors.ts';

/**
 * Jupyter notebooks (nbformat 4) as report templates and reports use them. Validation is the
 * nbformat project's own JSON schema rather than a hand-written twin, so a notebook Jupyter accepts
 * is accepted here and the reasons for refusing one are the schema's.
 */

/** Source text as nbformat stores it: one string, or lines that join into one. */
export type MultilineString = string | string[];

export interface NotebookOutput {
  readonly output_type: 'stream' | 'display_data' | 'execute_result' | 'error' | string;
  readonly name?: string;
  readonly text?: MultilineString;
  readonly data?: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
  readonly execution_count?: number | null;
  readonly ename?: string;
  readonly evalue?: string;
  readonly traceback?: string[];
}

export interface NotebookCell {
  id?: string;
  cell_type: 'code' | 'markdown' | 'raw';
  metadata: Record<string, unknown> & { tags?: string[] };
  source: MultilineString;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: Record<string, Record<string, string | string[]>>;
}

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown> & {
    kernelspec?: { name: string; display_name?: string; language?: string };
    language_info?: { name?: string };
  };
  cells: NotebookCell[];
}

/** The tag papermill users put on the cell that declares parameters. */
export const PARAMETERS_TAG = 'parameters';
/** The tag papermill puts on the cell it injects. */
export const INJECTED_TAG = 'injected-parameters';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators: Record<'4.4' | '4.5', ValidateFunction> = {
  '4.4': ajv.compile(schema44),
  '4.5': ajv.compile(schema45),
};

/**
 * Checks that `value` is an nbformat 4 notebook, against the schema of its minor version as
 * nbformat does (4.5 and later: the 4.5 schema, which requires cell ids; earlier: 4.4's).
 * Throws {@link InvalidTemplateError} listing where it is wrong (`cells/3/source: must be string`).
 */
export function validateNotebook(value: unknown): Notebook {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTemplateError('a template is a Jupyter notebook: a JSON object with nbformat, nbformat_minor, metadata and cells');
  }
  const major = (value as { nbformat?: unknown }).nbformat;
  if (major !== 4) {
    throw new InvalidTemplateError(`only nbformat 4 notebooks are accepted (this one says nbformat ${JSON.stringify(major)}); open and save it in a current Jupyter to upgrade it`, {
      nbformat: major,
    });
  }
  const minor = (value as { nbformat_minor?: unknown }).nbformat_minor;
  const validate = typeof minor === 'number' && minor >= 5 ? validators['4.5'] : validators['4.4'];
  if (!validate(value)) {
    const problems = describeErrors(validate.errors ?? []);
    throw new InvalidTemplateError(`not a valid nbformat 4 notebook: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`, {
      problems,
    });
  }
  return value as Notebook;
}

/**
 * Ajv reports every branch of a `oneOf` (a cell is a raw, markdown or code cell); the most useful
 * error is the deepest one, so errors are listed deepest first, each path once.
 */
function describeErrors(errors: readonly ErrorObject[]): string[] {
  const sorted = [...errors].sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length);
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of sorted) {
    const where = error.instancePath.replace(/^\//, '') || '(notebook)';
    if (seen.has(where)) continue;
    seen.add(where);
    const extra = error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})` : '';
    problems.push(`${where}: ${error.message ?? error.keyword}${extra}`);
  }
  return problems;
}

/** A cell's source as one string. */
export function sourceText(source: MultilineString): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** The tags of a cell (none when absent). */
export function cellTags(cell: NotebookCell): readonly string[] {
  const tags = cell.metadata.tags;
  return Array.isArray(tags) ? tags : [];
}

/** Index of the first cell carrying `tag`, or -1 (papermill's `_find_first_tagged_cell_index`). */
export function firstTaggedCell(notebook: Notebook, tag: string): number {
  return notebook.cells.findIndex((cell) => cellTags(cell).includes(tag));
}

/** The kernel a notebook asks for, and its language, as papermill finds its translator. */
export function kernelOf(notebook: Notebook): { kernel: string; language: string } {
  const spec = notebook.metadata.kernelspec;
  const language = (spec?.language ?? notebook.metadata.language_info?.name ?? 'python').toLowerCase();
  return { kernel: spec?.name ?? (language === 'r' ? 'ir' : 'python3'), language };
}
