/**
 * A streaming CSV tokenizer over byte buffers: one pass, a resumable state machine, no string per
 * row or per field. It splits records and fields (RFC 4180 quoting with doubled quotes, LF, CRLF or
 * a lone CR between records, a configurable one-byte delimiter and quote), numbers records and
 * lines exactly, and marks what the validator must look at (non-ASCII bytes, NUL bytes, stray
 * quotes, huge fields) without judging it.
 *
 * Fields are handed out as offsets into a buffer that is valid only during the callback: the
 * chunk itself when the record lies in one chunk, or a carry buffer holding the record's start when
 * it spans chunks. The carry is bounded: a record longer than `maxRecordBytes` is skipped (its bytes
 * are not kept) and reported, so a 10 MB cell or a quote that never closes costs bounded memory.
 */

/** The field was written in quotes. */
export const FIELD_QUOTED = 1;
/** The field holds doubled quotes (`""`) that still stand for one quote each. */
export const FIELD_ESCAPED = 2;
/** The field holds bytes ≥ 0x80: its UTF-8 must be checked. */
export const FIELD_NON_ASCII = 4;
/** The field holds a NUL byte. */
export const FIELD_NUL = 8;
/** A quote in an unquoted field, or text after a closing quote. */
export const FIELD_STRAY_QUOTE = 16;
/** The field is longer than `maxFieldBytes`. */
export const FIELD_TOO_LARGE = 32;

/** One record, as the tokenizer hands it out. The same object is reused for every record. */
export interface CsvRecord {
  /** Holds every field of this record, valid only during the callback. */
  buf: Uint8Array;
  /** Field i is `buf[starts[i], ends[i])`, quotes removed (doubled quotes still doubled). */
  starts: Int32Array;
  ends: Int32Array;
  /** `FIELD_*` bits per field. */
  flags: Uint8Array;
  /** Number of fields. */
  count: number;
  /** 0-based record number: the header is record 0, so it is also the data row number. */
  index: number;
  /** 1-based physical line where the record starts. */
  line: number;
}

/** A structural problem the tokenizer finds itself. */
export type CsvProblem = 'unbalanced-quote' | 'field-too-large' | 'record-too-large';

/** Where the tokenizer reports what it finds. */
export interface CsvSink {
  record(record: CsvRecord): void;
  /** A record that was not kept (too large, or cut by a quote never closed); it still counts as a row. */
  skippedRecord(index: number, line: number): void;
  /**
   * A structural problem in record `index` at field `field` (0-based). `value` is the start of the
   * field's bytes when they are still at hand.
   */
  problem(kind: CsvProblem, index: number, line: number, field: number, value?: Uint8Array): void;
}

export interface CsvTokenizerOptions {
  /** @default 0x2c (`,`) */
  readonly delimiter?: number;
  /** @default 0x22 (`"`) */
  readonly quote?: number;
  /** A longer field is flagged {@link FIELD_TOO_LARGE}. @default 1 MiB */
  readonly maxFieldBytes?: number;
  /** A record that is still open past this many bytes is skipped and reported. @default 4 MiB */
  readonly maxRecordBytes?: number;
}

// Byte classes; 0 is an ordinary byte, the fast path of every scan.
const ORDINARY = 0;
const DELIMITER = 1;
const QUOTE = 2;
const LF = 3;
const CR = 4;
const NUL = 5;
const HIGH = 6;

// States.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_CR = 4;

/** How many bytes of a field a problem carries for its message. */
const PROBLEM_VALUE_BYTES = 256;

export class CsvTokenizer {
  private readonly classes = new Uint8Array(256);
  private readonly quotedClasses = new Uint8Array(256);
  private readonly maxFieldBytes: number;
  private readonly maxRecordBytes: number;

  private state = FIELD_START;
  private fieldStart = 0;
  private fieldFlags = 0;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private flags = new Uint8Array(64);
  private count = 0;
  private recordIndex = 0;
  private recordLine = 1;
  private line = 1;
  /** Line and field where the open quote started, for the unbalanced-quote report. */
  private quoteLine = 1;
  private quoteField = 0;
  /** The current record outgrew `maxRecordBytes`: read on to its end without keeping it. */
  private skipping = false;

  private carry = new Uint8Array(0);
  private carryLength = 0;

  private readonly current: CsvRecord;

