import type { DatasetSpec } from '#config/schema';
import { isUtf8Range, type ContentReader } from './content.ts';
import {
  CsvTokenizer,
  FIELD_ESCAPED,
  FIELD_NON_ASCII,
  FIELD_NUL,
  FIELD_STRAY_QUOTE,
  FIELD_TOO_LARGE,
  type CsvProblem,
  type CsvRecord,
  type CsvSink,
} from './csv-tokenizer.ts';
import { format } from './input.ts';
import { displayBytes, displayText, type IssueCollector } from './issues.ts';
import type { Phrasing } from './messages.ts';
import type { RowChecker } from './row-checker.ts';
import type { CompiledRow } from './row-compiler.ts';
import { utf8 } from './values.ts';

/** Anything to look at before a cell's value is checked. */
const SLOW_PATH = FIELD_ESCAPED | FIELD_NON_ASCII | FIELD_NUL | FIELD_STRAY_QUOTE | FIELD_TOO_LARGE;

/** Separators people export by mistake, to recognise a file written with another delimiter. */
const LIKELY_DELIMITERS = [',', ';', '\t', '|'];

export interface CsvReaderOptions {
  readonly maxFieldBytes?: number;
  readonly maxRecordBytes?: number;
  /** The size the file is expected to have, to size the key index once from the first rows. */
  readonly expectedBytes?: number;
}

/**
 * Reads CSV content: the header row (names, duplicates, unknown and missing columns, a delimiter
 * that looks wrong), then every data row (its shape, its bytes, and its cells through the
 * {@link RowChecker}), and finally the row counts.
 *
 * Conventions: the header is required and is row 0; blank lines are skipped; an empty cell, quoted
 * or not, is null; header names are matched exactly (case and spaces count).
 */
export class CsvReader implements ContentReader, CsvSink {
  private readonly tokenizer: CsvTokenizer;
  private readonly maxFieldBytes: number;
  private readonly maxRecordBytes: number;
  private headerNames: string[] = [];
  /** For each field position of the header: the spec column it holds, or -1. */
  private fieldColumns = new Int32Array(0);
  /** Spec columns absent from the header that read as null in every row. */
  private nullColumns: number[] = [];
  /** The check written for this header's fields ({@link RowChecker.compileCsvRow}), once the header is read. */
  private compiledRow: CompiledRow | undefined;
  private headerSeen = false;
  private refused = false;
  private dataRows = 0;
  /** Scratch for fields whose doubled quotes must be undone. */
  private unescaped = new Uint8Array(256);

  constructor(
    private readonly spec: DatasetSpec,
    private readonly checker: RowChecker,
    private readonly issues: IssueCollector,
    private readonly phrasing: Phrasing,
    options: CsvReaderOptions = {},
  ) {
    this.expectedBytes = options.expectedBytes;
    this.maxFieldBytes = options.maxFieldBytes ?? 1 << 20;
    this.maxRecordBytes = Math.max(options.maxRecordBytes ?? 4 << 20, this.maxFieldBytes);
    this.tokenizer = new CsvTokenizer(this, {
      delimiter: spec.delimiter.charCodeAt(0),
      quote: spec.quote.charCodeAt(0),
      maxFieldBytes: this.maxFieldBytes,
      maxRecordBytes: this.maxRecordBytes,
    });
  }

  get rows(): number {
    return this.dataRows;
  }

  get stopped(): boolean {
    return this.refused;
  }

  push(chunk: Uint8Array): void {
    if (this.refused) return;
    this.tokenizer.push(chunk);
    this.bytesSeen += chunk.length;
    if (this.expectedBytes !== undefined && this.dataRows >= 100) {
      // Rows so far tell the average row size; the expected size tells how many rows will come.
      this.checker.expectRows(Math.ceil((this.expectedBytes / this.bytesSeen) * this.dataRows * 1.05));
      this.expectedBytes = undefined;
    }
  }

  private bytesSeen = 0;
  private expectedBytes: number | undefined;

