/**
 * Writes the corpus files that are binary, large or byte-exact (BOM, CRLF, gzip, bad encodings,
 * a 10 MB cell) into a folder. The corpus test calls it into a temporary folder; run it by hand to
 * look at the files: `tsx test/corpus/generate.ts <folder>`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const HEADER = 'sensor_id,taken_at,temperature,status';

/** The generated files, by name. Deterministic: the same bytes on every run. */
export function corpusFiles(): Record<string, Uint8Array> {
  const validLf = readFileSync(join(here, 'valid-lf.csv'));
  const gzipped = gzipSync(validLf);
  const corrupt = Buffer.from(gzipSync(readings(2000)));
  // Damage the deflate data well inside the stream, after the 10-byte header.
  for (let i = 200; i < 260; i++) corrupt[i] = 0xff;
  const field10MB = 'x'.repeat(10 * 1024 * 1024);
  return {
    'valid-crlf.csv': text(`${HEADER}\r\nS0001,2024-01-31T12:00:00Z,21.5,ok\r\nS0002,2024-01-31T12:00:00Z,22,ok\r\n`),
    'valid-crlf-quoted.csv': text('id,note\r\n1,"two\r\nlines"\r\n2,"a, b"\r\n'),
    'valid-bom.csv': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(`${HEADER}\nS0001,2024-01-31T12:00:00Z,21.5,ok\n`)]),
    'valid.csv.gz': gzipped,
    // Detected by its magic bytes, not by its name.
    'valid-gzip-named-plain.csv': gzipped,
    'valid-many-rows.csv': readings(20_000),
    'truncated.csv.gz': gzipped.subarray(0, Math.floor(gzipped.length * 0.6)),
    'corrupt.csv.gz': corrupt,
    // 16 MB of one byte packs to ~16 kB: a ratio near 1000.
    'bomb.csv.gz': gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x61)),
    'invalid-utf8.csv': Buffer.concat([text('id,note\n1,fine\n2,M'), Buffer.from([0xfc]), text('nchen\n')]),
    'nul-byte.csv': Buffer.concat([text('id,note\n1,fine\n2,be'), Buffer.from([0x00]), text('fore\n')]),
    'binary-png.csv': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, ...Array(64).fill(0)]),
    'binary-xlsx.csv': Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), text('[Content_Types].xml'), Buffer.alloc(64)]),
    'binary-noise.csv': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    'utf16.csv': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\n`, 'utf16le')]),
    'huge-field.csv': text(`id,note\n1,small\n2,${field10MB}\n3,after\n`),
    'unbalanced-quote-huge.csv': text(`id,note\n1,"opens and never closes\n${'3,filler\n'.repeat(600_000)}`),
    'error-heavy.csv': errorHeavy(500),
  };
}

/** Writes the generated files into `dir`; returns their names. */
export function generateCorpus(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = corpusFiles();
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return Object.keys(files);
}

function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

/** A valid readings file of `rows` rows, every key distinct. */
function readings(rows: number): Buffer {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const sensor = `S${String(i % 1000).padStart(4, '0')}`;
    const minute = Math.floor(i / 1000);
    lines.push(`${sensor},2024-01-31T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z,${(i % 100) / 4},ok`);
  }
  return text(`${lines.join('\n')}\n`);
}

/** `rows` rows, each with a bad temperature and a bad status: 2 × rows errors. */
function errorHeavy(rows: number): Buffer {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) lines.push(`S${String(i).padStart(4, '0')},2024-01-31T12:00:00Z,hot,fine`);
  return text(`${lines.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: tsx test/corpus/generate.ts <folder>\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${generateCorpus(dir).join('\n')}\n`);
  }
}