  constructor(
    private readonly sink: CsvSink,
    options: CsvTokenizerOptions = {},
  ) {
    const delimiter = options.delimiter ?? 0x2c;
    const quote = options.quote ?? 0x22;
    this.maxFieldBytes = options.maxFieldBytes ?? 1 << 20;
    this.maxRecordBytes = Math.max(options.maxRecordBytes ?? 4 << 20, this.maxFieldBytes);
    for (let c = 0x80; c < 0x100; c++) {
      this.classes[c] = HIGH;
      this.quotedClasses[c] = HIGH;
    }
    for (const table of [this.classes, this.quotedClasses]) {
      table[0] = NUL;
      table[quote] = QUOTE;
    }
    this.classes[delimiter] = DELIMITER;
    this.classes[0x0a] = LF;
    this.classes[0x0d] = CR;
    // Inside quotes only the quote ends anything; line feeds are counted for line numbers.
    this.quotedClasses[0x0a] = LF;
    this.current = { buf: this.carry, starts: this.starts, ends: this.ends, flags: this.flags, count: 0, index: 0, line: 1 };
  }

  /** Records handed out so far, skipped ones included. */
  get records(): number {
    return this.recordIndex;
  }

  /** Tokenizes the next chunk of the text. */
  push(chunk: Uint8Array): void {
    let buf: Uint8Array;
    let pos: number;
    if (this.carryLength > 0) {
      this.ensureCarry(this.carryLength + chunk.length);
      this.carry.set(chunk, this.carryLength);
      buf = this.carry;
      pos = this.carryLength;
    } else {
      buf = chunk;
      pos = 0;
    }
    const end = pos + chunk.length;
    this.scan(buf, pos, end);
  }

  /** Ends the text: finishes the last record (a missing final line break is fine). */
  end(): void {
    const buf = this.carry;
    const end = this.carryLength;
    if (this.state === QUOTED) {
      this.sink.problem('unbalanced-quote', this.recordIndex, this.quoteLine, this.quoteField, this.skipping ? undefined : this.valueAt(buf, this.fieldStart, end));
      this.sink.skippedRecord(this.recordIndex++, this.recordLine);
    } else if (this.state === UNQUOTED) {
      this.addField(this.fieldStart, end);
      this.emit(buf);
    } else if (this.state === QUOTE_IN_QUOTED) {
      this.addField(this.fieldStart, end - 1);
      this.emit(buf);
    } else if (this.state === FIELD_START && this.count > 0) {
      this.addField(end, end);
      this.emit(buf);
    }
    this.state = FIELD_START;
    this.carryLength = 0;
  }

  private scan(buf: Uint8Array, from: number, end: number): void {
    const classes = this.classes;
    const quotedClasses = this.quotedClasses;
    let pos = from;
    let state = this.state;
    let recordStart = this.carryLength > 0 ? 0 : from;
    let kind = ORDINARY;
    while (pos < end) {
      if (state === UNQUOTED) {
        while (pos < end && (kind = classes[buf[pos]!]!) === ORDINARY) pos++;
        if (pos === end) break;
        if (kind === DELIMITER) {
          this.addField(this.fieldStart, pos);
          pos++;
          // The common case, an unquoted field after the delimiter, stays in this state.
          if (pos < end && classes[buf[pos]!] === ORDINARY) {
            this.fieldStart = pos;
            this.fieldFlags = 0;
          } else {
            state = FIELD_START;
          }
        } else if (kind === LF || kind === CR) {
          this.addField(this.fieldStart, pos);
          this.emit(buf);
          this.line++;
          this.recordLine = this.line;
          pos++;
          recordStart = pos;
          if (kind === LF && pos < end && classes[buf[pos]!] === ORDINARY) {
            this.fieldStart = pos;
            this.fieldFlags = 0;
          } else {
            state = kind === CR ? AFTER_CR : FIELD_START;
          }
        } else {
          this.fieldFlags |= kind === QUOTE ? FIELD_STRAY_QUOTE : kind === NUL ? FIELD_NUL : FIELD_NON_ASCII;
          pos++;
        }
      } else if (state === QUOTED) {
        while (pos < end && (kind = quotedClasses[buf[pos]!]!) === ORDINARY) pos++;
        if (pos === end) break;
        if (kind === QUOTE) state = QUOTE_IN_QUOTED;
        else if (kind === LF) this.line++;
        else this.fieldFlags |= kind === NUL ? FIELD_NUL : FIELD_NON_ASCII;
        pos++;
      } else if (state === FIELD_START) {
        kind = classes[buf[pos]!]!;
        if (kind === QUOTE) {
          state = QUOTED;
          this.fieldFlags = FIELD_QUOTED;
          this.fieldStart = pos + 1;
          this.quoteLine = this.line;
          this.quoteField = this.count;
          pos++;
        } else if (kind === DELIMITER) {
          this.fieldFlags = 0;
          this.addField(pos, pos);
          pos++;
        } else if (kind === LF || kind === CR) {
          if (this.count > 0) {
            this.fieldFlags = 0;
            this.addField(pos, pos);
            this.emit(buf);
          }
          // A line with nothing on it is not a record: blank lines are skipped, but counted as lines.
          this.line++;
          this.recordLine = this.line;
          pos++;
          state = kind === CR ? AFTER_CR : FIELD_START;
          recordStart = pos;
        } else {
          state = UNQUOTED;
          this.fieldFlags = 0;
          this.fieldStart = pos;
        }
      } else if (state === QUOTE_IN_QUOTED) {
        kind = classes[buf[pos]!]!;
        if (kind === QUOTE) {
          this.fieldFlags |= FIELD_ESCAPED;
          state = QUOTED;
          pos++;
        } else if (kind === DELIMITER) {
          this.addField(this.fieldStart, pos - 1);
          state = FIELD_START;
          pos++;
        } else if (kind === LF || kind === CR) {
          this.addField(this.fieldStart, pos - 1);
          this.emit(buf);
          this.line++;
          this.recordLine = this.line;
          pos++;
          state = kind === CR ? AFTER_CR : FIELD_START;
          recordStart = pos;
        } else {
          // Text after the closing quote: keep the whole field, quotes included, for the message.
          this.fieldFlags = (this.fieldFlags | FIELD_STRAY_QUOTE) & ~(FIELD_QUOTED | FIELD_ESCAPED);
          this.fieldStart--;
          state = UNQUOTED;
        }
      } else {
        // AFTER_CR: a line feed right after a carriage return belongs to the same line break.
        if (buf[pos] === 0x0a) pos++;
        state = FIELD_START;
        recordStart = pos;
      }
    }
    this.state = state;
    this.keepOpenRecord(buf, recordStart, end);
  }