  end(): void {
    if (this.refused) return;
    this.tokenizer.end();
    if (this.refused) return;
    if (!this.headerSeen) {
      this.issues.add('file.empty', undefined, () => ({
        message: 'The file has no rows, only blank lines. Send it again with a header row naming the columns, then one row per record.',
      }));
      return;
    }
    const { minRows, maxRows } = this.spec;
    const rows = this.dataRows;
    if (rows === 0 && minRows > 0) {
      this.issues.add('file.header-only', undefined, () => ({
        row: 0,
        message: `The file has a header row but no data rows. Send a file with at least ${minRows} row${minRows === 1 ? '' : 's'} of data.`,
      }));
    } else if (rows < minRows) {
      this.issues.add('rows.min', undefined, () => ({
        message: `The file has ${rows} data row${rows === 1 ? '' : 's'}, fewer than the ${minRows} ${this.phrasing.datasetName} requires. Send the complete file.`,
      }));
    }
    if (maxRows !== undefined && rows > maxRows) {
      this.issues.add('rows.max', undefined, () => ({
        message: `The file has ${rows} data rows, more than the ${maxRows} ${this.phrasing.datasetName} allows. Split it into several files.`,
      }));
    }
  }

  record(record: CsvRecord): void {
    if (this.refused) return;
    if (record.index === 0) {
      this.header(record);
      return;
    }
    this.dataRows++;
    const row = record.index;
    const line = record.line;
    if (record.count !== this.headerNames.length) {
      this.ragged(record);
      return;
    }
    const checker = this.checker;
    checker.beginRow(row, line);
    const { buf, starts, ends, flags } = record;
    // A valid row goes through the check written for this header; any other, through the loop below.
    const compiled = this.compiledRow;
    this.currentRecord = record;
    if (compiled !== undefined && compiled.check(buf, starts, ends, flags)) {
      for (const column of this.nullColumns) checker.nullCell(column);
      if (compiled.buildsKey) checker.endRowWithKey(this.describeCurrentKey);
      else checker.endRow(this.describeCurrentKey);
      return;
    }
    this.checkCells(record);
    for (const column of this.nullColumns) checker.nullCell(column);
    checker.endRow(this.describeCurrentKey);
  }

  /** The general path: each cell looked at, checked, and reported when wrong. */
  private checkCells(record: CsvRecord): void {
    const checker = this.checker;
    const { buf, starts, ends, flags } = record;
    const fieldColumns = this.fieldColumns;
    for (let i = 0; i < record.count; i++) {
      const column = fieldColumns[i]!;
      let start = starts[i]!;
      let end = ends[i]!;
      let cellBuf = buf;
      const fieldFlags = flags[i]!;
      if ((fieldFlags & SLOW_PATH) !== 0) {
        if (!this.readableCell(record, i, column)) continue;
        if ((fieldFlags & FIELD_ESCAPED) !== 0) {
          cellBuf = this.unescape(buf, start, end);
          start = 0;
          end = this.unescapedLength;
        }
      }
      if (column < 0) continue;
      if (start === end) checker.nullCell(column);
      else checker.textCell(column, cellBuf, start, end, (fieldFlags & FIELD_NON_ASCII) !== 0);
    }
  }

  skippedRecord(index: number): void {
    if (index > 0) this.dataRows++;
    else this.refused = true;
  }

  problem(kind: CsvProblem, index: number, line: number, field: number, value?: Uint8Array): void {
    const column = index > 0 ? this.headerNames[field] : undefined;
    const shown = value ? displayBytes(value, 0, value.length) : undefined;
    const where = this.phrasing.where(index, line, column);
    const position = column === undefined && index > 0 ? ` (field ${field + 1})` : '';
    switch (kind) {
      case 'unbalanced-quote':
        this.issues.add('csv.unbalanced-quote', column, () => ({
          row: index,
          line,
          ...(shown === undefined ? {} : { value: shown }),
          message: `${where}a quote (${this.spec.quote}) opens a value${position} but is never closed, so everything after it up to the end of the file reads as one value. Close the quote; a quote that is part of the value must be doubled (${this.spec.quote}${this.spec.quote}).`,
        }));
        return;
      case 'field-too-large':
      case 'record-too-large':
        this.issues.add(kind === 'field-too-large' ? 'csv.field-too-large' : 'csv.record-too-large', column, () => ({
          row: index,
          line,
          ...(shown === undefined ? {} : { value: shown }),
          message: `${where}the ${kind === 'field-too-large' ? 'value' : 'row'}${position} is longer than the ${kind === 'field-too-large' ? `largest value accepted (${format(this.maxFieldBytes)})` : `largest row accepted (${format(this.maxRecordBytes)})`}, so the row was skipped. If a quote opens the value and is never closed, close it; otherwise shorten the value, or check that this is the right file.`,
        }));
        return;
    }
  }

