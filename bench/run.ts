/**
 * `npm run bench [-- [--quick] [--size <MB>] [name…]]`: runs the named benchmarks (all by default),
 * prints the table and writes bench/results.json. `--help` says how.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SIZE_MB, evaluate, formatTable, parseBenchArgs, type Benchmark, type Result } from './harness.ts';
import { benchmarks } from './benchmarks.ts';

const here = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<number> {
  const known = benchmarks.map((b) => b.name);
  const parsed = parseBenchArgs(argv, process.env);
  if ('help' in parsed) {
    process.stdout.write(`${benchUsage(known)}\n`);
    return 0;
  }
  if ('error' in parsed) {
    process.stderr.write(`${parsed.error}\n\n${benchUsage(known)}\n`);
    return 2;
  }
  const { quick, sizeMb, names } = parsed;
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected: readonly Benchmark[] = names.length ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;
  const dataDir = join(here, 'data');
  mkdirSync(dataDir, { recursive: true });

  const results: Result[] = [];
  const seconds: Record<string, number> = {};
  const started = performance.now();
  const loadAtStart = loadavg();
  process.stderr.write(`bench: ${selected.length} benchmark(s), large files ${sizeMb} MB${quick ? ', --quick' : ''}\n`);
  for (const benchmark of selected) {
    process.stderr.write(`bench: ${benchmark.name} — ${benchmark.description}\n`);
    const start = performance.now();
    const figures = await benchmark.run({ dataDir, quick, sizeMb });
    seconds[benchmark.name] = (performance.now() - start) / 1000;
    process.stderr.write(`bench: ${benchmark.name} took ${seconds[benchmark.name]!.toFixed(1)} s\n`);
    results.push(...figures.map((f) => evaluate(benchmark.name, f)));
  }
  const totalSeconds = (performance.now() - started) / 1000;

  process.stdout.write(`${formatTable(results)}\n`);
  const file = join(here, 'results.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryBytes: totalmem(),
        quick,
        sizeMb,
        loadAverageAtStart: loadAtStart,
        loadAverage: loadavg(),
        totalSeconds,
        seconds,
        results,
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write(`bench: wrote ${file}; ${selected.length} benchmark(s) in ${(totalSeconds / 60).toFixed(1)} min, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  return 0;
}

function benchUsage(known: readonly string[]): string {
  return [
    'usage: npm run bench [-- [--quick] [--size <MB>] [name…]]',
    '',
    '  name…        run only these benchmarks (default: all, in this order):',
    `               ${known.join(', ')}`,
    '  --quick      small inputs and few rounds: a smoke run (large files 64 MB unless --size says)',
    `  --size <MB>  size of the large generated files (validation, validation-runtime, sftp);`,
    `               default ${DEFAULT_SIZE_MB} MB (env SYMBIONT_BENCH_MB), --size 1024 for the 1 GB figures`,
    '  --help       this text',
  ].join('\n');
}

process.exitCode = await main(process.argv.slice(2));
