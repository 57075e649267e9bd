import type { Report, Template } from './types.ts';

/**
 * The re-run form's parameters: a template's declared parameters (its built-ins left out: Symbiont
 * sets those) as text fields, and the text typed back into the values `POST /reports` takes, read
 * by the parameter's type. The API checks them again; this only says what is wrong sooner.
 */

export type TemplateParameter = Template['parameters'][number];

/** The parameters a person may set: the declared ones that are not built in. */
export function settableParameters(template: Pick<Template, 'parameters' | 'builtIns'>): TemplateParameter[] {
  const builtIn = new Set(template.builtIns ?? []);
  return template.parameters.filter((p) => !builtIn.has(p.name));
}

/** A value as the form shows it: text as is, anything else as JSON. */
export function parameterText(type: TemplateParameter['type'], value: unknown): string {
  if (value === undefined) return '';
  if (type === 'str' && typeof value === 'string') return value;
  return JSON.stringify(value);
}

export type Parsed = { readonly value: unknown } | { readonly error: string };

/** What `text` means for a parameter of `type`, or why it cannot be one. */
export function parseParameter(parameter: Pick<TemplateParameter, 'name' | 'type' | 'nullable'>, text: string): Parsed {
  const { name, type } = parameter;
  const trimmed = text.trim();
  if (parameter.nullable && (trimmed === 'null' || trimmed === 'None')) return { value: null };
  switch (type) {
    case 'str':
      return { value: text };
    case 'int':
      return /^-?\d+$/.test(trimmed) ? { value: Number(trimmed) } : { error: `${name} takes a whole number (int), not “${text}”` };
    case 'float': {
      const n = Number(trimmed);
      return trimmed !== '' && Number.isFinite(n) ? { value: n } : { error: `${name} takes a number (float), not “${text}”` };
    }
    case 'bool': {
      const word = trimmed.toLowerCase();
      return word === 'true' ? { value: true } : word === 'false' ? { value: false } : { error: `${name} takes true or false (bool), not “${text}”` };
    }
    case 'list':
    case 'dict': {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        return { error: `${name} takes a JSON ${type === 'list' ? 'array, like ["a", "b"]' : 'object, like {"a": 1}'}; “${text}” is not JSON` };
      }
      const fits = type === 'list' ? Array.isArray(value) : typeof value === 'object' && value !== null && !Array.isArray(value);
      return fits ? { value } : { error: `${name} takes a JSON ${type === 'list' ? 'array' : 'object'}, not “${text}”` };
    }
    case 'any':
      try {
        return { value: JSON.parse(trimmed) };
      } catch {
        return { value: text };
      }
  }
}

/**
 * The parameters of a re-run from the form's texts: the filled-in ones read by type (an empty field
 * leaves the template's default), or every problem found.
 */
export function rerunParameters(parameters: readonly TemplateParameter[], texts: Readonly<Record<string, string>>): { parameters: Record<string, unknown> } | { errors: string[] } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const parameter of parameters) {
    const text = texts[parameter.name] ?? '';
    if (text.trim() === '') continue;
    const parsed = parseParameter(parameter, text);
    if ('error' in parsed) errors.push(parsed.error);
    else values[parameter.name] = parsed.value;
  }
  return errors.length > 0 ? { errors } : { parameters: values };
}

/** What a report is about, in words. */
export function subjectOf(report: Pick<Report, 'dataset' | 'evaluationId'>): string {
  if (report.dataset) return `${report.dataset.name} version ${report.dataset.version}`;
  if (report.evaluationId) return `evaluation ${report.evaluationId}`;
  return 'nothing in particular';
}
