import { InvalidReportRequestError, InvalidTemplateError } from './errors.ts';
import { firstTaggedCell, kernelOf, PARAMETERS_TAG, sourceText, type Notebook } from './notebook.ts';

/**
 * The parameters a template declares, read from its `parameters` cell the way `papermill
 * --help-notebook` (its `inspect`) reads them: one `name = default` (or `name: annotation =
 * default`) assignment per parameter, a trailing `# comment` as its help, multi-line values joined.
 * Unlike papermill, a request's values are checked against the declaration: an unknown name or a
 * value of the wrong type is refused, naming it.
 */

/** The value types a request is checked against; `any` takes every JSON value. */
export const parameterTypes = ['int', 'float', 'str', 'bool', 'list', 'dict', 'any'] as const;
export type ParameterType = (typeof parameterTypes)[number];

/** One declared parameter: papermill's inspect fields plus the type values are checked against. */
export interface TemplateParameter {
  readonly name: string;
  /** The type a value must have: from the annotation or type comment when given, else from the default. */
  readonly type: ParameterType;
  /** What papermill calls `inferred_type_name`: the annotation or type comment as written, else `None`. */
  readonly inferredTypeName: string;
  /** The default, as source text. */
  readonly default: string;
  /** The trailing comment. */
  readonly help: string;
  /** The default may be `None` / `NULL`, so `null` is accepted too. */
  readonly nullable: boolean;
}

