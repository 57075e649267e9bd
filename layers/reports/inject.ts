import { UntranslatableParameterError } from './errors.ts';
import { firstTaggedCell, INJECTED_TAG, kernelOf, PARAMETERS_TAG, type Notebook, type NotebookCell } from './notebook.ts';

/**
 * Parameter injection as papermill does it, so that a notebook written for papermill runs
 * unchanged: the values become a new code cell tagged `injected-parameters`, written in the
 * kernel's language, placed right after the `parameters` cell (or replacing an earlier injected
 * cell, or first when there is no `parameters` cell), and recorded in `metadata.papermill.parameters`.
 * The translators write what papermill's PythonTranslator and RTranslator write.
 */

export type ParameterValue = null | boolean | number | string | ParameterValue[] | { [key: string]: ParameterValue };

/** Writes parameters as source code of one kernel language. */
export interface Translator {
  readonly language: string;
  /** The whole cell: a `# Parameters` comment, then one assignment per line. */
  codify(parameters: Readonly<Record<string, unknown>>): string;
}

/** papermill's `translate_escaped_str`: Python's unicode_escape encoding, then `"` escaped. */
function escapedString(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '"') out += '\\"';
    else if (code < 0x20 || (code >= 0x7f && code < 0x100)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0x100 && code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code >= 0x10000) out += `\\U${code.toString(16).padStart(8, '0')}`;
    else out += char;
  }
  return `"${out}"`;
}

/**
 * A finite JSON number as papermill writes it (Python's `str()`): whole numbers below 1e16 as
 * ints, other numbers in Python's shortest float form, whose exponent form starts at 1e16 and below
 * 1e-4 and has at least two exponent digits (`2.5e-07`, `1e+16`).
 */
export function pythonNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) return String(value);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function translate(value: unknown, language: 'python' | 'r', path: string): string {
  const python = language === 'python';
  if (value === null || value === undefined) return python ? 'None' : 'NULL';
  if (typeof value === 'string') return escapedString(value);
  if (typeof value === 'boolean') return python ? (value ? 'True' : 'False') : value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return python ? "float('nan')" : 'NaN';
    if (!Number.isFinite(value)) return python ? (value < 0 ? "float('-inf')" : "float('inf')") : value < 0 ? '-Inf' : 'Inf';
    return pythonNumber(value);
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => translate(v, language, `${path}[${i}]`)).join(', ');
    return python ? `[${items}]` : `list(${items})`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      python ? `${escapedString(k)}: ${translate(v, language, `${path}.${k}`)}` : `${escapedString(k)} = ${translate(v, language, `${path}.${k}`)}`,
    );
    return python ? `{${entries.join(', ')}}` : `list(${entries.join(', ')})`;
  }
  throw new UntranslatableParameterError(`parameter ${path} is a ${typeof value}, which has no ${language} form`, { parameter: path });
}

export const pythonTranslator: Translator = {
  language: 'python',
  codify(parameters) {
    let content = '# Parameters\n';
    for (const [name, value] of Object.entries(parameters)) content += `${name} = ${translate(value, 'python', name)}\n`;
    return content;
  },
};

export const rTranslator: Translator = {
  language: 'r',
  codify(parameters) {
    let content = '# Parameters\n';
    // Leading "_" is not legal in R names; papermill drops it too.
    for (const [name, value] of Object.entries(parameters)) content += `${name.replace(/^_+/, '')} = ${translate(value, 'r', name)}\n`;
    return content;
  },
};

const translators: Record<string, Translator> = { python: pythonTranslator, python3: pythonTranslator, r: rTranslator, ir: rTranslator };

/** The translator for a notebook's kernel, found by kernel name then language, as papermill finds it. */
export function translatorFor(notebook: Notebook): Translator {
  const { kernel, language } = kernelOf(notebook);
  const found = translators[kernel.toLowerCase()] ?? translators[language];
  if (!found) {
    throw new UntranslatableParameterError(`no parameter translator for kernel ${kernel} (language ${language}); Symbiont writes parameters for Python and R kernels`, {
      kernel,
      language,
    });
  }
  return found;
}

/**
 * A copy of `notebook` with `parameters` injected the way papermill's `parameterize_notebook`
 * injects them. The input is left as it was.
 */
export function injectParameters(notebook: Notebook, parameters: Readonly<Record<string, unknown>>): Notebook {
  const copy = structuredClone(notebook);
  const cell: NotebookCell = {
    cell_type: 'code',
    execution_count: null,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    source: translatorFor(copy).codify(parameters),
  };
  // Cell ids exist from nbformat 4.5 on; earlier notebooks must not have them.
  if (copy.nbformat_minor >= 5) cell.id = injectedCellId(copy);
  const injected = firstTaggedCell(copy, INJECTED_TAG);
  const declared = firstTaggedCell(copy, PARAMETERS_TAG);
  if (injected >= 0) copy.cells.splice(injected, 1, cell);
  else if (declared >= 0) copy.cells.splice(declared + 1, 0, cell);
  else copy.cells.unshift(cell);
  const papermill = (copy.metadata.papermill ?? {}) as Record<string, unknown>;
  copy.metadata.papermill = { ...papermill, parameters: { ...parameters } };
  return copy;
}

/** `injected-parameters`, or with a suffix when a cell already has that id (ids are unique). */
function injectedCellId(notebook: Notebook): string {
  const ids = new Set(notebook.cells.filter((c) => !(c.metadata.tags ?? []).includes(INJECTED_TAG)).map((c) => c.id));
  let id = 'injected-parameters';
  for (let n = 2; ids.has(id); n += 1) id = `injected-parameters-${n}`;
  return id;
}
