import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { loadConfig } from '#config/load';
import { generateCorpus } from '../corpus/generate.ts';
import { validateStream, type ValidationReport } from '#validation/validate';

interface CorpusCase {
  readonly file: string;
  readonly spec: string;
  readonly override?: Record<string, unknown>;
  readonly generated?: boolean;
  readonly verdict: ValidationReport['verdict'];
  readonly rows?: number;
  readonly compressed?: boolean;
  readonly first?: { readonly rule: string; readonly row?: number; readonly column?: string };
  readonly errorCount?: number;
  readonly truncated?: boolean;
  readonly counts?: Record<string, number>;
}

const root = resolve(import.meta.dirname, '..', '..');
const corpusDir = join(root, 'test', 'corpus');
const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as {
  specs: Record<string, unknown>;
  cases: CorpusCase[];
};
const datasets = loadConfig(join(root, 'symbiont.config.json')).config.datasets;

function specFor(entry: CorpusCase): DatasetSpec {
  const base = datasets[entry.spec] ?? expected.specs[entry.spec];
  if (base === undefined) throw new Error(`${entry.file}: unknown spec ${entry.spec}`);
  return datasetSpecSchema.parse({ ...structuredClone(base), ...entry.override });
}

let generatedDir = '';
const pathOf = (entry: CorpusCase): string => join(entry.generated ? generatedDir : corpusDir, entry.file);

beforeAll(() => {
  generatedDir = mkdtempSync(join(tmpdir(), 'symbiont-corpus-'));
  generateCorpus(generatedDir);
});

afterAll(() => {
  if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
});

describe('validation corpus', () => {
  it('lists every corpus file in expected.json, at least 40 of them', () => {
    const committed = readdirSync(corpusDir).filter((name) => name !== 'expected.json' && name !== 'generate.ts');
    const generated = readdirSync(generatedDir);
    const listed = expected.cases.map((entry) => entry.file);

    expect([...committed, ...generated].sort()).toEqual([...listed].sort());
    expect(listed.length).toBeGreaterThanOrEqual(40);
  });

  for (const entry of expected.cases) {
    const outcome = entry.first ? `${entry.verdict} by ${entry.first.rule}` : entry.verdict;
    it(`judges ${entry.file} ${outcome}`, async () => {
      // Prepare
      const spec = specFor(entry);
      const input = createReadStream(pathOf(entry), { highWaterMark: 64 * 1024 });

      // Act
      const report = await validateStream(input, spec, { fileName: entry.file, dataset: entry.spec });

      // Assess
      expect(report.verdict).toBe(entry.verdict);
      expect(report.valid).toBe(entry.verdict === 'valid');
      if (entry.verdict === 'valid') expect(report.examples).toEqual([]);
      if (entry.rows !== undefined) expect(report.rows).toBe(entry.rows);
      if (entry.compressed !== undefined) expect(report.compressed).toBe(entry.compressed);
      if (entry.first) {
        const first = report.examples[0];
        expect({ rule: first?.rule, row: first?.row, column: first?.column }).toEqual({ row: undefined, column: undefined, ...entry.first });
        expect(first?.message.length).toBeGreaterThan(20);
      }
      if (entry.errorCount !== undefined) expect(report.errorCount).toBe(entry.errorCount);
      if (entry.truncated !== undefined) expect(report.truncated).toBe(entry.truncated);
      if (entry.counts) expect(report.countsByRule).toMatchObject(entry.counts);
      if (entry.verdict === 'rejected') expect(report.rejection?.rule).toBe(entry.first?.rule);
    });
  }

  const small = expected.cases.filter((entry) => !entry.generated);
  for (const entry of small) {
    it(`reads ${entry.file} the same in 3-byte chunks as in one`, async () => {
      // Prepare
      const bytes = readFileSync(pathOf(entry));
      const spec = specFor(entry);
      async function* inChunks(size: number): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      }

      // Act
      const whole = await validateStream(inChunks(bytes.length || 1), spec, { fileName: entry.file });
      const pieces = await validateStream(inChunks(3), spec, { fileName: entry.file });

      // Assess: a rejection stops reading, so only the bytes counted before stopping may differ.
      const comparable = (report: ValidationReport) =>
        report.verdict === 'rejected' ? { ...report, bytes: 0, uncompressedBytes: 0 } : report;
      expect(comparable(pieces)).toEqual(comparable(whole));
    });
  }
});
