import type { DatasetSpec } from '#config/schema';
import { isUtf8Range, type ContentReader } from './content.ts';
import { displayBytes, displayText, type IssueCollector } from './issues.ts';
import type { Phrasing } from './messages.ts';
import type { RowChecker } from './row-checker.ts';
import { utf8 } from './values.ts';

export interface JsonlReaderOptions {
  /** A longer line is skipped and reported. @default 4 MiB */
  readonly maxRecordBytes?: number;
}

/**
 * Reads JSON Lines: one JSON object per line (LF or CRLF), each value checked by its JSON type.
 *
 * Conventions: the row of an issue is the line number; a line that is not JSON, or JSON that is
 * not an object, is an error on that line; blank lines at the end are fine, blank lines between
 * objects are errors; a key that is absent or `null` reads as null; a key the spec does not name
 * follows `unknownColumns`. A number column takes a JSON number, not a numeric string (`"21.5"`):
 * a file that quotes its numbers is usually quoting something else too. An integer column takes any
 * JSON number whose value is a whole number (`1.0` parses to 1 and is accepted).
 */
export class JsonlReader implements ContentReader {
  private readonly maxRecordBytes: number;
  private carry = new Uint8Array(0);
  private carryLength = 0;
  /** The open line is too long: read on to its end without keeping it. */
  private skipping = false;
  private line = 0;
  private dataRows = 0;
  /** Blank lines not yet followed by an object: errors only if one comes. */
  private blankLines: number[] = [];
  private readonly columnNames: readonly string[];
  private readonly known: Set<string>;

  constructor(
    private readonly spec: DatasetSpec,
    private readonly checker: RowChecker,
    private readonly issues: IssueCollector,
    private readonly phrasing: Phrasing,
    options: JsonlReaderOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? 4 << 20;
    this.columnNames = spec.columns.map((c) => c.name);
    this.known = new Set(this.columnNames);
  }

  get rows(): number {
    return this.dataRows;
  }

  get stopped(): boolean {
    return false;
  }

