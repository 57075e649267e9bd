import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { loadConfig } from '#config/load';
import { InputReadError } from '#validation/errors';
import { validateStream, type ValidationReport } from '#validation/validate';
import { corpusFiles } from '../corpus/generate.ts';

const root = resolve(import.meta.dirname, '..', '..');
const readings = (): DatasetSpec => datasetSpecSchema.parse(structuredClone(loadConfig(join(root, 'symbiont.config.json')).config.datasets.readings));

async function* inChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** A rejection stops reading: only the bytes counted before stopping may differ. */
const comparable = (report: ValidationReport): unknown => (report.verdict === 'rejected' ? { ...report, bytes: 0, uncompressedBytes: 0 } : report);

describe('gzip inflated on a worker thread', () => {
  const generated = corpusFiles();
  const cases = ['valid.csv.gz', 'valid-gzip-named-plain.csv', 'truncated.csv.gz', 'corrupt.csv.gz', 'bomb.csv.gz'];

  for (const name of cases) {
    it(`judges ${name} exactly as inflating on the main thread does`, async () => {
      const bytes = generated[name]!;

      const here = await validateStream(inChunks(bytes, 4096), readings(), { fileName: name, inflateOffThread: false });
      const there = await validateStream(inChunks(bytes, 4096), readings(), { fileName: name, inflateOffThread: true });

      expect(there.compressed).toBe(true);
      expect(comparable(there)).toEqual(comparable(here));
    });
  }

  it('gives the same report on a large file with errors, read in uneven chunks', async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `S${String(i % 10_000).padStart(4, '0')},2024-01-31T${String(Math.floor(i / 10_000) % 24).padStart(2, '0')}:00:00Z,${i % 997 === 0 ? 'x' : '1.5'},ok`);
    const packed = gzipSync(`sensor_id,taken_at,temperature,status\n${rows.join('\n')}\n`);

    const options = { fileName: 'big.csv.gz', declaredBytes: packed.length };
    const here = await validateStream(inChunks(packed, 77_777), readings(), { ...options, inflateOffThread: false });
    const there = await validateStream(inChunks(packed, 77_777), readings(), { ...options, inflateOffThread: true });

    expect(there.errorCount).toBeGreaterThan(100);
    expect(there).toEqual(here);
  });

  it('throws InputReadError when the input fails mid-stream', async () => {
    const packed = gzipSync(readFileSync(join(root, 'test', 'corpus', 'valid-lf.csv')));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield packed.subarray(0, 20);
      throw new Error('connection reset');
    }

    const act = validateStream(failing(), readings(), { fileName: 'a.gz', inflateOffThread: true });

    await expect(act).rejects.toBeInstanceOf(InputReadError);
  });
});
