/**
 * `npx tsx bench/results-table.ts [bench/results.json]`: the last run's results as the README's
 * Markdown table (so the table is one run's figures, not a mix), with the run's time, load and
 * wall time above it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMarkdown, type Result } from './harness.ts';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results.json');
const run = JSON.parse(readFileSync(file, 'utf8')) as { at: string; cpus: number; node: string; quick: boolean; sizeMb?: number; loadAverage?: number[]; loadAverageAtStart?: number[]; totalSeconds?: number; results: Result[] };
const loads = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
const load = run.loadAverage
  ? `, load average (1 / 5 / 15 min) ${run.loadAverageAtStart ? `${loads(run.loadAverageAtStart)} at the start and ` : ''}${loads(run.loadAverage)} at the end`
  : '';
const wall = run.totalSeconds === undefined ? '' : `, ${(run.totalSeconds / 60).toFixed(1)} minutes in all`;
process.stdout.write(`One run of \`npm run bench${run.quick ? ' -- --quick' : ''}\` at ${run.at} (Node ${run.node}, ${run.cpus} cores, large files ${run.sizeMb ?? '?'} MB${wall}${load}):\n\n${formatMarkdown(run.results)}\n`);
