/**
 * What a validation finds wrong, and the collector that keeps the first examples and counts the
 * rest. Rule ids are stable: the report, the counts and the tests key on them.
 *
 * Positions: `row` is the 1-based data row; the CSV header is row 0, and for JSONL the row is the
 * line number. `line` is the 1-based physical line where the row starts (it differs from the row
 * when values hold line breaks or blank lines were skipped). `column` is the column name, absent for
 * row- and file-level issues.
 */

export const rules = [
  // Cell values
  'required',
  'type.string',
  'type.integer',
  'type.number',
  'type.boolean',
  'type.date',
  'type.timestamp',
  'number.not-finite',
  'date.calendar',
  'range.min',
  'range.max',
  'enum',
  'pattern',
  'maxLength',
  'unique',
  // Text and CSV structure
  'encoding.utf8',
  'encoding.nul',
  'csv.ragged-row',
  'csv.unbalanced-quote',
  'csv.stray-quote',
  'csv.field-too-large',
  'csv.record-too-large',
  'csv.delimiter',
  'header.duplicate',
  'header.missing-name',
  'header.missing-column',
  'header.unknown-column',
  // JSONL structure
  'jsonl.parse',
  'jsonl.not-object',
  'jsonl.blank-line',
  'jsonl.line-too-large',
  'jsonl.unknown-key',
  // The file as a whole
  'file.empty',
  'file.header-only',
  'file.binary',
  'rows.min',
  'rows.max',
  'gzip.truncated',
  'gzip.corrupt',
  'gzip.ratio',
  'size.max',
] as const;

/** A stable rule id, e.g. `type.integer` or `csv.ragged-row`. */
export type Rule = (typeof rules)[number];

/** One thing wrong with a file, said so that the person who wrote it can fix it. */
export interface ValidationIssue {
  readonly rule: Rule;
  /** 1-based data row (CSV header = 0; JSONL: the line number); absent for file-level issues. */
  readonly row?: number;
  /** 1-based physical line where the row starts. */
  readonly line?: number;
  /** Column name; absent for row- and file-level issues. */
  readonly column?: string;
  /** The offending value, shortened and with control characters escaped. */
  readonly value?: string;
  /** A sentence for a domain expert: what is wrong, where, and what to do. */
  readonly message: string;
}

/** The parts of an issue its rule and column do not already give. */
export type IssueDetail = Omit<ValidationIssue, 'rule' | 'column'>;

/**
 * Keeps the first `maxExamples` issues in full and counts every issue by rule and by column, so a
 * file with a million bad cells costs a fixed amount of memory and still reports how many.
 */
export class IssueCollector {
  errorCount = 0;
  truncated = false;
  readonly countsByRule: Partial<Record<Rule, number>> = {};
  readonly countsByColumn: Record<string, number> = {};
  readonly examples: ValidationIssue[] = [];
  /**
   * The last data row whose unique key was checked. Together with the order issues arrive in, it
   * places a duplicate found only at the end (the key check spilled to disk) exactly where it
   * would have been found row by row: see {@link addDeferredDuplicate}.
   */
  keyRow = 0;
  /** Where each example stands in the order of discovery ({@link orderOf}), parallel to `examples`. */
  private readonly exampleOrders: number[] = [];
  /** Where each rule was first found, to list the counts in that order whenever issues are merged. */
  private readonly firstOrders = new Map<Rule, number>();

  constructor(private readonly maxExamples: number) {}

  /**
   * Forgets everything collected so far. A rejected file was not processed, so what was found in
   * the part that was read before the rejection is not reported.
   */
  clear(): void {
    this.errorCount = 0;
    this.truncated = false;
    for (const rule of Object.keys(this.countsByRule)) delete this.countsByRule[rule as Rule];
    for (const column of Object.keys(this.countsByColumn)) delete this.countsByColumn[column];
    this.examples.length = 0;
    this.exampleOrders.length = 0;
    this.firstOrders.clear();
  }