  /** Checks the bytes of a cell; false when the cell cannot be read as a value (reported). */
  private readableCell(record: CsvRecord, field: number, column: number): boolean {
    const { buf, index: row, line } = record;
    const start = record.starts[field]!;
    const end = record.ends[field]!;
    const fieldFlags = record.flags[field]!;
    const name = this.headerNames[field]!;
    // Only the issues kept as examples need the words; most cells that come here are fine.
    const phrasing = this.phrasing;
    const where = (): string => phrasing.where(row, line, name);
    const fail = (): false => {
      if (column >= 0) this.checker.brokenCell(column);
      return false;
    };
    if ((fieldFlags & FIELD_TOO_LARGE) !== 0) {
      this.issues.add('csv.field-too-large', name, () => ({
        row,
        line,
        value: displayBytes(buf, start, end),
        message: `${where()}the value is ${format(end - start)} long, longer than the largest value accepted (${format(this.maxFieldBytes)}). Shorten it, or check that the column is the right one.`,
      }));
      return fail();
    }
    if ((fieldFlags & FIELD_NUL) !== 0) {
      this.issues.add('encoding.nul', name, () => ({
        row,
        line,
        value: displayBytes(buf, start, end),
        message: `${where()}the value contains a NUL character (shown as \\x00), which text never holds. Remove it; if many cells have one, the file is damaged or not a text file.`,
      }));
      return fail();
    }
    if ((fieldFlags & FIELD_NON_ASCII) !== 0 && !isUtf8Range(buf, start, end)) {
      this.issues.add('encoding.utf8', name, () => ({
        row,
        line,
        value: displayBytes(buf, start, end),
        message: `${where()}the value has characters that are not UTF-8 text (shown as \\x.. codes). Save the file as UTF-8 (in Excel: "CSV UTF-8") and send it again.`,
      }));
      return fail();
    }
    if ((fieldFlags & FIELD_STRAY_QUOTE) !== 0) {
      const q = this.spec.quote;
      this.issues.add('csv.stray-quote', name, () => ({
        row,
        line,
        value: displayBytes(buf, start, end),
        message: `${where()}the value has a quote (${q}) that is not where quotes may be: a value with a quote inside must be written in quotes with the inner quote doubled, as in ${q}5${q}${q} pipe${q}. Correct the quoting of this value.`,
      }));
      return fail();
    }
    return true;
  }

  private unescapedLength = 0;

  /** Copies a quoted field's content with each doubled quote made single. */
  private unescape(buf: Uint8Array, start: number, end: number): Uint8Array {
    if (this.unescaped.length < end - start) this.unescaped = new Uint8Array((end - start) * 2);
    const quote = this.spec.quote.charCodeAt(0);
    const out = this.unescaped;
    let length = 0;
    for (let pos = start; pos < end; pos++) {
      const c = buf[pos]!;
      out[length++] = c;
      if (c === quote) pos++;
    }
    this.unescapedLength = length;
    return out;
  }

  private header(record: CsvRecord): void {
    this.headerSeen = true;
    const { buf, starts, ends, flags, count, line } = record;
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const start = starts[i]!;
      const end = ends[i]!;
      const fieldFlags = flags[i]!;
      if ((fieldFlags & (FIELD_NUL | FIELD_NON_ASCII)) !== 0 && ((fieldFlags & FIELD_NUL) !== 0 || !isUtf8Range(buf, start, end))) {
        const rule = (fieldFlags & FIELD_NUL) !== 0 ? 'encoding.nul' : 'encoding.utf8';
        this.issues.add(rule, undefined, () => ({
          row: 0,
          line,
          value: displayBytes(buf, start, end),
          message: `Header row: the name of column ${i + 1} has bytes that are not UTF-8 text. Save the file as UTF-8 (in Excel: "CSV UTF-8") and send it again.`,
        }));
      }
      let name = utf8(buf, start, end);
      if ((fieldFlags & FIELD_ESCAPED) !== 0) name = name.replaceAll(this.spec.quote + this.spec.quote, this.spec.quote);
      names.push(name);
    }
    this.headerNames = names;
    if (this.wrongDelimiter(names, line)) return;

