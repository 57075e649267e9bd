/**
 * `npm run bench [-- [--quick] [name…]]`: runs the named benchmarks (all by default), prints the
 * table and writes bench/results.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, formatTable, type Benchmark, type Result } from './harness.ts';
import { benchmarks } from './benchmarks.ts';

const here = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected: readonly Benchmark[] = names.length ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;
  const dataDir = join(here, 'data');
  mkdirSync(dataDir, { recursive: true });

  const results: Result[] = [];
  for (const benchmark of selected) {
    process.stderr.write(`bench: ${benchmark.name} — ${benchmark.description}\n`);
    const figures = await benchmark.run({ dataDir, quick });
    results.push(...figures.map((f) => evaluate(benchmark.name, f)));
  }

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
        results,
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write(`bench: wrote ${file}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
