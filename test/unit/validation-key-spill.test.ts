import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { loadConfig } from '#config/load';
import { KeyBuilder } from '#validation/key-index';
import { UniqueKeys, type UniqueKeysOptions } from '#validation/key-spill';
import { validateStream, type ValidationReport } from '#validation/validate';
import { generateCorpus } from '../corpus/generate.ts';

const root = resolve(import.meta.dirname, '..', '..');
const datasets = loadConfig(join(root, 'symbiont.config.json')).config.datasets;
const readings = (): DatasetSpec => datasetSpecSchema.parse(structuredClone(datasets.readings));

function keyOf(...parts: string[]): { bytes: Uint8Array; length: number } {
  const builder = new KeyBuilder();
  for (const part of parts) {
    const bytes = Buffer.from(part);
    builder.addBytes(bytes, 0, bytes.length);
  }
  return { bytes: builder.bytes.slice(0, builder.length), length: builder.length };
}

/** Adds `keys` (row i + 1 each) and returns every duplicate as [row, firstRow], immediate or deferred. */
function duplicatesOf(keys: readonly string[], options: UniqueKeysOptions): [number, number][] {
  const index = new UniqueKeys({ keepFirst: keys.length, ...options });
  try {
    const found: [number, number][] = [];
    keys.forEach((value, i) => {
      const key = keyOf(value);
      const first = index.add(key.bytes, key.length, i + 1, i + 2);
      if (first !== 0) found.push([i + 1, first]);
    });
    for (const duplicate of index.finish().first) found.push([duplicate.row, duplicate.firstRow]);
    return found.sort((a, b) => a[0] - b[0]);
  } finally {
    index.close();
  }
}

let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'symbiont-spill-test-'));
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('unique keys past the in-memory limit', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `k${(i * 7919) % 15_000}`);

  it('finds the same duplicates, with the same first rows, on disk as in memory', () => {
    const inMemory = duplicatesOf(keys, {});

    const spilled = duplicatesOf(keys, { memoryKeys: 1000, spillDirectory: scratch });

    expect(inMemory.length).toBe(5000);
    expect(spilled).toEqual(inMemory);
  });

  it('finds them all when partitions are split again and again', () => {
    const some = Array.from({ length: 3000 }, (_, i) => `k${(i * 7919) % 2000}`);
    const inMemory = duplicatesOf(some, {});

    const split = duplicatesOf(some, { memoryKeys: 0, partitionEntries: 8, spillDirectory: scratch });

    expect(inMemory.length).toBeGreaterThan(0);
    expect(split).toEqual(inMemory);
  });

  it('confirms hash matches by the bytes on disk too: keys that all collide are not duplicates', () => {
    const distinct = Array.from({ length: 400 }, (_, i) => `S${i}`);

    const found = duplicatesOf([...distinct, 'S7'], { memoryKeys: 10, partitionEntries: 50, spillDirectory: scratch, hashOverride: () => 42 });

    expect(found).toEqual([[401, 8]]);
  });

  it('counts every duplicate but keeps only the first ones, by row', () => {
    const index = new UniqueKeys({ memoryKeys: 0, keepFirst: 3, spillDirectory: scratch });
    const key = keyOf('same');

    for (let row = 1; row <= 50; row++) index.add(key.bytes, key.length, row, row + 1);
    const result = index.finish();
    index.close();

    expect(result.count).toBe(49);
    expect(result.first.map((d) => [d.row, d.line, d.firstRow])).toEqual([[2, 3, 1], [3, 4, 1], [4, 5, 1]]);
  });

  it('removes its partition files when closed', () => {
    const dir = mkdtempSync(join(scratch, 'close-'));
    const index = new UniqueKeys({ memoryKeys: 0, spillDirectory: dir });
    const key = keyOf('a');
    index.add(key.bytes, key.length, 1, 2);

    const before = readdirSync(dir).length;
    index.close();

    expect([before, readdirSync(dir).length]).toEqual([1, 0]);
  });
});

describe('validateStream with the key check on disk', () => {
  const csv = (rows: string[]): string => `sensor_id,taken_at,temperature,status\n${rows.join('\n')}\n`;
  async function* chunks(text: string): AsyncGenerator<Uint8Array> {
    yield Buffer.from(text);
  }

  it('gives the same report, issues in the same order, whether duplicates are found at once or at the end', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 300; i++) {
      const sensor = `S${String(i % 40).padStart(4, '0')}`;
      const temperature = i % 7 === 0 ? '99' : '1.5';
      const status = i % 11 === 0 ? 'fine' : 'ok';
      rows.push(`${sensor},2024-01-31T${String(Math.floor(i / 100)).padStart(2, '0')}:00:00Z,${temperature},${status}`);
    }
    const text = csv(rows);

    const reports = await Promise.all(
      [{}, { keysInMemory: 5, spillDirectory: scratch }].map((extra) => validateStream(chunks(text), readings(), { fileName: 'a.csv', maxExamples: 30, ...extra })),
    );

    expect(reports[0]!.countsByRule.unique).toBeGreaterThan(100);
    expect(JSON.stringify(reports[1])).toBe(JSON.stringify(reports[0]));
  });

  it('shows a duplicate found at the end by its value', async () => {
    const text = csv(['S0001,2024-01-31T12:00:00.5Z,1,ok', 'S0002,2024-01-31T12:00:00Z,1,ok', 'S0001,2024-01-31T13:00:00.5+01:00,1,ok']);

    const report = await validateStream(chunks(text), readings(), { fileName: 'a.csv', keysInMemory: 0, spillDirectory: scratch });

    expect(report.examples).toEqual([
      expect.objectContaining({ rule: 'unique', row: 3, line: 4, value: 'sensor_id "S0001", taken_at "2024-01-31T12:00:00.5Z"', message: expect.stringContaining('already appears in row 1') }),
    ]);
  });
});

describe('the corpus with the key check on disk', () => {
  const corpusDir = join(root, 'test', 'corpus');
  const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as {
    specs: Record<string, unknown>;
    cases: { file: string; spec: string; override?: Record<string, unknown>; generated?: boolean }[];
  };
  let generatedDir = '';
  beforeAll(() => {
    generatedDir = mkdtempSync(join(tmpdir(), 'symbiont-corpus-spill-'));
    generateCorpus(generatedDir);
  });
  afterAll(() => {
    if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
  });

  /** Duplicates found at the end show the key by value, so only their shown value may differ. */
  const comparable = (report: ValidationReport): unknown => ({
    ...report,
    examples: report.examples.map((issue) => (issue.rule === 'unique' ? { ...issue, value: undefined, message: issue.message.replace(/\(.*\)/, '(…)') } : issue)),
  });

  it('judges every corpus file exactly as the in-memory check does', async () => {
    const differences: string[] = [];

    for (const entry of expected.cases) {
      const base = (datasets[entry.spec] ?? expected.specs[entry.spec]) as object;
      const spec = datasetSpecSchema.parse({ ...structuredClone(base), ...entry.override });
      const bytes = readFileSync(join(entry.generated ? generatedDir : corpusDir, entry.file));
      const run = (extra: object) => validateStream((async function* () { yield bytes; })(), spec, { fileName: entry.file, dataset: entry.spec, ...extra });
      const [inMemory, onDisk] = [await run({}), await run({ keysInMemory: 0, spillDirectory: scratch })];
      if (JSON.stringify(comparable(onDisk)) !== JSON.stringify(comparable(inMemory))) differences.push(entry.file);
    }

    expect(differences).toEqual([]);
  });
});
