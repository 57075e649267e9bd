import { InvalidArgumentError, type Command } from 'commander';
import { trendSchema } from '#api/schemas';
import type { CommandModule, Session } from '../context.ts';
import { formatFields, formatTable, type Column } from '../output.ts';

/** `symbiont trend <pipeline> --metric … --dataset …`: a metric over the default branch and over dataset versions. */
export const trendCommand: CommandModule = {
  register(program, context) {
    program
      .command('trend')
      .description('Show a metric over the default branch’s commits and over dataset versions, with baselines, tolerance bands and regressions.')
      .argument('<pipeline>', 'pipeline name, as configured')
      .requiredOption('--metric <name>', 'a metric of the pipeline')
      .requiredOption('--dataset <name>', 'a dataset of the pipeline')
      .option('--repository <name>', 'whose default branch (default: the last stage’s repository)')
      .option('--version <n>', 'the dataset version of the commit view (default: the latest)', wholeNumber)
      .option('--limit <n>', 'heads, newest first (default 50)', wholeNumber)
      .action(async (pipeline: string, options: TrendOptions, command: Command) => show(context.open(command), pipeline, options));
  },
};

interface TrendOptions {
  readonly metric: string;
  readonly dataset: string;
  readonly repository?: string;
  readonly version?: number;
  readonly limit?: number;
}

type Point = { value: number; spread?: number; n: number; base?: number; band?: { low: number; high: number }; verdict?: string; regressed: boolean };

const number = (value: number | undefined) => (value === undefined ? '-' : String(Number(value.toPrecision(5))));
const pointColumns = <T extends Point>(first: Column<T>): Column<T>[] => [
  first,
  { header: 'VALUE', value: (p) => `${number(p.value)}${p.spread !== undefined ? ` ± ${number(p.spread)}` : ''}${p.n > 1 ? ` (n=${p.n})` : ''}` },
  { header: 'BASELINE', value: (p) => number(p.base) },
  { header: 'BAND', value: (p) => (p.band ? `${number(p.band.low)} … ${number(p.band.high)}` : '-') },
  { header: 'VERDICT', value: (p) => (p.regressed ? 'REGRESSED' : (p.verdict ?? '-')) },
];
const parameters = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '(no parameters)';

async function show(session: Session, pipeline: string, options: TrendOptions): Promise<void> {
  const trend = await session.client.get(
    `/pipelines/${encodeURIComponent(pipeline)}/trend`,
    { metric: options.metric, dataset: options.dataset, repository: options.repository, version: options.version, limit: options.limit },
    trendSchema,
  );
  if (session.json) {
    session.printJson(trend);
    return;
  }
  session.print(
    formatFields([
      ['pipeline', trend.pipeline],
      ['metric', `${trend.metric} (${trend.goal === 'min' ? 'lower' : 'higher'} is better; tolerance ±${trend.tolerance.absolute}${trend.tolerance.relative ? ` + ${trend.tolerance.relative * 100}% of the baseline` : ''})`],
      ['commits', `default branch of ${trend.repository}, oldest first, on ${trend.dataset}@${trend.commits.version}`],
    ]),
  );
  if (trend.commits.series.length === 0) session.print('\nNo evaluations of the default branch’s heads on this version yet.\n');
  for (const series of trend.commits.series) {
    session.print(`\n${parameters(series.parameters)}\n`);
    session.print(formatTable(pointColumns<(typeof series.points)[number]>({ header: 'COMMIT', value: (p) => `${p.sha.slice(0, 12)} (#${p.seq})` }), series.points));
  }
  if (trend.versions.sha) {
    session.print(`\nDataset versions at the newest head ${trend.versions.sha.slice(0, 12)}:\n`);
    for (const series of trend.versions.series) {
      session.print(`\n${parameters(series.parameters)}\n`);
      session.print(formatTable(pointColumns<(typeof series.points)[number]>({ header: 'VERSION', value: (p) => `${trend.dataset}@${p.version}` }), series.points));
    }
  }
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}
