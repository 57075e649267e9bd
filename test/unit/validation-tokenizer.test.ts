import { describe, expect, it } from 'vitest';
import {
  CsvTokenizer,
  FIELD_ESCAPED,
  FIELD_NON_ASCII,
  FIELD_NUL,
  FIELD_QUOTED,
  FIELD_STRAY_QUOTE,
  type CsvProblem,
  type CsvSink,
  type CsvTokenizerOptions,
} from '#validation/csv-tokenizer';

interface Seen {
  records: { index: number; line: number; fields: string[]; flags: number[] }[];
  skipped: { index: number; line: number }[];
  problems: { kind: CsvProblem; index: number; line: number; field: number }[];
}

/** Tokenizes `text` fed in chunks of `chunkSize` bytes; returns everything the sink was told. */
function tokenize(text: string | Buffer, chunkSize = Number.MAX_SAFE_INTEGER, options: CsvTokenizerOptions = {}): Seen {
  const seen: Seen = { records: [], skipped: [], problems: [] };
  const sink: CsvSink = {
    record(record) {
      const fields: string[] = [];
      const flags: number[] = [];
      for (let i = 0; i < record.count; i++) {
        fields.push(Buffer.from(record.buf.subarray(record.starts[i], record.ends[i])).toString('utf8'));
        flags.push(record.flags[i]!);
      }
      seen.records.push({ index: record.index, line: record.line, fields, flags });
    },
    skippedRecord(index, line) {
      seen.skipped.push({ index, line });
    },
    problem(kind, index, line, field) {
      seen.problems.push({ kind, index, line, field });
    },
  };
  const tokenizer = new CsvTokenizer(sink, options);
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i += chunkSize) tokenizer.push(bytes.subarray(i, i + chunkSize));
  tokenizer.end();
  return seen;
}

const fieldsOf = (seen: Seen) => seen.records.map((r) => r.fields);

describe('CSV tokenizer', () => {
  it('splits fields and records on LF, CRLF and a lone CR', () => {
    const seen = tokenize('a,b\nc,d\r\ne,f\rg,h');

    expect(fieldsOf(seen)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']]);
  });

  it('keeps delimiters, line breaks and doubled quotes inside quoted fields', () => {
    const seen = tokenize('"a,b","c\nd","say ""hi"""\n');

    expect(fieldsOf(seen)).toEqual([['a,b', 'c\nd', 'say ""hi""']]);
    expect(seen.records[0]!.flags.map((f) => f & (FIELD_QUOTED | FIELD_ESCAPED))).toEqual([FIELD_QUOTED, FIELD_QUOTED, FIELD_QUOTED | FIELD_ESCAPED]);
  });

  it('numbers records and their starting lines exactly when values span lines and blank lines are skipped', () => {
    const seen = tokenize('h1,h2\n"x\ny",1\n\nz,2\n');

    expect(seen.records.map((r) => [r.index, r.line])).toEqual([[0, 1], [1, 2], [2, 5]]);
  });

  it('reads empty fields, including a trailing one', () => {
    const seen = tokenize(',a,\n,,\n');

    expect(fieldsOf(seen)).toEqual([['', 'a', ''], ['', '', '']]);
  });

  it('uses the configured delimiter and quote', () => {
    const seen = tokenize("a;'b;c'\n", undefined, { delimiter: 0x3b, quote: 0x27 });

    expect(fieldsOf(seen)).toEqual([['a', 'b;c']]);
  });

  it('flags NUL bytes, non-ASCII bytes and stray quotes on their field', () => {
    const seen = tokenize('a\u0000b,é,5" pipe,"x"y\n');

    const flags = seen.records[0]!.flags;
    expect([flags[0]! & FIELD_NUL, flags[1]! & FIELD_NON_ASCII, flags[2]! & FIELD_STRAY_QUOTE, flags[3]! & FIELD_STRAY_QUOTE]).toEqual([
      FIELD_NUL,
      FIELD_NON_ASCII,
      FIELD_STRAY_QUOTE,
      FIELD_STRAY_QUOTE,
    ]);
  });

  it('reports a quote left open at the end with the line and field where it opened', () => {
    const seen = tokenize('a,b\n1,"open\n2,3\n');

    expect(seen.problems).toEqual([{ kind: 'unbalanced-quote', index: 1, line: 2, field: 1 }]);
    expect(seen.skipped).toEqual([{ index: 1, line: 2 }]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'id,"note"\r\n1,"a ""quoted"" value, with comma"\r\n2,"multi\r\nline"\r\n\r\n3,plain\r4,é\n5,"x"';
    const whole = tokenize(text);

    const pieces = [1, 2, 3, 5, 7, 11].map((size) => tokenize(text, size));

    for (const seen of pieces) expect(seen).toEqual(whole);
  });

  it('agrees with a plain RFC 4180 reading of random well-formed CSV, at random chunk sizes', () => {
    let seed = 3;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pieces = ['a', 'bc', ' ', 'é', ',', '"', '\n', '\r\n', '1.5', ''];
    const mismatches: string[] = [];

    for (let round = 0; round < 300; round++) {
      const rows = Array.from({ length: random(5) + 1 }, () =>
        Array.from({ length: random(4) + 1 }, () => Array.from({ length: random(4) }, () => pieces[random(pieces.length)]).join('')),
      );
      // Quote a field when it needs it (or at random), doubling its quotes: what a CSV writer does.
      const lines = rows.map((row) => row.map((field) => (/[",\r\n]/.test(field) || random(3) === 0 ? `"${field.replaceAll('"', '""')}"` : field)).join(','));
      const text = lines.join(random(2) ? '\r\n' : '\n');
      // A row written as nothing at all is a blank line, which is skipped.
      const expected = rows.filter((_, i) => lines[i] !== '');
      const seen = tokenize(text, random(16) + 1);
      const fields = seen.records.map((r) => r.fields.map((f) => f.replaceAll('""', '"')));
      if (JSON.stringify(fields) !== JSON.stringify(expected)) mismatches.push(JSON.stringify(text));
    }

    expect(mismatches).toEqual([]);
  });

  it('skips a record larger than the limit, reports it once and reads the next one', () => {
    const text = `a,b\n1,${'x'.repeat(50_000)}\n2,ok\n`;

    const seen = tokenize(text, 1024, { maxFieldBytes: 4096, maxRecordBytes: 8192 });

    expect(seen.problems).toEqual([{ kind: 'field-too-large', index: 1, line: 2, field: 1 }]);
    expect(seen.skipped).toEqual([{ index: 1, line: 2 }]);
    expect(fieldsOf(seen)).toEqual([['a', 'b'], ['2', 'ok']]);
  });

  it('holds a 64 MB field in bounded memory', () => {
    const records: number[] = [];
    const tokenizer = new CsvTokenizer({ record: (r) => records.push(r.index), skippedRecord: (i) => records.push(i), problem: () => undefined });
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const before = process.memoryUsage().arrayBuffers;

    tokenizer.push(Buffer.from('a,b\n1,'));
    for (let i = 0; i < 1024; i++) tokenizer.push(chunk);
    const during = process.memoryUsage().arrayBuffers;
    tokenizer.push(Buffer.from('\n2,3\n'));
    tokenizer.end();

    expect(during - before).toBeLessThan(16 * 1024 * 1024);
    expect(records).toEqual([0, 1, 2]);
  });
});