  /**
   * Records an issue. `detail` builds the message and value; it runs only while examples are still
   * being kept, so counting a bad cell past the limit allocates nothing.
   */
  add(rule: Rule, column: string | undefined, detail: () => IssueDetail): void {
    this.errorCount++;
    const count = this.countsByRule[rule];
    this.countsByRule[rule] = (count ?? 0) + 1;
    if (count === undefined) this.firstOrders.set(rule, this.orderOf(rule));
    if (column !== undefined) this.countsByColumn[column] = (this.countsByColumn[column] ?? 0) + 1;
    if (this.examples.length < this.maxExamples) {
      this.examples.push({ rule, ...(column === undefined ? {} : { column }), ...detail() });
      this.exampleOrders.push(this.orderOf(rule));
    } else {
      this.truncated = true;
    }
  }

  /**
   * Records `total` duplicate keys found after the rows were read; `first` holds the first of them
   * by row (at least as many as examples are kept, when there are that many), in increasing row
   * order. Each is placed among the examples and the counts where checking it with its row would
   * have put it: after everything found up to that row's key check, before everything after it.
   */
  addDeferredDuplicates(total: number, first: readonly { readonly row: number; readonly detail: () => IssueDetail }[]): void {
    if (total === 0) return;
    this.errorCount += total;
    const count = this.countsByRule.unique;
    this.countsByRule.unique = (count ?? 0) + total;
    const firstOrder = 2 * first[0]!.row;
    if (count === undefined || firstOrder < this.firstOrders.get('unique')!) this.firstOrders.set('unique', firstOrder);
    const orders = this.exampleOrders;
    for (const { row, detail } of first) {
      const order = 2 * row;
      let at = orders.length;
      while (at > 0 && orders[at - 1]! > order) at--;
      if (at >= this.maxExamples) break;
      this.examples.splice(at, 0, { rule: 'unique', ...detail() });
      orders.splice(at, 0, order);
      if (this.examples.length > this.maxExamples) {
        this.examples.pop();
        orders.pop();
      }
    }
    this.truncated = this.errorCount > this.examples.length;
    // The counts list rules in the order they were first found.
    const rules = [...this.firstOrders].sort(([, a], [, b]) => a - b).map(([rule]) => rule);
    const counts = rules.map((rule) => this.countsByRule[rule]!);
    for (const rule of rules) delete this.countsByRule[rule];
    rules.forEach((rule, i) => (this.countsByRule[rule] = counts[i]));
  }

  /**
   * Discovery order of an issue found now: a duplicate of row r (found at its key check) is 2r,
   * anything found after the key check of row r and before the next is 2r + 1.
   */
  private orderOf(rule: Rule): number {
    return rule === 'unique' ? 2 * this.keyRow : 2 * this.keyRow + 1;
  }
}

/** How many characters of a value an issue shows. */
export const VALUE_DISPLAY_LENGTH = 60;

const ESCAPES: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x5c: '\\\\' };

/**
 * A value as an issue shows it: at most {@link VALUE_DISPLAY_LENGTH} characters, control
 * characters and bytes that are not UTF-8 written as escapes (`\x00`, `\n`, `\xff`), so that what
 * a person reads is exactly what the file holds.
 */
export function displayBytes(buf: Uint8Array, start: number, end: number, limit = VALUE_DISPLAY_LENGTH): string {
  let out = '';
  let shown = 0;
  let pos = start;
  while (pos < end && shown < limit) {
    const c = buf[pos]!;
    if (c < 0x80) {
      out += c < 0x20 || c === 0x7f || c === 0x5c ? (ESCAPES[c] ?? `\\x${hex(c)}`) : String.fromCharCode(c);
      pos++;
    } else {
      const length = sequenceLength(buf, pos, end);
      if (length === 0) {
        out += `\\x${hex(c)}`;
        pos++;
      } else {
        out += Buffer.from(buf.buffer, buf.byteOffset + pos, length).toString('utf8');
        pos += length;
      }
    }
    shown++;
  }
  if (pos < end) out += `… (${end - start} bytes)`;
  return out;
}

/** A JS string shown the same way as {@link displayBytes}. */
export function displayText(text: string, limit = VALUE_DISPLAY_LENGTH): string {
  const bytes = Buffer.from(text, 'utf8');
  return displayBytes(bytes, 0, bytes.length, limit);
}

const hex = (byte: number): string => byte.toString(16).padStart(2, '0');

/** Length of the valid UTF-8 sequence at `pos`, or 0 when the bytes there are not one. */
function sequenceLength(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos]!;
  let length: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) [length, min] = [2, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [length, min] = [3, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (pos + length > end) return 0;
  let code = c & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const next = buf[pos + i]!;
    if ((next & 0xc0) !== 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}
