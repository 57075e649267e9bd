import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZE_MB, QUICK_SIZE_MB, evaluate, formatMarkdown, median, parseBenchArgs } from '../../bench/harness.ts';
import { csvParseSizeMb } from '../../bench/validation.ts';

describe('bench arguments', () => {
  it('defaults to every benchmark at the default size', () => {
    expect(parseBenchArgs([], {})).toEqual({ quick: false, sizeMb: DEFAULT_SIZE_MB, names: [] });
  });

  it('takes names, --quick and its smaller size', () => {
    expect(parseBenchArgs(['--quick', 'validation', 'sftp'], {})).toEqual({ quick: true, sizeMb: QUICK_SIZE_MB, names: ['validation', 'sftp'] });
  });

  it('takes --size in both spellings, before the environment', () => {
    expect(parseBenchArgs(['--size', '1024', 'validation'], { SYMBIONT_BENCH_MB: '32' })).toEqual({ quick: false, sizeMb: 1024, names: ['validation'] });
    expect(parseBenchArgs(['--size=128', '--quick'], {})).toEqual({ quick: true, sizeMb: 128, names: [] });
  });

  it('falls back to SYMBIONT_BENCH_MB', () => {
    expect(parseBenchArgs([], { SYMBIONT_BENCH_MB: '512' })).toEqual({ quick: false, sizeMb: 512, names: [] });
    expect(parseBenchArgs([], { SYMBIONT_BENCH_MB: '' })).toEqual({ quick: false, sizeMb: DEFAULT_SIZE_MB, names: [] });
  });

  it('names what is wrong with a bad size or option', () => {
    expect(parseBenchArgs(['--size'], {})).toEqual({ error: '--size needs a number of MB, e.g. --size 1024' });
    expect(parseBenchArgs(['--size', '1.5'], {})).toEqual({ error: '--size must be a whole number of MB of at least 1, got "1.5"' });
    expect(parseBenchArgs(['--size=0'], {})).toEqual({ error: '--size must be a whole number of MB of at least 1, got "0"' });
    expect(parseBenchArgs([], { SYMBIONT_BENCH_MB: '1GB' })).toEqual({ error: 'SYMBIONT_BENCH_MB must be a whole number of MB of at least 1, got "1GB"' });
    expect(parseBenchArgs(['--fast'], {})).toEqual({ error: 'unknown option --fast' });
  });

  it('answers --help wherever it stands', () => {
    expect(parseBenchArgs(['--size', 'x', '--help'], {})).toEqual({ help: true });
    expect(parseBenchArgs(['validation', '-h', '--bogus'], {})).toEqual({ help: true });
  });
});

describe('bench figures', () => {
  it('takes the median of odd and even counts and refuses none', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('median of no values');
  });

  it('reads a ratio target against the same-run baseline', () => {
    const figure = { metric: 'm', value: 30, unit: 'ms', better: 'lower', baseline: { label: 'b', value: 10 } } as const;
    expect(evaluate('x', { ...figure, target: { on: 'ratio', op: '<=', value: 2 } })).toMatchObject({ benchmark: 'x', ratio: 3, met: false });
    expect(evaluate('x', { ...figure, target: { on: 'value', op: '<=', value: 50 } })).toMatchObject({ ratio: 3, met: true });
    expect(evaluate('x', { metric: 'm', value: 1, unit: 'ms', better: 'lower', target: { on: 'ratio', op: '<=', value: 2 } })).toMatchObject({ ratio: undefined, met: false });
  });

  it('sizes the csv-parse baseline file at a sixteenth of the large files, within 16–256 MB', () => {
    expect(csvParseSizeMb(1024)).toBe(64);
    expect(csvParseSizeMb(256)).toBe(16);
    expect(csvParseSizeMb(8192)).toBe(256);
    expect(csvParseSizeMb(8)).toBe(16);
  });
});

describe('the README table', () => {
  it('writes one row per figure with the same-run baseline, ratio, target and verdict', () => {
    const results = [
      evaluate('validation', { metric: 'throughput, a|b', value: 62.4, unit: 'MB/s', better: 'higher', baseline: { label: 'DuckDB', value: 31.2 }, target: { on: 'ratio', op: '>=', value: 1.5 }, note: 'one core' }),
      evaluate('sftp', { metric: 'peak RSS', value: 400, unit: 'MB', better: 'lower', target: { on: 'value', op: '<=', value: 300 } }),
      evaluate('functions', { metric: 'bundle size', value: 662.37, unit: 'KiB', better: 'lower' }),
      evaluate('ingest-message', { metric: 'records per second', value: 117788.4, unit: 'rec/s', better: 'higher', baseline: { label: 'JSON.parse', value: 441802 }, target: { on: 'value', op: '>=', value: 20_000 } }),
    ];
    expect(formatMarkdown(results).split('\n')).toEqual([
      '| benchmark | figure | baseline (same run) | target | met |',
      '|---|---|---|---|---|',
      '| `validation` | throughput, a\\|b: **62.4 MB/s** (one core) | DuckDB: 31.2 MB/s → 2.00× | ratio ≥ 1.5× | yes |',
      '| `sftp` | peak RSS: **400 MB** | – | ≤ 300 MB | **no** |',
      '| `functions` | bundle size: **662 KiB** | – | – | – |',
      '| `ingest-message` | records per second: **117,788 rec/s** | JSON.parse: 441,802 rec/s → 0.27× | ≥ 20,000 rec/s | yes |',
    ]);
  });
});
