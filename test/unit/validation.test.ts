import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { InputReadError, UnusableSpecError } from '#validation/errors';
import { formatReportText } from '#validation/report';
import { canonicalJson, specRevision } from '#validation/spec';
import { validateStream } from '#validation/validate';

const root = resolve(import.meta.dirname, '..', '..');
const config = JSON.parse(readFileSync(join(root, 'symbiont.config.json'), 'utf8')) as { datasets: Record<string, unknown> };
const HEADER = 'sensor_id,taken_at,temperature,status';

/** The example `readings` spec with one change, defaults applied. */
function readings(change: Partial<DatasetSpec> = {}): DatasetSpec {
  return datasetSpecSchema.parse({ ...structuredClone(config.datasets.readings as object), ...change });
}

const sites = (): DatasetSpec => datasetSpecSchema.parse(structuredClone(config.datasets.sites));

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

const csv = (...rows: string[]): string => `${[HEADER, ...rows].join('\n')}\n`;

describe('spec revision', () => {
  it('stays the same when keys are reordered or defaults are written out', () => {
    const spec = config.datasets.readings as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as DatasetSpec;
    const withDefaults = { ...spec, delimiter: ',', quote: '"', unknownColumns: 'reject' } as DatasetSpec;

    const revisions = [specRevision(spec as DatasetSpec), specRevision(reordered), specRevision(withDefaults)];

    expect(new Set(revisions).size).toBe(1);
    expect(revisions[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a bound changes', () => {
    const before = specRevision(readings());

    const after = specRevision(readings({ maxRows: 10 }));

    expect(after).not.toBe(before);
  });

  it('writes canonical JSON with sorted keys and without undefined members', () => {
    const json = canonicalJson({ b: [2, { d: 1, c: undefined }], a: 'x' });

    expect(json).toBe('{"a":"x","b":[2,{"d":1}]}');
  });

  it('refuses a delimiter that is not one ASCII character, since the tokenizer reads bytes', () => {
    const act = () => specRevision(readings({ delimiter: '§' }));

    expect(act).toThrow(UnusableSpecError);
  });

  it('refuses a spec the config schema refuses', () => {
    const act = () => specRevision({ format: 'csv', columns: [] } as unknown as DatasetSpec);

    expect(act).toThrow(UnusableSpecError);
  });
});

describe('validateStream', () => {
  it('accepts a valid file and reports rows, sizes, the spec revision and the sha256 of the bytes', async () => {
    const text = csv('S0001,2024-01-31T12:00:00Z,21.5,ok', 'S0002,2024-01-31T12:00:00Z,,failed');

    const report = await validateStream(chunks(text), readings(), { fileName: 'a.csv' });

    expect(report).toMatchObject({ valid: true, verdict: 'valid', rows: 2, bytes: text.length, uncompressedBytes: text.length, compressed: false, errorCount: 0 });
    expect(report.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(report.specRevision).toBe(specRevision(readings()));
  });

  it('hashes gzip input as received, not as unpacked', async () => {
    const packed = gzipSync(csv('S0001,2024-01-31T12:00:00Z,21.5,ok'));

    const report = await validateStream(chunks(packed), readings(), { fileName: 'a.csv.gz' });

    expect(report.compressed).toBe(true);
    expect(report.sha256).toBe(createHash('sha256').update(packed).digest('hex'));
  });

  it('reads a gzip magic number split across chunks', async () => {
    const packed = gzipSync(csv('S0001,2024-01-31T12:00:00Z,21.5,ok'));

    const report = await validateStream(chunks(packed.subarray(0, 1), packed.subarray(1)), readings(), { fileName: 'a' });

    expect(report).toMatchObject({ compressed: true, verdict: 'valid', rows: 1 });
  });

  it('keeps counting every problem past the examples limit', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(4, '0')},2024-01-31T12:00:00Z,99,ok`);

    const report = await validateStream(chunks(csv(...rows)), readings(), { fileName: 'a.csv', maxExamples: 5 });

    expect(report.errorCount).toBe(40);
    expect(report.countsByRule).toEqual({ 'range.max': 40 });
    expect(report.countsByColumn).toEqual({ temperature: 40 });
    expect(report.examples.map((issue) => issue.row)).toEqual([1, 2, 3, 4, 5]);
    expect(report.truncated).toBe(true);
  });

  it('reports a calendar-invalid date with its row and column', async () => {
    const text = csv('S0001,2024-01-31T12:00:00Z,21.5,ok', 'S0002,2024-02-30T12:00:00Z,21.5,ok');

    const report = await validateStream(chunks(text), readings(), { fileName: 'a.csv' });

    expect(report.examples).toEqual([
      expect.objectContaining({ rule: 'date.calendar', row: 2, line: 3, column: 'taken_at', value: '2024-02-30T12:00:00Z', message: expect.stringContaining('February 2024 has 29 days') }),
    ]);
  });

  it('shortens long values and escapes control characters in them', async () => {
    const spec = datasetSpecSchema.parse({ format: 'csv', columns: [{ name: 'n', type: 'integer' }] });

    const report = await validateStream(chunks(`n\n"${'9'.repeat(100)}\tx\r"\n`), spec, { fileName: 'a.csv' });

    const value = report.examples[0]?.value ?? '';
    expect(value.startsWith('9'.repeat(60))).toBe(true);
    expect(value).toContain('… (');
    const escaped = await validateStream(chunks('n\n"1\tx\r"\n'), spec, { fileName: 'a.csv' });
    expect(escaped.examples[0]?.value).toBe('1\\tx\\r');
  });

  it('says the message in words with what to do', async () => {
    const report = await validateStream(chunks(csv('S0001,2024-01-31T12:00:00Z,abc,ok')), readings(), { fileName: 'a.csv' });

    expect(report.examples[0]?.message).toBe(
      'Row 1, column "temperature": "abc" is not a number. Write a decimal number such as 21.5, or leave the cell empty if the value is unknown.',
    );
  });

  it('profiles each column: nulls, min, max and distinct values', async () => {
    const text = csv('S0001,2024-01-31T12:00:00Z,21.5,ok', 'S0002,2024-01-30T12:00:00Z,,ok', 'S0001,2024-02-01T00:00:00+01:00,-3,failed');

    const report = await validateStream(chunks(text), readings(), { fileName: 'a.csv' });

    expect(report.profile.temperature).toEqual({ nulls: 1, values: 2, min: -3, max: 21.5, distinctEstimate: 2 });
    expect(report.profile.taken_at).toMatchObject({ min: '2024-01-30T12:00:00Z', max: '2024-02-01T00:00:00+01:00', distinctEstimate: 3 });
    expect(report.profile.sensor_id).toMatchObject({ nulls: 0, values: 3, distinctEstimate: 2 });
  });

  it('refuses a file whose announced size is over maxBytes without reading it', async () => {
    let read = false;
    async function* input(): AsyncGenerator<Uint8Array> {
      read = true;
      yield Buffer.from(csv());
    }

    const report = await validateStream(input(), readings({ maxBytes: 1000 }), { fileName: 'a.csv', declaredBytes: 5000 });

    expect(report).toMatchObject({ verdict: 'rejected', valid: false, rejection: { rule: 'size.max' } });
    expect(read).toBe(false);
    expect(report.sha256).toBeUndefined();
  });

  it('stops unpacking a gzip bomb early', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x30));

    const report = await validateStream(chunks(bomb), readings(), { fileName: 'bomb.gz' });

    expect(report.rejection?.rule).toBe('gzip.ratio');
    expect(report.uncompressedBytes).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a gzip file that unpacks beyond maxBytes', async () => {
    const packed = gzipSync(csv(...Array.from({ length: 100 }, (_, i) => `S${String(i).padStart(4, '0')},2024-01-31T12:00:00Z,1,ok`)));

    const report = await validateStream(chunks(packed), readings({ maxBytes: 2000, maxGzipRatio: 1000 }), { fileName: 'a.gz' });

    expect(report.rejection?.rule).toBe('size.max');
  });

  it('throws InputReadError when the input fails, since that is not the file\'s fault', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(HEADER);
      throw new Error('socket hang up');
    }

    const act = validateStream(failing(), readings(), { fileName: 'a.csv' });

    await expect(act).rejects.toBeInstanceOf(InputReadError);
  });

  it('throws InputReadError when gzip input fails mid-stream', async () => {
    const packed = gzipSync(Buffer.from(csv(...Array.from({ length: 5000 }, (_, i) => `S${String(i % 10000).padStart(4, '0')},2024-01-31T12:00:00Z,1,ok`))));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield packed.subarray(0, 100);
      throw new Error('connection reset');
    }

    const act = validateStream(failing(), readings(), { fileName: 'a.gz' });

    await expect(act).rejects.toBeInstanceOf(InputReadError);
  });

  it('takes a numeric JSON value that is whole for an integer column, and refuses a numeric string', async () => {
    const spec = datasetSpecSchema.parse({ format: 'jsonl', columns: [{ name: 'n', type: 'integer' }] });

    const report = await validateStream(chunks('{"n":1.0}\n{"n":"2"}\n{"n":2.5}\n'), spec, { fileName: 'a.jsonl' });

    expect(report.examples.map((issue) => [issue.rule, issue.row])).toEqual([['type.integer', 2], ['type.integer', 3]]);
  });

  it('reads a JSON value of the wrong type as a type error, not a crash', async () => {
    const report = await validateStream(
      chunks('{"sensor_id":["S0001"],"site":{"a":1},"installed_on":20240131,"indoor":null}\n'),
      sites(),
      { fileName: 'a.jsonl' },
    );

    expect(report.examples.map((issue) => issue.rule)).toEqual(['type.string', 'type.string', 'type.date', 'required']);
  });

  it('reports a missing key column once, not every row as a duplicate', async () => {
    const text = 'taken_at,temperature,status\n2024-01-31T12:00:00Z,1,ok\n2024-01-31T12:00:00Z,2,ok\n';

    const report = await validateStream(chunks(text), readings(), { fileName: 'a.csv' });

    expect(report.countsByRule).toEqual({ 'header.missing-column': 1 });
  });

  it('finds duplicates of a key written differently: 7 and 07 for an integer key', async () => {
    const spec = datasetSpecSchema.parse({ format: 'csv', columns: [{ name: 'id', type: 'integer' }], unique: ['id'] });

    const report = await validateStream(chunks('id\n7\n07\n'), spec, { fileName: 'a.csv' });

    expect(report.examples).toEqual([expect.objectContaining({ rule: 'unique', row: 2, message: expect.stringContaining('row 1') })]);
  });

  it('gives every kind of random bytes a verdict without crashing', async () => {
    let seed = 7;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const alphabet = Buffer.from('ab,"\n\r;\u0000\u00ff1-.:TZ ');
    const verdicts = new Set<string>();

    for (let round = 0; round < 200; round++) {
      const bytes = Buffer.from(Array.from({ length: random() % 300 }, () => alphabet[random() % alphabet.length]!));
      const spec = round % 2 ? readings() : sites();
      const report = await validateStream(chunks(bytes), spec, { fileName: `r${round}` });
      verdicts.add(report.verdict);
    }

    expect(verdicts).toEqual(new Set(['invalid']));
  });
});

describe('text report', () => {
  it('summarises an invalid file with counts by rule and column, the examples and what to do next', async () => {
    const report = await validateStream(chunks(csv('S0001,2024-01-31T12:00:00Z,abc,ok', 's2,2024-01-31T12:00:00Z,1,ok')), readings(), { fileName: 'a.csv' });

    const text = formatReportText(report);

    expect(text.split('\n')[0]).toBe('a.csv: INVALID — 2 problems found in 2 rows.');
    expect(text).toContain('1  not a number (type.number)');
    expect(text).toContain('1  temperature');
    expect(text).toContain('Row 2, column "sensor_id": "s2" does not have the form');
    expect(text).toContain('What to do next:');
  });

  it('says a valid file is accepted', async () => {
    const report = await validateStream(chunks(csv('S0001,2024-01-31T12:00:00Z,1,ok')), readings(), { fileName: 'a.csv' });

    const text = formatReportText(report);

    expect(text.split('\n')[0]).toBe('a.csv: valid — 1 row checked, no problems found.');
  });

  it('gives the reason of a rejection', async () => {
    const report = await validateStream(chunks(csv()), readings({ maxBytes: 10 }), { fileName: 'a.csv', declaredBytes: 11 });

    const text = formatReportText(report);

    expect(text).toContain('a.csv: REJECTED');
    expect(text).toContain('larger than the 10 bytes');
  });
});
