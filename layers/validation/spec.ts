import { createHash } from 'node:crypto';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { UnusableSpecError } from './errors.ts';

/**
 * A spec with every default filled in, checked by the one config schema. Parsing twice gives the
 * same object, so a spec read from the config and one built in code compare equal.
 *
 * @throws UnusableSpecError when the spec does not satisfy the schema, or its delimiter or quote
 * is not a single ASCII character other than a line break.
 */
export function normalizeSpec(spec: DatasetSpec): DatasetSpec {
  const result = datasetSpecSchema.safeParse(spec);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`);
    throw new UnusableSpecError(`the dataset spec is not valid: ${problems.join('; ')}`, problems);
  }
  // The tokenizer works on bytes: a delimiter or quote must be one byte in UTF-8.
  for (const field of ['delimiter', 'quote'] as const) {
    const code = result.data[field].charCodeAt(0);
    if (code > 0x7f || code === 0x0a || code === 0x0d) {
      throw new UnusableSpecError(`the dataset spec's ${field} must be one ASCII character other than a line break`, [field]);
    }
  }
  return result.data;
}

/**
 * JSON with object keys sorted at every level and `undefined` members left out: equal values give
 * equal text whatever the key order they were written in. Array order is kept (it means something:
 * column order, key order).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/**
 * The revision of a spec: sha256 (hex) of its canonical JSON with defaults applied. Writing a
 * default out, or reordering keys, keeps the revision; changing anything else (a column, a bound,
 * a policy, the order of columns, even the description) makes a new one. A version records the
 * revision it was validated against.
 */
export function specRevision(spec: DatasetSpec): string {
  return createHash('sha256').update(canonicalJson(normalizeSpec(spec))).digest('hex');
}