    const columns = this.spec.columns;
    this.fieldColumns = new Int32Array(count).fill(-1);
    const firstAt = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === '') {
        this.issues.add('header.missing-name', undefined, () => ({
          row: 0,
          line,
          message: `Header row: column ${i + 1} has no name. Write the column's name in the header (${this.expectedHeader()}).`,
        }));
        return;
      }
      const first = firstAt.get(name);
      if (first !== undefined) {
        this.issues.add('header.duplicate', name, () => ({
          row: 0,
          line,
          value: displayText(name),
          message: `Header row: the column "${name}" appears twice (columns ${first + 1} and ${i + 1}). Remove or rename one of them; only the first is checked.`,
        }));
        return;
      }
      firstAt.set(name, i);
      const column = this.checker.indexOf(name);
      if (column >= 0) {
        this.fieldColumns[i] = column;
      } else if (this.spec.unknownColumns === 'reject') {
        const near = columns.find((c) => c.name.toLowerCase() === name.trim().toLowerCase());
        this.issues.add('header.unknown-column', name, () => ({
          row: 0,
          line,
          value: displayText(name),
          message: `Header row: the column "${displayText(name)}" is not one of the columns of ${this.phrasing.datasetName} (${columns.map((c) => c.name).join(', ')}). ${near ? `Did you mean "${near.name}"? Names must match exactly.` : 'Remove the column, or ask for it to be added to the dataset\'s spec.'}`,
        }));
      }
    });
    const matched = new Set(this.fieldColumns);
    const noneMatched = matched.size === 1 && matched.has(-1);
    this.nullColumns = [];
    columns.forEach((column, index) => {
      if (matched.has(index)) return;
      if (this.spec.missingColumns === 'null' && column.nullable) {
        this.nullColumns.push(index);
        return;
      }
      const why = this.spec.missingColumns === 'null' ? ' It cannot be left out because every row needs a value in it.' : '';
      const hint = noneMatched ? ` The first row does not name any expected column: if it is data, add the header row (${this.expectedHeader()}) above it.` : ` Add the column to the header (${this.expectedHeader()}).`;
      this.issues.add('header.missing-column', column.name, () => ({
        row: 0,
        line,
        message: `Header row: the column "${column.name}" of ${this.phrasing.datasetName} is missing.${why}${hint}`,
      }));
    });
    this.compiledRow = this.checker.compileCsvRow(this.fieldColumns);
  }

  /** A single-column header full of another separator: the file was written with the wrong delimiter. */
  private wrongDelimiter(names: string[], line: number): boolean {
    if (names.length !== 1 || this.spec.columns.length < 2) return false;
    const name = names[0]!;
    const found = LIKELY_DELIMITERS.find((d) => d !== this.spec.delimiter && name.split(d).length >= 2);
    if (found === undefined) return false;
    const shown = found === '\t' ? 'a tab' : `"${found}"`;
    const expected = this.spec.delimiter === '\t' ? 'a tab' : `"${this.spec.delimiter}"`;
    this.refused = true;
    this.issues.add('csv.delimiter', undefined, () => ({
      row: 0,
      line,
      value: displayText(name),
      message: `Header row: the whole header reads as one column, "${displayText(name)}". The file seems to separate its columns with ${shown}, but ${this.phrasing.datasetName} expects ${expected}. Export the file again with ${expected} as the separator (the delimiter).`,
    }));
    return true;
  }

  private ragged(record: CsvRecord): void {
    const { buf, starts, ends, count, index: row, line } = record;
    const expected = this.headerNames.length;
    const d = this.spec.delimiter === '\t' ? 'tab' : `"${this.spec.delimiter}"`;
    this.issues.add('csv.ragged-row', undefined, () => ({
      row,
      line,
      value: displayBytes(buf, starts[0]!, ends[count - 1]!),
      message:
        count < expected
          ? `${this.phrasing.where(row, line)}the row has ${count} value${count === 1 ? '' : 's'} but the header has ${expected} columns. Add the missing values (an empty value still needs its ${d} separator).`
          : `${this.phrasing.where(row, line)}the row has ${count} values but the header has ${expected} columns. Remove the extra values; a value that contains ${d} must be written in quotes.`,
    }));
  }

  /** The record being checked, for {@link describeCurrentKey}. */
  private currentRecord: CsvRecord | undefined;

  /** Shows the key of the current record; one function for every row, so a row allocates no closure. */
  private readonly describeCurrentKey = (): string => this.describeKey(this.currentRecord!);

  private describeKey(record: CsvRecord): string {
    const names = this.spec.unique ?? [];
    return names
      .map((name) => {
        const field = this.headerNames.indexOf(name);
        if (field < 0) return `${name} empty`;
        return `${name} "${displayBytes(record.buf, record.starts[field]!, record.ends[field]!)}"`;
      })
      .join(', ');
  }

  private expectedHeader(): string {
    return this.spec.columns.map((c) => c.name).join(this.spec.delimiter);
  }
}
