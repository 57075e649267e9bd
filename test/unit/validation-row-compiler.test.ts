import { describe, expect, it } from 'vitest';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { FIELD_ESCAPED, FIELD_NON_ASCII, FIELD_QUOTED } from '#validation/csv-tokenizer';
import { IssueCollector } from '#validation/issues';
import { Phrasing } from '#validation/messages';
import { RowChecker } from '#validation/row-checker';

/**
 * The compiled row check (layers/validation/row-compiler.ts) is only the fast path of valid rows:
 * it must record exactly what the general path records for them, and nothing at all for a row
 * the general path would report.
 */

const spec: DatasetSpec = datasetSpecSchema.parse({
  format: 'csv',
  columns: [
    { name: 'id', type: 'integer', min: 1 },
    { name: 'code', type: 'string', pattern: '^C[0-9]{3}$' },
    { name: 'at', type: 'timestamp' },
    { name: 'day', type: 'date', nullable: true },
    { name: 'amount', type: 'number', min: 0, max: 100, nullable: true },
    { name: 'ok', type: 'boolean' },
    { name: 'status', type: 'string', enum: ['new', 'done'] },
    { name: 'note', type: 'string', maxLength: 5, nullable: true },
  ],
  unique: ['code', 'at'],
});

/** A row as the tokenizer hands it out: the fields' offsets in one buffer, and their flags. */
function row(fields: readonly string[]) {
  const buf = Buffer.from(fields.join(','));
  const starts = new Int32Array(fields.length);
  const ends = new Int32Array(fields.length);
  const flags = new Uint8Array(fields.length);
  let at = 0;
  fields.forEach((field, i) => {
    const length = Buffer.byteLength(field);
    starts[i] = at;
    ends[i] = at + length;
    flags[i] = Buffer.from(field).some((byte) => byte >= 0x80) ? FIELD_NON_ASCII : 0;
    at += length + 1;
  });
  return { buf, starts, ends, flags };
}

function checker(): { checker: RowChecker; issues: IssueCollector } {
  const issues = new IssueCollector(10);
  return { checker: new RowChecker(spec, issues, new Phrasing('csv')), issues };
}

/** What the general path does with a row (as CsvReader's loop calls it). */
function generalPath(target: RowChecker, fields: readonly string[], index: number): void {
  const { buf, starts, ends, flags } = row(fields);
  target.beginRow(index, index + 1);
  fields.forEach((_, i) => {
    if (starts[i] === ends[i]) target.nullCell(i);
    else target.textCell(i, buf, starts[i]!, ends[i]!, (flags[i]! & FIELD_NON_ASCII) !== 0);
  });
  target.endRow(() => 'key');
}

const header = Int32Array.from(spec.columns, (_, i) => i);

const VALID = [
  ['1', 'C001', '2024-01-01T00:00:00Z', '2024-01-01', '12.5', 'true', 'new', 'héhé'],
  ['2', 'C002', '2024-01-01T00:00:00.25+01:00', '', '', 'false', 'done', ''],
  ['3', 'C001', '2024-01-01T00:00:00Z', '2024-02-29', '0', 'TRUE', 'done', 'x'],
];

describe('compiled row check', () => {
  it('records valid rows exactly as the general path does: profile and unique key', () => {
    // Prepare
    const general = checker();
    const compiled = checker();
    const check = compiled.checker.compileCsvRow(header);

    // Act
    VALID.forEach((fields, i) => generalPath(general.checker, fields, i + 1));
    const accepted = VALID.map((fields, i) => {
      const { buf, starts, ends, flags } = row(fields);
      compiled.checker.beginRow(i + 1, i + 2);
      const ok = check.check(buf, starts, ends, flags);
      if (ok && check.buildsKey) compiled.checker.endRowWithKey(() => 'key');
      return ok;
    });

    // Assess
    expect(accepted).toEqual([true, true, true]);
    expect(check.buildsKey).toBe(true);
    expect(compiled.checker.profile()).toEqual(general.checker.profile());
    // The third row repeats the first one's key: both paths find it.
    expect(compiled.issues.countsByRule).toEqual({ unique: 1 });
    expect(general.issues.countsByRule).toEqual({ unique: 1 });
  });

  it.each([
    ['an integer below its minimum', ['0', 'C001', '2024-01-01T00:00:00Z', '', '', 'true', 'new', '']],
    ['a pattern mismatch', ['1', 'X001', '2024-01-01T00:00:00Z', '', '', 'true', 'new', '']],
    ['a calendar error', ['1', 'C001', '2024-02-30T00:00:00Z', '', '', 'true', 'new', '']],
    ['a number out of range', ['1', 'C001', '2024-01-01T00:00:00Z', '', '101', 'true', 'new', '']],
    ['a value not in the enum', ['1', 'C001', '2024-01-01T00:00:00Z', '', '', 'true', 'old', '']],
    ['a text too long in code points', ['1', 'C001', '2024-01-01T00:00:00Z', '', '', 'true', 'new', 'héhého']],
    ['an empty required cell', ['1', '', '2024-01-01T00:00:00Z', '', '', 'true', 'new', '']],
    ['a non-ASCII digit', ['1', 'C001', '2024-01-01T00:00:00Z', '', '1٠', 'true', 'new', '']],
  ])('records nothing for a row with %s, leaving it to the general path', (_, fields) => {
    // Prepare
    const { checker: target, issues } = checker();
    const check = target.compileCsvRow(header);
    const before = target.profile();
    const { buf, starts, ends, flags } = row(fields);

    // Act
    target.beginRow(1, 2);
    const ok = check.check(buf, starts, ends, flags);

    // Assess
    expect(ok).toBe(false);
    expect(target.profile()).toEqual(before);
    expect(issues.errorCount).toBe(0);
  });

  it('takes a quoted field as its content, and leaves fields with escaped quotes to the general path', () => {
    // Prepare
    const { checker: target } = checker();
    const check = target.compileCsvRow(header);
    const plain = row(VALID[0]!);
    const quoted = row(VALID[0]!);
    quoted.flags[1] = FIELD_QUOTED;
    const escaped = row(VALID[0]!);
    escaped.flags[7] = FIELD_QUOTED | FIELD_ESCAPED;

    // Act
    target.beginRow(1, 2);
    const results = [check.check(plain.buf, plain.starts, plain.ends, plain.flags), check.check(quoted.buf, quoted.starts, quoted.ends, quoted.flags), check.check(escaped.buf, escaped.starts, escaped.ends, escaped.flags)];

    // Assess
    expect(results).toEqual([true, true, false]);
  });
});
