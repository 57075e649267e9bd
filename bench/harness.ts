/**
 * The benchmark harness: named benchmarks, each reporting figures beside a baseline measured in
 * the same run (so the ratio means something on any machine) and, where one exists, its target.
 */

export interface Target {
  /** What the target constrains: the figure itself, or its ratio to the baseline. */
  readonly on: 'value' | 'ratio';
  readonly op: '>=' | '<=';
  readonly value: number;
}

export interface Figure {
  /** What was measured, e.g. "PutObject → upload record". */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** Which direction is better; decides how the ratio reads. */
  readonly better: 'higher' | 'lower';
  /** The same quantity for a reference done in the same run. */
  readonly baseline?: { readonly label: string; readonly value: number };
  readonly target?: Target;
  readonly note?: string;
}

export interface BenchmarkContext {
  /** Scratch folder for generated inputs (kept between runs: bench/data). */
  readonly dataDir: string;
  /** Set by `--quick`: smaller inputs, fewer rounds, for smoke runs. */
  readonly quick: boolean;
  /**
   * Size in MB (2^20 bytes) of the large generated files (validation, validation-runtime, sftp):
   * `--size`, else SYMBIONT_BENCH_MB, else {@link DEFAULT_SIZE_MB} (64 with `--quick`).
   */
  readonly sizeMb: number;
}

/** The large files' default size: what lets a full `npm run bench` finish in 10 minutes on 2 cores. */
export const DEFAULT_SIZE_MB = 256;
/** The large files' size with `--quick`. */
export const QUICK_SIZE_MB = 64;

/** What `npm run bench` was asked to do. */
export type BenchArgs = { readonly quick: boolean; readonly sizeMb: number; readonly names: readonly string[] } | { readonly help: true } | { readonly error: string };

/**
 * Reads `npm run bench`'s arguments: `--quick`, `--size <MB>` (or `--size=<MB>`), `--help`, and
 * benchmark names; the size falls back to the environment's SYMBIONT_BENCH_MB.
 */
export function parseBenchArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BenchArgs {
  let quick = false;
  let size: string | undefined;
  let sizeFrom = '--size';
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    else if (arg === '--quick') quick = true;
    else if (arg === '--size') {
      size = argv[++i];
      if (size === undefined) return { error: '--size needs a number of MB, e.g. --size 1024' };
    } else if (arg.startsWith('--size=')) size = arg.slice('--size='.length);
    else if (arg.startsWith('-')) return { error: `unknown option ${arg}` };
    else names.push(arg);
  }
  if (size === undefined && env.SYMBIONT_BENCH_MB !== undefined && env.SYMBIONT_BENCH_MB !== '') {
    size = env.SYMBIONT_BENCH_MB;
    sizeFrom = 'SYMBIONT_BENCH_MB';
  }
  if (size === undefined) return { quick, sizeMb: quick ? QUICK_SIZE_MB : DEFAULT_SIZE_MB, names };
  const sizeMb = Number(size);
  if (!/^\d+$/.test(size.trim()) || !Number.isSafeInteger(sizeMb) || sizeMb < 1) return { error: `${sizeFrom} must be a whole number of MB of at least 1, got "${size}"` };
  return { quick, sizeMb, names };
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(context: BenchmarkContext): Promise<Figure[]>;
}

export interface Result extends Figure {
  readonly benchmark: string;
  /** value / baseline. */
  readonly ratio?: number;
  /** Whether the target is met; undefined when there is none. */
  readonly met?: boolean;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `fn` `rounds` times after `warmup` untimed runs; returns the median milliseconds. */
export async function timeMedian(fn: () => unknown | Promise<unknown>, rounds = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Adds the ratio and the verdict on the target to a figure. */
export function evaluate(benchmark: string, figure: Figure): Result {
  const ratio = figure.baseline && figure.baseline.value !== 0 ? figure.value / figure.baseline.value : undefined;
  let met: boolean | undefined;
  if (figure.target) {
    const actual = figure.target.on === 'ratio' ? ratio : figure.value;
    met = actual === undefined ? false : figure.target.op === '>=' ? actual >= figure.target.value : actual <= figure.target.value;
  }
  return { ...figure, benchmark, ratio, met };
}

const number = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2));

/** A plain-text table of results, one line per figure. */
export function formatTable(results: readonly Result[]): string {
  const rows = [
    ['benchmark', 'metric', 'value', 'baseline', 'ratio', 'target', 'met'],
    ...results.map((r) => [
      r.benchmark,
      r.metric,
      `${number(r.value)} ${r.unit}`,
      r.baseline ? `${number(r.baseline.value)} ${r.unit} (${r.baseline.label})` : '–',
      r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}×`,
      r.target ? `${r.target.on === 'ratio' ? 'ratio' : ''} ${r.target.op} ${r.target.value}${r.target.on === 'ratio' ? '×' : ` ${r.unit}`}`.trim() : '–',
      r.met === undefined ? '–' : r.met ? 'yes' : 'NO',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** {@link number}, with thousands grouped (`117,788`), for people reading the README. */
const grouped = (value: number) => (Math.abs(value) >= 10_000 ? Math.round(value).toLocaleString('en') : number(value));

const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * The results as the README's Markdown table: per figure its value (and note), the baseline from
 * the same run with the ratio, the target and whether it is met.
 */
export function formatMarkdown(results: readonly Result[]): string {
  const rows = results.map((r) => {
    const figure = `${r.metric}: **${grouped(r.value)} ${r.unit}**${r.note ? ` (${r.note})` : ''}`;
    const baseline = r.baseline ? `${r.baseline.label}: ${grouped(r.baseline.value)} ${r.unit}${r.ratio === undefined ? '' : ` → ${r.ratio.toFixed(2)}×`}` : '–';
    const target = r.target ? (r.target.on === 'ratio' ? `ratio ${r.target.op === '>=' ? '≥' : '≤'} ${r.target.value}×` : `${r.target.op === '>=' ? '≥' : '≤'} ${grouped(r.target.value)} ${r.unit}`) : '–';
    const met = r.met === undefined ? '–' : r.met ? 'yes' : '**no**';
    return `| \`${r.benchmark}\` | ${escapeCell(figure)} | ${escapeCell(baseline)} | ${target} | ${met} |`;
  });
  return ['| benchmark | figure | baseline (same run) | target | met |', '|---|---|---|---|---|', ...rows].join('\n');
}
