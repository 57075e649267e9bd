import type { ColumnSpec, DatasetSpec } from '#config/schema';
import { hashNumber, murmur3 } from './hash.ts';
import { displayBytes, displayText, type IssueCollector, type IssueDetail, type Rule } from './issues.ts';
import { KeyBuilder, readKeyParts } from './key-index.ts';
import { UniqueKeys, type UniqueKeysOptions } from './key-spill.ts';
import type { Phrasing } from './messages.ts';
import { compilePattern } from './pattern.ts';
import { compileRow, matchIndex, type CompilableColumn, type CompiledRow, type KeyParts } from './row-compiler.ts';
import { ColumnProfiler, type ColumnProfile } from './profile.ts';
import {
  codePointLength,
  parsedValue,
  readBoolean,
  readDate,
  readInteger,
  readNumber,
  readTimestamp,
  utf8,
  type ParsedValue,
  type ValueStatus,
} from './values.ts';

/**
 * A column of the spec, prepared for checking many cells quickly: what the generated row check
 * needs ({@link CompilableColumn}: the kind as a small integer, bounds as numbers, enum bytes and
 * hashes, the pattern and the profiler), and its spec and name for the general path's messages.
 */
interface PreparedColumn extends CompilableColumn {
  readonly spec: ColumnSpec;
  readonly name: string;
}

const KIND_STRING = 0;
const KIND_INTEGER = 1;
const KIND_NUMBER = 2;
const KIND_BOOLEAN = 3;
const KIND_DATE = 4;
const KIND_TIMESTAMP = 5;
const KINDS: Record<ColumnSpec['type'], number> = {
  string: KIND_STRING,
  integer: KIND_INTEGER,
  number: KIND_NUMBER,
  boolean: KIND_BOOLEAN,
  date: KIND_DATE,
  timestamp: KIND_TIMESTAMP,
};

// What a key part of the current row holds.
const PART_UNSET = 0;
const PART_NULL = 1;
const PART_BYTES = 2;
const PART_NUMBER = 3;
const PART_INSTANT = 4;

const textEncoder = new TextEncoder();

/**
 * Checks the cells of one row at a time against the spec's columns (type, range, enum, pattern,
 * length, nulls), keeps each column's profile, and checks the unique key once the row is complete.
 * The format readers (CSV, JSONL) feed it; it knows nothing of how the values were written down.
 */
export class RowChecker implements KeyParts {
  readonly columns: readonly PreparedColumn[];
  private readonly keyIndex: UniqueKeys | undefined;
  readonly keyColumns: readonly number[];
  readonly key = new KeyBuilder();
  private readonly parsed: ParsedValue = parsedValue();

  // Key parts of the current row, by key position.
  private readonly partKinds: Uint8Array;
  /** Copies of the bytes of text parts: the cell's own buffer may be a scratch reused by the next cell. */
  private readonly partBytes: Uint8Array[];
  private readonly partLengths: Int32Array;
  private readonly partNumbers: Float64Array;
  private readonly partNanos: Uint32Array;
  /** A key cell of this row was invalid: the row takes no part in the uniqueness check. */
  private keyBroken = false;

  private row = 0;
  private line = 0;
  /** Scratch for JSON strings turned into bytes. */
  private textBytes = new Uint8Array(1024);

  constructor(
    spec: DatasetSpec,
    private readonly issues: IssueCollector,
    private readonly phrasing: Phrasing,
    keyOptions: UniqueKeysOptions = {},
  ) {
    const keyNames = spec.unique ?? [];
    this.columns = spec.columns.map((column) => {
      const enumBytes = column.enum?.map((value) => textEncoder.encode(value));
      return {
        spec: column,
        name: column.name,
        kind: KINDS[column.type],
        min: column.min ?? -Infinity,
        max: column.max ?? Infinity,
        maxLength: column.maxLength ?? Infinity,
        nullable: column.nullable,
        keyPosition: keyNames.indexOf(column.name),
        // Every column has every field, so that the objects share one shape and the per-cell code sees one.
        enumBytes,
        enumHashes: enumBytes && Uint32Array.from(enumBytes, (bytes) => murmur3(bytes, 0, bytes.length)),
        pattern: column.pattern === undefined ? undefined : compilePattern(column.pattern),
        profiler: new ColumnProfiler(),
      };
    });
    this.keyColumns = keyNames.map((name) => spec.columns.findIndex((column) => column.name === name));
    this.keyIndex = keyNames.length > 0 ? new UniqueKeys(keyOptions) : undefined;
    const parts = keyNames.length;
    this.partKinds = new Uint8Array(parts);
    this.partBytes = Array.from({ length: parts }, () => new Uint8Array(64));
    this.partLengths = new Int32Array(parts);
    this.partNumbers = new Float64Array(parts);
    this.partNanos = new Uint32Array(parts);
  }