  /** At the end of a chunk: keeps the bytes of the open record (if any) for the next chunk. */
  private keepOpenRecord(buf: Uint8Array, recordStart: number, end: number): void {
    const open = !(this.state === AFTER_CR || (this.state === FIELD_START && this.count === 0));
    if (!open || this.skipping) {
      this.carryLength = 0;
      if (this.skipping) this.fieldStart = 0;
      return;
    }
    const length = end - recordStart;
    if (length > this.maxRecordBytes) {
      this.startSkipping(buf, end);
      this.carryLength = 0;
      return;
    }
    if (recordStart > 0 || buf !== this.carry) {
      this.ensureCarry(length);
      if (buf === this.carry) this.carry.copyWithin(0, recordStart, end);
      else this.carry.set(buf.subarray(recordStart, end), 0);
      for (let i = 0; i < this.count; i++) {
        this.starts[i]! -= recordStart;
        this.ends[i]! -= recordStart;
      }
      this.fieldStart -= recordStart;
    }
    this.carryLength = length;
  }

  /** The open record is too large to keep: report it once and read on to its end. */
  private startSkipping(buf: Uint8Array, end: number): void {
    const inField = this.state !== FIELD_START;
    const fieldBytes = inField ? end - this.fieldStart : 0;
    const kind: CsvProblem = fieldBytes > this.maxFieldBytes ? 'field-too-large' : 'record-too-large';
    this.sink.problem(kind, this.recordIndex, this.recordLine, this.count, inField ? this.valueAt(buf, this.fieldStart, end) : undefined);
    this.skipping = true;
  }

  private valueAt(buf: Uint8Array, start: number, end: number): Uint8Array {
    return buf.slice(start, Math.min(end, start + PROBLEM_VALUE_BYTES));
  }

  private addField(start: number, end: number): void {
    if (this.skipping) return;
    const index = this.count;
    if (index === this.starts.length) this.growFields();
    this.starts[index] = start;
    this.ends[index] = end;
    this.flags[index] = end - start > this.maxFieldBytes ? this.fieldFlags | FIELD_TOO_LARGE : this.fieldFlags;
    this.count = index + 1;
  }

  private emit(buf: Uint8Array): void {
    if (this.skipping) {
      this.sink.skippedRecord(this.recordIndex, this.recordLine);
      this.skipping = false;
    } else {
      const record = this.current;
      record.buf = buf;
      record.starts = this.starts;
      record.ends = this.ends;
      record.flags = this.flags;
      record.count = this.count;
      record.index = this.recordIndex;
      record.line = this.recordLine;
      this.sink.record(record);
    }
    this.recordIndex++;
    this.count = 0;
  }

  private growFields(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const flags = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    flags.set(this.flags);
    this.starts = starts;
    this.ends = ends;
    this.flags = flags;
  }

  private ensureCarry(size: number): void {
    if (size <= this.carry.length) return;
    const next = new Uint8Array(Math.max(size, this.carry.length * 2, 64 * 1024));
    next.set(this.carry.subarray(0, this.carryLength));
    this.carry = next;
  }
}