// papermill's PythonTranslator.PARAMETER_PATTERN, which R declarations (`name <- value`) share here.
const PYTHON_PARAMETER = /^(?<target>\w[\w_]*)\s*(:\s*["']?(?<annotation>\w[\w_[\],\s]*)["']?\s*)?=\s*(?<value>.*?)(\s*#\s*(type:\s*(?<typeComment>[^\s]*)\s*)?(?<help>.*))?$/;
const R_PARAMETER = /^(?<target>[A-Za-z.][\w.]*)\s*(=|<-)\s*(?<value>.*?)(\s*#\s*(?<help>.*))?$/;

/** The parameters a notebook declares; none when it has no `parameters` cell. */
export function readParameters(notebook: Notebook): TemplateParameter[] {
  const index = firstTaggedCell(notebook, PARAMETERS_TAG);
  if (index < 0) return [];
  const cell = notebook.cells[index]!;
  if (cell.cell_type !== 'code') {
    throw new InvalidTemplateError(`the cell tagged "${PARAMETERS_TAG}" (cell ${index + 1}) is a ${cell.cell_type} cell; it must be a code cell`, { cell: index + 1 });
  }
  const { language } = kernelOf(notebook);
  const isR = language === 'r';
  const parameters: TemplateParameter[] = [];
  for (const definition of groupDefinitions(sourceText(cell.source))) {
    const match = (isR ? R_PARAMETER : PYTHON_PARAMETER).exec(definition);
    if (!match?.groups?.target) continue;
    const { target, annotation, typeComment, value = '', help = '' } = match.groups;
    const declared = annotation ?? typeComment;
    const inferred = isR ? inferRType(value.trim()) : inferPythonType(value.trim());
    const fromAnnotation = declared ? typeOfAnnotation(declared) : undefined;
    parameters.push({
      name: target.trim(),
      type: fromAnnotation?.type ?? inferred.type,
      inferredTypeName: declared?.trim() ?? 'None',
      default: value.trim(),
      help: help.trim(),
      nullable: inferred.nullable || (fromAnnotation?.nullable ?? false),
    });
  }
  return parameters;
}

/**
 * Joins a definition that spans lines (an open bracket, a trailing backslash) into one, dropping
 * blank and comment-only lines, like papermill's inspect. Comments of inner lines are dropped; the
 * last line's stays as the help.
 */
function groupDefinitions(source: string): string[] {
  const definitions: string[] = [];
  let accumulator: string[] = [];
  let depth = 0;
  for (const line of source.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (accumulator.length === 0 && (trimmed === '' || trimmed.startsWith('#'))) continue;
    accumulator.push(line);
    depth += bracketBalance(stripComment(line));
    if (depth <= 0 && !trimmed.endsWith('\\')) {
      const inner = accumulator.slice(0, -1).map((l) => stripComment(l).trim().replace(/\\$/, ''));
      definitions.push([...inner, accumulator[accumulator.length - 1]!.trim()].join(''));
      accumulator = [];
      depth = 0;
    }
  }
  if (accumulator.length > 0) definitions.push(accumulator.map((l) => stripComment(l).trim()).join(''));
  return definitions;
}

/** A line without its comment (a `#` outside quotes). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function bracketBalance(text: string): number {
  let balance = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) balance += 1;
    else if (')]}'.includes(c)) balance -= 1;
  }
  return balance;
}

const PY_INT = /^[+-]?(0|[1-9][\d_]*)$/;
const PY_FLOAT = /^[+-]?((\d[\d_]*)?\.\d[\d_]*([eE][+-]?\d+)?|\d[\d_]*\.([eE][+-]?\d+)?|\d[\d_]*[eE][+-]?\d+)$|^float\(\s*["'][+-]?(nan|inf|infinity)["']\s*\)$/i;
const PY_STRING = /^[rRbBuUfF]{0,2}("""[\s\S]*"""|'''[\s\S]*'''|"([^"\\]|\\.)*"|'([^'\\]|\\.)*')$/;

function inferPythonType(value: string): { type: ParameterType; nullable: boolean } {
  if (value === 'None') return { type: 'any', nullable: true };
  if (value === 'True' || value === 'False') return { type: 'bool', nullable: false };
  if (PY_INT.test(value)) return { type: 'int', nullable: false };
  if (PY_FLOAT.test(value)) return { type: 'float', nullable: false };
  if (PY_STRING.test(value)) return { type: 'str', nullable: false };
  if (/^\[[\s\S]*\]$/.test(value) || /^\([\s\S]*\)$/.test(value)) return { type: 'list', nullable: false };
  if (/^\{[\s\S]*\}$/.test(value)) return { type: 'dict', nullable: false };
  // An expression (`pd.Timestamp("2024-01-01")`, a name): nothing to infer, any value goes.
  return { type: 'any', nullable: true };
}

function inferRType(value: string): { type: ParameterType; nullable: boolean } {
  if (value === 'NULL' || value === 'NA') return { type: 'any', nullable: true };
  if (value === 'TRUE' || value === 'FALSE' || value === 'T' || value === 'F') return { type: 'bool', nullable: false };
  if (/^[+-]?\d+L$/.test(value)) return { type: 'int', nullable: false };
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) return { type: value.includes('.') || /e/i.test(value) ? 'float' : 'int', nullable: false };
  if (/^("([^"\\]|\\.)*"|'([^'\\]|\\.)*')$/.test(value)) return { type: 'str', nullable: false };
  if (/^(c|list)\(/.test(value)) return { type: 'list', nullable: false };
  return { type: 'any', nullable: true };
}

/** `int`, `float`, `str`, `bool`, `List[int]`, `dict`, `Optional[str]`… → the checked type. */
function typeOfAnnotation(annotation: string): { type: ParameterType; nullable: boolean } | undefined {
  const text = annotation.trim();
  const optional = /^Optional\[(.*)\]$/.exec(text);
  if (optional) {
    const inner = typeOfAnnotation(optional[1]!);
    return { type: inner?.type ?? 'any', nullable: true };
  }
  const base = text.replace(/\[.*$/, '').toLowerCase();
  const known: Record<string, ParameterType> = {
    int: 'int',
    float: 'float',
    str: 'str',
    bool: 'bool',
    list: 'list',
    tuple: 'list',
    dict: 'dict',
    any: 'any',
  };
  const type = known[base];
  return type ? { type, nullable: false } : undefined;
}

/** Whether a JSON value fits a declared type (an int fits a float). */
export function fitsType(value: unknown, parameter: Pick<TemplateParameter, 'type' | 'nullable'>): boolean {
  if (value === null) return parameter.nullable || parameter.type === 'any';
  switch (parameter.type) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number';
    case 'str':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value);
    case 'dict':
      return typeof value === 'object' && !Array.isArray(value);
    case 'any':
      return true;
  }
}

/** What a JSON value is, in the words of the error message. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an int' : 'a float';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a bool';
  return 'a dict';
}

/**
 * Checks a request's parameters against a template's declaration. Every problem is listed at once
 * — unknown names (with the declared ones), values of the wrong type, and names that the built-in
 * parameters own — in one {@link InvalidReportRequestError}.
 */
export function checkParameters(template: string, declared: readonly TemplateParameter[], given: Readonly<Record<string, unknown>>, builtIns: readonly string[]): void {
  const byName = new Map(declared.map((p) => [p.name, p]));
  const problems: { field: string; message: string }[] = [];
  for (const [name, value] of Object.entries(given)) {
    const field = `parameters.${name}`;
    if (builtIns.includes(name)) {
      problems.push({ field, message: `${name} is a built-in parameter, set from the request's dataset or evaluation; it cannot be given` });
      continue;
    }
    const parameter = byName.get(name);
    if (!parameter) {
      const names = declared.map((p) => p.name).filter((n) => !builtIns.includes(n));
      problems.push({ field, message: `template ${template} declares no parameter ${name} (it declares ${names.length === 0 ? 'none' : names.join(', ')})` });
      continue;
    }
    if (!fitsType(value, parameter)) {
      problems.push({ field, message: `${name} must be ${article(parameter.type)}${parameter.nullable ? ' or null' : ''} (default ${parameter.default}), not ${describeValue(value)}` });
    }
  }
  if (problems.length > 0) {
    throw new InvalidReportRequestError(problems.map((p) => p.message).join('; '), { problems });
  }
}

function article(type: ParameterType): string {
  return { int: 'an int', float: 'a number', str: 'a string', bool: 'a bool', list: 'a list', dict: 'a dict', any: 'any value' }[type];
}