  /** Sizes the unique-key index for about `rows` rows (a hint; the index grows past it anyway). */
  expectRows(rows: number): void {
    this.keyIndex?.expect(rows);
  }

  /** Column index by name. */
  indexOf(name: string): number {
    return this.columns.findIndex((column) => column.name === name);
  }

  /** Starts a row; `row` and `line` position every issue until the next call. */
  beginRow(row: number, line: number): void {
    this.row = row;
    this.line = line;
    this.keyBroken = false;
    // A loop, not fill(): a key has a few parts and fill() is a call into the runtime per row.
    const kinds = this.partKinds;
    for (let i = 0; i < kinds.length; i++) kinds[i] = PART_UNSET;
  }

  /**
   * Ends the row: checks its unique key. `describeKey` shows the key's values of the current row
   * for the message, and runs only when a duplicate becomes an example (set once, not per row, so
   * a row costs no closure).
   */
  endRow(describeKey: () => string): void {
    const index = this.keyIndex;
    if (index === undefined || this.keyBroken) return;
    const key = this.key;
    key.reset();
    for (let part = 0; part < this.partKinds.length; part++) {
      switch (this.partKinds[part]) {
        case PART_BYTES:
          key.addBytes(this.partBytes[part]!, 0, this.partLengths[part]!);
          break;
        case PART_NUMBER:
          key.addNumber(this.partNumbers[part]!);
          break;
        case PART_INSTANT:
          key.addInstant(this.partNumbers[part]!, this.partNanos[part]!);
          break;
        case PART_NULL:
          key.addNull();
          break;
        default:
          // A key column missing from the file (already reported): every row would repeat the
          // same empty part, so comparing keys would only report noise.
          return;
      }
    }
    this.issues.keyRow = this.row;
    const firstRow = index.add(key.bytes, key.length, this.row, this.line);
    if (firstRow !== 0) this.duplicateIssue(firstRow, describeKey);
  }

  /** Ends a row whose compiled check wrote its key ({@link CompiledRow.buildsKey}): checks that key. */
  endRowWithKey(describeKey: () => string): void {
    const key = this.key;
    this.issues.keyRow = this.row;
    const firstRow = this.keyIndex!.add(key.bytes, key.length, this.row, this.line);
    if (firstRow !== 0) this.duplicateIssue(firstRow, describeKey);
  }

  // The issues are reported by methods of their own: a function that creates a closure pays for
  // the closure's context on every call, even when it creates none, and these run once per cell.

  private duplicateIssue(firstRow: number, describeKey: () => string): void {
    const { row, line } = this;
    this.issues.add('unique', undefined, () => this.duplicateDetail(row, line, firstRow, describeKey()));
  }

  /**
   * Reports the duplicates the key check found at the end (when it spilled to disk), each where
   * it belongs among the issues. Their keys are shown by value (`7`, `2024-01-31T12:00:00Z`): the
   * file's own spelling is no longer at hand.
   */
  finishKeys(): void {
    const index = this.keyIndex;
    if (index === undefined || !index.spilled) return;
    const { count, first } = index.finish();
    this.issues.addDeferredDuplicates(
      count,
      first.map(({ row, line, firstRow, key }) => ({ row, detail: () => this.duplicateDetail(row, line, firstRow, this.describeKeyValue(key)) })),
    );
  }

  /** Removes the key check's files on disk, if any. */
  close(): void {
    this.keyIndex?.close();
  }

