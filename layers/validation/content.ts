import { isUtf8 } from 'node:buffer';
import { displayBytes, type IssueCollector } from './issues.ts';

/**
 * A reader of one text format (CSV, JSONL). It receives the decoded content (after gunzip) in
 * chunks of any size and reports what it finds to the issue collector.
 */
export interface ContentReader {
  /** The next chunk; it is valid only during the call (its memory may be reused), so keep a copy of what must outlive it. */
  push(chunk: Uint8Array): void;
  /** The content is complete. */
  end(): void;
  /** Data rows seen so far. */
  readonly rows: number;
  /** Nothing more can be learnt from the content (it is binary, the delimiter is wrong): the rest is only drained. */
  readonly stopped: boolean;
}

/** Enough of the start of the content to tell text from binary data. */
const SNIFF_BYTES = 1024;

const MAGIC: readonly (readonly [readonly number[], string])[] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an Excel .xlsx workbook is one)'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an Office document (an old Excel .xls workbook is one)'],
  [[0x1f, 0x8b], 'a gzip file compressed a second time'],
  [[0x42, 0x5a, 0x68], 'a bzip2 archive'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz archive'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd archive'],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 'a 7-Zip archive'],
  [[0x50, 0x41, 0x52, 0x31], 'a Parquet file'],
  [[0x7f, 0x45, 0x4c, 0x46], 'a program (ELF executable)'],
];

/**
 * What binary data the start of the content looks like, or undefined when it looks like text.
 * A single NUL byte in a text row is not enough (that is reported where it is); a known file
 * signature or a start full of control bytes is.
 */
export function sniffBinary(head: Uint8Array): string | undefined {
  for (const [magic, what] of MAGIC) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return what;
  }
  let control = 0;
  for (const c of head) {
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) control++;
  }
  return head.length > 0 && control / head.length > 0.1 ? 'binary data, not text' : undefined;
}

/** UTF-16 text starts with a byte-order mark that is not UTF-8's. */
function utf16Mark(head: Uint8Array): boolean {
  return (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
}

/**
 * What comes before any format: drops a UTF-8 byte-order mark, recognises an empty file and a
 * file that is not text at all (one clear verdict instead of thousands of encoding errors), then
 * hands the content to the format reader.
 */
export class TextPrelude implements ContentReader {
  private head: Uint8Array[] = [];
  private headLength = 0;
  private started = false;
  private refused = false;
  private contentBytes = 0;

  constructor(
    private readonly reader: ContentReader,
    private readonly issues: IssueCollector,
    private readonly formatName: string,
  ) {}

  get rows(): number {
    return this.reader.rows;
  }

  get stopped(): boolean {
    return this.refused || this.reader.stopped;
  }

  push(chunk: Uint8Array): void {
    if (this.refused || chunk.length === 0) return;
    if (this.started) {
      this.contentBytes += chunk.length;
      this.reader.push(chunk);
      return;
    }
    // A copy: the chunk's memory may be reused once this call returns (and the head is small).
    this.head.push(new Uint8Array(chunk));
    this.headLength += chunk.length;
    if (this.headLength >= SNIFF_BYTES) this.start();
  }

  end(): void {
    if (this.refused) return;
    if (!this.started) this.start();
    if (this.refused) return;
    if (this.contentBytes === 0) {
      this.issues.add('file.empty', undefined, () => ({
        message: `The file is empty. Send it again with its content: ${this.formatName === 'csv' ? 'a header row naming the columns, then one row per record' : 'one JSON object per line'}.`,
      }));
      return;
    }
    this.reader.end();
  }

  private start(): void {
    this.started = true;
    let head = Buffer.concat(this.head, this.headLength);
    this.head = [];
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
    if (utf16Mark(head)) {
      this.refuse('encoding.utf8', 'The file is saved as UTF-16 text ("Unicode text"). Save it again as UTF-8 (in Excel: "CSV UTF-8"), and send it again.', head);
      return;
    }
    const binary = sniffBinary(head.subarray(0, SNIFF_BYTES));
    if (binary !== undefined) {
      const format = this.formatName === 'csv' ? 'a CSV text file (UTF-8)' : 'a JSON Lines text file (UTF-8)';
      this.refuse('file.binary', `The file is not text: it looks like ${binary}. Send the data as ${format}; from a spreadsheet, use "Save as" CSV UTF-8.`, head);
      return;
    }
    if (head.length > 0) {
      this.contentBytes += head.length;
      this.reader.push(head);
    }
  }

  private refuse(rule: 'file.binary' | 'encoding.utf8', message: string, head: Uint8Array): void {
    this.refused = true;
    this.issues.add(rule, undefined, () => ({ value: displayBytes(head, 0, Math.min(head.length, 16), 16), message }));
  }
}

/** Below this length a range is checked in JS: making a view for the native check costs more. */
const NATIVE_UTF8_FROM = 64;

/**
 * Whether `buf[start, end)` is well-formed UTF-8 (Unicode table 3-7: no overlong forms, no
 * surrogates, nothing past U+10FFFF), as node's `isUtf8` says.
 */
export function isUtf8Range(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start >= NATIVE_UTF8_FROM) return isUtf8(buf.subarray(start, end));
  let pos = start;
  while (pos < end) {
    const c = buf[pos]!;
    if (c < 0x80) {
      pos++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) length = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c === 0xe0) low = 0xa0;
      else if (c === 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c === 0xf0) low = 0x90;
      else if (c === 0xf4) high = 0x8f;
    } else return false;
    if (pos + length > end) return false;
    // Only the second byte has a narrower range; the others are plain continuation bytes.
    const second = buf[pos + 1]!;
    if (second < low || second > high) return false;
    for (let i = 2; i < length; i++) {
      const next = buf[pos + i]!;
      if (next < 0x80 || next > 0xbf) return false;
    }
    pos += length;
  }
  return true;
}