  push(chunk: Uint8Array): void {
    let buf = chunk;
    let pos = 0;
    let searchFrom = 0;
    if (this.carryLength > 0) {
      this.ensureCarry(this.carryLength + chunk.length);
      this.carry.set(chunk, this.carryLength);
      buf = this.carry;
      searchFrom = this.carryLength;
    }
    const end = searchFrom + chunk.length;
    for (;;) {
      const newline = buf.indexOf(0x0a, searchFrom);
      if (newline < 0 || newline >= end) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        this.lineAt(buf, pos, newline);
      }
      pos = newline + 1;
      searchFrom = pos;
    }
    this.keepOpenLine(buf, pos, end);
  }

  end(): void {
    if (this.carryLength > 0 && !this.skipping) this.lineAt(this.carry, 0, this.carryLength);
    this.carryLength = 0;
    if (this.dataRows === 0) {
      this.issues.add('file.empty', undefined, () => ({
        message: 'The file has no JSON objects, only blank lines. Send it again with one JSON object per line.',
      }));
      return;
    }
    const { minRows, maxRows } = this.spec;
    const rows = this.dataRows;
    if (rows < minRows) {
      this.issues.add('rows.min', undefined, () => ({
        message: `The file has ${rows} line${rows === 1 ? '' : 's'} of data, fewer than the ${minRows} ${this.phrasing.datasetName} requires. Send the complete file.`,
      }));
    }
    if (maxRows !== undefined && rows > maxRows) {
      this.issues.add('rows.max', undefined, () => ({
        message: `The file has ${rows} lines of data, more than the ${maxRows} ${this.phrasing.datasetName} allows. Split it into several files.`,
      }));
    }
  }

  private keepOpenLine(buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.skipping || length === 0) {
      this.carryLength = 0;
      return;
    }
    if (length > this.maxRecordBytes) {
      const line = this.line + 1;
      this.line = line;
      this.dataRows++;
      this.skipping = true;
      this.carryLength = 0;
      this.issues.add('jsonl.line-too-large', undefined, () => ({
        row: line,
        line,
        value: displayBytes(buf, start, Math.min(end, start + 256)),
        message: `Line ${line} is longer than the largest line accepted, so it was skipped. Write one record per line; check that the file has line breaks between its objects.`,
      }));
      return;
    }
    if (buf === this.carry) {
      this.carry.copyWithin(0, start, end);
    } else {
      this.ensureCarry(length);
      this.carry.set(buf.subarray(start, end), 0);
    }
    this.carryLength = length;
  }

  private lineAt(buf: Uint8Array, start: number, lineEnd: number): void {
    const line = ++this.line;
    let end = lineEnd;
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (isBlank(buf, start, end)) {
      this.blankLines.push(line);
      return;
    }
    this.reportBlankLines();
    this.dataRows++;
    const where = this.phrasing.where(line, line);
    if (hasNul(buf, start, end)) {
      this.issues.add('encoding.nul', undefined, () => ({
        row: line,
        line,
        value: displayBytes(buf, start, end),
        message: `${where}the line contains a NUL character (shown as \\x00), which text never holds. Remove it; if many lines have one, the file is damaged or not a text file.`,
      }));
      return;
    }
    if (!isUtf8Range(buf, start, end)) {
      this.issues.add('encoding.utf8', undefined, () => ({
        row: line,
        line,
        value: displayBytes(buf, start, end),
        message: `${where}the line has characters that are not UTF-8 text (shown as \\x.. codes). Save the file as UTF-8 and send it again.`,
      }));
      return;
    }
    const text = utf8(buf, start, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.issues.add('jsonl.parse', undefined, () => ({
        row: line,
        line,
        value: displayText(text),
        message: `${where}the line is not valid JSON (${displayText((error as Error).message, 120)}). Write one complete JSON object per line, such as ${this.example()}.`,
      }));
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
      this.issues.add('jsonl.not-object', undefined, () => ({
        row: line,
        line,
        value: displayText(text),
        message: `${where}the line holds ${kind}, not a JSON object. Write one object per line, such as ${this.example()}.`,
      }));
      return;
    }
    this.checkObject(value as Record<string, unknown>, line);
  }

  private checkObject(object: Record<string, unknown>, line: number): void {
    const checker = this.checker;
    checker.beginRow(line, line);
    const names = this.columnNames;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      checker.jsonValue(i, Object.hasOwn(object, name) ? object[name] : undefined);
    }
    if (this.spec.unknownColumns === 'reject') {
      for (const key of Object.keys(object)) {
        if (this.known.has(key)) continue;
        this.issues.add('jsonl.unknown-key', key, () => ({
          row: line,
          line,
          value: displayText(key),
          message: `${this.phrasing.where(line, line)}the field "${displayText(key)}" is not one of the fields of ${this.phrasing.datasetName} (${names.join(', ')}). Remove it, or ask for it to be added to the dataset's spec.`,
        }));
      }
    }
    checker.endRow(() =>
      (this.spec.unique ?? []).map((name) => `${name} ${displayText(JSON.stringify(object[name] ?? null))}`).join(', '),
    );
  }

  /** Blank lines followed by an object are in the middle of the file: errors. */
  private reportBlankLines(): void {
    for (const line of this.blankLines) {
      this.issues.add('jsonl.blank-line', undefined, () => ({
        row: line,
        line,
        value: '',
        message: `Line ${line} is empty. Remove empty lines between the objects: every line must hold one JSON object.`,
      }));
    }
    this.blankLines = [];
  }

  private example(): string {
    const sample = (type: string): unknown =>
      ({ string: 'text', integer: 42, number: 21.5, boolean: true, date: '2024-01-31', timestamp: '2024-01-31T12:00:00Z' })[type];
    return JSON.stringify(Object.fromEntries(this.spec.columns.slice(0, 3).map((c) => [c.name, c.enum?.[0] ?? sample(c.type)])));
  }

  private ensureCarry(size: number): void {
    if (size <= this.carry.length) return;
    const next = new Uint8Array(Math.max(size, this.carry.length * 2, 64 * 1024));
    next.set(this.carry.subarray(0, this.carryLength));
    this.carry = next;
  }
}

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let pos = start; pos < end; pos++) {
    const c = buf[pos];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function hasNul(buf: Uint8Array, start: number, end: number): boolean {
  for (let pos = start; pos < end; pos++) if (buf[pos] === 0) return true;
  return false;
}