  private duplicateDetail(row: number, line: number, firstRow: number, shown: string): IssueDetail {
    const column = this.columns[this.keyColumns[0]!]!.name;
    return {
      row,
      line,
      value: shown,
      message: `${this.phrasing.where(row, line)}the key (${shown}) already appears in ${this.phrasing.format === 'jsonl' ? 'line' : 'row'} ${firstRow}. Remove the duplicate, or correct the ${this.keyColumns.length > 1 ? 'key values' : `"${column}"`} of one of them.`,
    };
  }

  /** A key from its canonical bytes, written as the format's reader shows keys. */
  private describeKeyValue(key: Uint8Array): string {
    const jsonl = this.phrasing.format === 'jsonl';
    return readKeyParts(key)
      .map((part, i) => {
        const column = this.columns[this.keyColumns[i]!]!;
        let text: string | number | boolean | null;
        if (part.kind === 'null') text = null;
        else if (part.kind === 'bytes') text = utf8(part.bytes, 0, part.bytes.length);
        else if (part.kind === 'instant') text = isoInstant(part.seconds, part.nanos);
        else if (column.spec.type === 'date') text = new Date(part.value * 86_400_000).toISOString().slice(0, 10);
        else if (column.spec.type === 'boolean') text = part.value === 1;
        else text = part.value;
        if (jsonl) return `${column.name} ${displayText(JSON.stringify(text))}`;
        return `${column.name} "${displayText(text === null ? '' : String(text))}"`;
      })
      .join(', ');
  }

  /** The cell is absent or empty. */
  nullCell(column: number): void {
    const prepared = this.columns[column]!;
    prepared.profiler.addNull();
    this.setPart(prepared.keyPosition, PART_NULL);
    if (!prepared.nullable) this.requiredIssue(prepared);
  }

  private requiredIssue(prepared: PreparedColumn): void {
    const { row, line } = this;
    this.breakKey(prepared);
    this.issues.add('required', prepared.name, () => ({
      row,
      line,
      value: '',
      message: `${this.phrasing.where(row, line, prepared.name)}${this.phrasing.requiredMessage(prepared.spec)}`,
    }));
  }

  /** The cell could not be read at all (bad bytes, a stray quote): it was reported already. */
  brokenCell(column: number): void {
    this.breakKey(this.columns[column]!);
  }

  /** An invalid key cell takes its row out of the uniqueness check: its error is reported already. */
  private breakKey(prepared: PreparedColumn): void {
    if (prepared.keyPosition >= 0) this.keyBroken = true;
  }

  /**
   * A non-empty cell given as UTF-8 bytes `buf[start, end)`, already checked to be valid UTF-8.
   * `nonAscii` says whether it has bytes ≥ 0x80 (so ASCII cells decode cheaply).
   */
  textCell(column: number, buf: Uint8Array, start: number, end: number, nonAscii: boolean): void {
    const prepared = this.columns[column]!;
    const spec = prepared.spec;
    const parsed = this.parsed;
    let status: ValueStatus;
    switch (prepared.kind) {
      case KIND_STRING:
        this.checkString(prepared, buf, start, end, nonAscii);
        return;
      case KIND_INTEGER:
        status = readInteger(buf, start, end, parsed);
        if (status !== 'ok') return this.typeIssue(prepared, 'type.integer', status, buf, start, end);
        this.checkNumber(prepared, parsed.number, buf, start, end);
        return;
      case KIND_NUMBER:
        status = readNumber(buf, start, end, parsed);
        if (status !== 'ok') return this.typeIssue(prepared, status === 'not-finite' ? 'number.not-finite' : 'type.number', status, buf, start, end);
        this.checkNumber(prepared, parsed.number, buf, start, end);
        return;
      case KIND_BOOLEAN:
        status = readBoolean(buf, start, end, parsed);
        if (status !== 'ok') return this.typeIssue(prepared, 'type.boolean', status, buf, start, end);
        prepared.profiler.addValue(hashNumber(parsed.number));
        this.setNumberPart(prepared.keyPosition, parsed.number);
        return;
      case KIND_DATE:
        status = readDate(buf, start, end, parsed);
        if (status !== 'ok') return this.typeIssue(prepared, status === 'calendar' ? 'date.calendar' : 'type.date', status, buf, start, end);
        prepared.profiler.addOrdered(parsed.number, hashNumber(parsed.number), buf, start, end);
        this.setNumberPart(prepared.keyPosition, parsed.number);
        return;
      default: {
        status = readTimestamp(buf, start, end, parsed);
        if (status !== 'ok') return this.typeIssue(prepared, status === 'calendar' ? 'date.calendar' : 'type.timestamp', status, buf, start, end);
        const { seconds, nanos } = parsed;
        prepared.profiler.addOrdered(seconds + nanos / 1e9, hashNumber(seconds) ^ nanos, buf, start, end);
        if (prepared.keyPosition >= 0) {
          this.partKinds[prepared.keyPosition] = PART_INSTANT;
          this.partNumbers[prepared.keyPosition] = seconds;
          this.partNanos[prepared.keyPosition] = nanos;
        }
        return;
      }
    }
  }

  /** A JSONL value, checked by its JSON type (a number column wants a JSON number, not a string). */
  jsonValue(column: number, value: unknown): void {
    if (value === null || value === undefined) return this.nullCell(column);
    const prepared = this.columns[column]!;
    const type = prepared.spec.type;
    if (typeof value === 'string' && (type === 'string' || type === 'date' || type === 'timestamp')) {
      const bytes = this.encode(value);
      this.textCell(column, bytes, 0, this.textLength, this.textLength !== value.length);
      return;
    }
    if (typeof value === 'number' && (type === 'integer' || type === 'number')) {
      if (type === 'integer' && !Number.isInteger(value)) return this.jsonTypeIssue(prepared, 'type.integer', 'malformed', value);
      if (type === 'integer' && !Number.isSafeInteger(value)) return this.jsonTypeIssue(prepared, 'type.integer', 'unsafe-integer', value);
      if (!Number.isFinite(value)) return this.jsonTypeIssue(prepared, 'number.not-finite', 'not-finite', value);
      const text = String(value);
      const bytes = this.encode(text);
      this.checkNumber(prepared, value === 0 ? 0 : value, bytes, 0, this.textLength);
      return;
    }
    if (typeof value === 'boolean' && type === 'boolean') {
      prepared.profiler.addValue(hashNumber(value ? 1 : 0));
      this.setNumberPart(prepared.keyPosition, value ? 1 : 0);
      return;
    }
    this.jsonTypeIssue(prepared, `type.${type}`, 'malformed', value);
  }

  /** The profile of every column, by name. */
  profile(): Record<string, ColumnProfile> {
    return Object.fromEntries(this.columns.map((column) => [column.name, column.profiler.result()]));
  }

  private textLength = 0;

  /** Encodes a JS string into the scratch buffer; its length is left in `textLength`. */
  private encode(text: string): Uint8Array {
    if (text.length * 3 > this.textBytes.length) this.textBytes = new Uint8Array(text.length * 3);
    this.textLength = textEncoder.encodeInto(text, this.textBytes).written;
    return this.textBytes;
  }

  private checkString(prepared: PreparedColumn, buf: Uint8Array, start: number, end: number, nonAscii: boolean): void {
    let ok = true;
    let enumIndex = -1;
    if (prepared.enumBytes && (enumIndex = matchIndex(prepared.enumBytes, buf, start, end)) < 0) {
      ok = false;
      this.stringIssue(prepared, 'enum', buf, start, end);
    }
    if (prepared.pattern && !prepared.pattern(buf, start, end, nonAscii)) {
      ok = false;
      this.stringIssue(prepared, 'pattern', buf, start, end);
    }
    // Code points never outnumber bytes: only a value with more bytes than the limit needs counting.
    if (end - start > prepared.maxLength && (nonAscii ? codePointLength(buf, start, end) : end - start) > prepared.maxLength) {
      ok = false;
      this.stringIssue(prepared, 'maxLength', buf, start, end);
    }
    if (!ok) {
      this.breakKey(prepared);
      return;
    }
    prepared.profiler.addValue(enumIndex >= 0 ? prepared.enumHashes![enumIndex]! : murmur3(buf, start, end));
    if (prepared.keyPosition >= 0) this.setBytesPart(prepared.keyPosition, buf, start, end);
  }

  private stringIssue(prepared: PreparedColumn, rule: 'enum' | 'pattern' | 'maxLength', buf: Uint8Array, start: number, end: number): void {
    const spec = prepared.spec;
    const { row, line } = this;
    this.issues.add(rule, prepared.name, () => {
      const value = displayBytes(buf, start, end);
      const where = this.phrasing.where(row, line, prepared.name);
      if (rule === 'enum') return { row, line, value, message: `${where}${this.phrasing.enumMessage(spec, value)}` };
      if (rule === 'pattern') return { row, line, value, message: `${where}${this.phrasing.patternMessage(spec, value)}` };
      return { row, line, value, message: `${where}${this.phrasing.maxLengthMessage(spec, codePointLength(buf, start, end))}` };
    });
  }

  private checkNumber(prepared: PreparedColumn, value: number, buf: Uint8Array, start: number, end: number): void {
    if (value < prepared.min || value > prepared.max) {
      this.rangeIssue(prepared, value < prepared.min ? 'min' : 'max', buf, start, end);
      return;
    }
    prepared.profiler.addNumber(value, hashNumber(value));
    this.setNumberPart(prepared.keyPosition, value);
  }

  private rangeIssue(prepared: PreparedColumn, side: 'min' | 'max', buf: Uint8Array, start: number, end: number): void {
    const spec = prepared.spec;
    const { row, line } = this;
    this.breakKey(prepared);
    this.issues.add(side === 'min' ? 'range.min' : 'range.max', prepared.name, () => {
      const shown = displayBytes(buf, start, end);
      return { row, line, value: shown, message: `${this.phrasing.where(row, line, prepared.name)}${this.phrasing.rangeMessage(spec, side, shown)}` };
    });
  }

  private typeIssue(prepared: PreparedColumn, rule: Rule, status: ValueStatus, buf: Uint8Array, start: number, end: number): void {
    const { row, line } = this;
    this.breakKey(prepared);
    this.issues.add(rule, prepared.name, () => {
      const value = displayBytes(buf, start, end);
      return { row, line, value, message: `${this.phrasing.where(row, line, prepared.name)}${this.phrasing.typeMessage(prepared.spec, status, value)}` };
    });
  }

  private jsonTypeIssue(prepared: PreparedColumn, rule: Rule, status: ValueStatus, value: unknown): void {
    const { row, line } = this;
    this.breakKey(prepared);
    this.issues.add(rule, prepared.name, () => {
      const shown = displayText(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));
      const jsonType = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'object' ? 'object' : typeof value;
      return { row, line, value: shown, message: `${this.phrasing.where(row, line, prepared.name)}${this.phrasing.typeMessage(prepared.spec, status, shown, jsonType)}` };
    });
  }

  private setPart(position: number, kind: number): void {
    if (position >= 0) this.partKinds[position] = kind;
  }

  /**
   * The check of a whole CSV row written for this spec and a file's header (field i holds column
   * `fieldColumns[i]`, -1 for none): the fast path of valid rows, see {@link compileRow}.
   */
  compileCsvRow(fieldColumns: Int32Array): CompiledRow {
    return compileRow(this.columns, fieldColumns, this, this.parsed);
  }

  // Key parts as the compiled row sets them (the general path sets them in place).

  setNullPart(position: number): void {
    this.partKinds[position] = PART_NULL;
  }

  setBytesPart(position: number, buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.partBytes[position]!.length < length) this.partBytes[position] = new Uint8Array(length * 2);
    const copy = this.partBytes[position]!;
    for (let i = 0; i < length; i++) copy[i] = buf[start + i]!;
    this.partLengths[position] = length;
    this.partKinds[position] = PART_BYTES;
  }

  setInstantPart(position: number, seconds: number, nanos: number): void {
    this.partKinds[position] = PART_INSTANT;
    this.partNumbers[position] = seconds;
    this.partNanos[position] = nanos;
  }

  setNumberPart(position: number, value: number): void {
    if (position < 0) return;
    this.partKinds[position] = PART_NUMBER;
    this.partNumbers[position] = value;
  }
}

/** An instant as ISO 8601 in UTC, with the fraction it has (up to nanoseconds). */
function isoInstant(seconds: number, nanos: number): string {
  const text = new Date(seconds * 1000).toISOString().slice(0, 19);
  return nanos === 0 ? `${text}Z` : `${text}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}
