import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  cancelledRequestSchema,
  comparisonSchema,
  evaluationArtifactsSchema,
  evaluationPageSchema,
  evaluationRequestSchema,
  evaluationSchema,
  MAX_PAGE_SIZE,
  requestedEvaluationSchema,
  type Evaluation,
  type EvaluationArtifacts,
  type EvaluationRequest,
} from '#api/schemas';
import { fetchPages } from '../client.ts';
import type { CommandModule, Session } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { formatBytes, formatFields, formatTable, formatTime, type Column } from '../output.ts';

/** `symbiont evaluations …`: request evaluations, follow them, read and compare their scores. */
export const evaluationsCommands: CommandModule = {
  register(program, context) {
    const evaluations = program.command('evaluations').description('Evaluations of pipelines at commits on dataset versions: scores, baselines, regressions.');

    evaluations
      .command('run')
      .description('Request an evaluation: by default the default-branch heads on the latest dataset versions over the pipeline’s grid.')
      .argument('<pipeline>', 'pipeline name, as configured')
      .option('--commit <repo@sha>', 'evaluate this commit of a repository (the others at their heads); repeat for several repositories', collect, [])
      .option('--commit-set <repo@sha,…>', 'one more commit set to evaluate; repeat for several', collect, [])
      .option('--dataset <name[@version]>', 'evaluate on this dataset version (default: the latest); repeat for several', collect, [])
      .option('--param <name=v1,v2>', 'values replacing the grid’s for one parameter; repeat for several', collect, [])
      .option('--repeats <n>', 'runs per point (noisy metrics)', wholeNumber)
      .addOption(new Option('--reason <reason>', 'why (recorded on the request)').choices(['manual', 'commit', 'data', 'backfill', 'sweep']))
      .option('--rerun', 'run again what was asked before (admins); without it, asking again shows the earlier request')
      .option('--wait', 'wait until it is done, then list its evaluations')
      .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber, 1800)
      .action(async (pipeline: string, options: RunOptions, command: Command) => run(context.open(command), pipeline, options));

    evaluations
      .command('backfill')
      .description('Evaluate a range of default-branch commits (the last n, or from..to in the order the head moved) × dataset versions.')
      .argument('<pipeline>', 'pipeline name, as configured')
      .requiredOption('--repository <name>', 'whose default branch')
      .option('--last <n>', 'the last n default-branch commits', wholeNumber)
      .option('--from <sha>', 'the oldest commit of the range (it was the head once)')
      .option('--to <sha>', 'the newest (default: the head)')
      .option('--dataset <name[@version|@from..to]>', 'dataset versions (default: the latest); e.g. readings@3..9; repeat for several', collect, [])
      .option('--param <name=v1,v2|name=from..to[:step]>', 'values replacing the grid’s for one parameter; repeat for several', collect, [])
      .option('--repeats <n>', 'runs per point (noisy metrics)', wholeNumber)
      .option('--wait', 'wait until it is done, then list its evaluations')
      .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber, 3600)
      .action(async (pipeline: string, options: BackfillOptions, command: Command) => {
        if ((options.last === undefined) === (options.from === undefined)) throw new UsageError('give --last <n>, or --from <sha> (and optionally --to <sha>).');
        const commits = { repository: options.repository, ...(options.last !== undefined ? { last: options.last } : { from: options.from, ...(options.to ? { to: options.to } : {}) }) };
        await submit(context.open(command), { pipeline, commits, ...common(options), reason: 'backfill' }, options);
      });

    evaluations
      .command('sweep')
      .description('Evaluate a parameter grid: one evaluation per point; the request names the best points per metric.')
      .argument('<pipeline>', 'pipeline name, as configured')
      .option('--param <name=v1,v2|name=from..to[:step]>', 'the values of one parameter; repeat for each swept parameter', collect, [])
      .option('--commit <repo@sha>', 'at this commit of a repository (the others at their heads)', collect, [])
      .option('--dataset <name[@version|@from..to]>', 'dataset versions (default: the latest); repeat for several', collect, [])
      .option('--repeats <n>', 'runs per point (noisy metrics)', wholeNumber)
      .option('--wait', 'wait until it is done, then show the best points')
      .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber, 3600)
      .action(async (pipeline: string, options: SweepOptions, command: Command) => {
        if (options.param.length === 0) throw new UsageError('give at least one --param name=v1,v2 or name=from..to[:step] to sweep.');
        await submit(context.open(command), { pipeline, ...(options.commit.length ? { commitSets: [commitSet(options.commit)] } : {}), ...common(options), reason: 'sweep' }, options);
      });

    evaluations
      .command('cancel')
      .description('Cancel a queued or running request: its executions stop, what had not run is counted cancelled.')
      .argument('<id>', 'request id')
      .action(async (id: string, _options: unknown, command: Command) => cancel(context.open(command), id));

    evaluations
      .command('rerun')
      .description('Run one evaluation again as a request of its own (admins); the earlier attempt stays.')
      .argument('<id>', 'evaluation id')
      .option('--wait', 'wait until it is done, then list its evaluations')
      .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber, 1800)
      .action(async (id: string, options: { wait?: boolean; timeout: number }, command: Command) => {
        const session = context.open(command);
        const { request, created } = await session.client.post('/evaluations/reruns', { evaluationId: id }, requestedEvaluationSchema);
        await follow(session, request, created, options);
      });

    evaluations
      .command('request')
      .description('Show an evaluation request and its progress.')
      .argument('<id>', 'request id')
      .action(async (id: string, _options: unknown, command: Command) => showRequest(context.open(command), id));

    evaluations
      .command('list')
      .description('List evaluations, newest first.')
      .option('--pipeline <name>', 'only this pipeline’s')
      .option('--dataset <name>', 'only on this dataset')
      .addOption(new Option('--status <status>', 'only in this status').choices(['running', 'succeeded', 'failed', 'cancelled']))
      .option('--commit <repo@sha>', 'only those whose commit set holds this commit (full sha)')
      .option('--request <id>', 'only this request’s')
      .option('--limit <n>', `evaluations per page, 1 to ${MAX_PAGE_SIZE}`, wholeNumber)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursors and list every page')
      .action(async (options: ListOptions, command: Command) => list(context.open(command), options));

    evaluations
      .command('show')
      .description('Show one evaluation: scores against its baseline, timings, and why it failed.')
      .argument('<id>', 'evaluation id')
      .option('--artifacts', 'also list the files each stage wrote, with download URLs valid for 15 minutes')
      .action(async (id: string, options: { artifacts?: boolean }, command: Command) => show(context.open(command), id, options));

    evaluations
      .command('compare')
      .description('Compare two evaluations metric by metric (base, then head); with one, compare it with its own baseline.')
      .argument('<base-or-head>', 'the base evaluation id, or the head alone')
      .argument('[head]', 'the head evaluation id')
      .action(async (first: string, second: string | undefined, _options: unknown, command: Command) =>
        compare(context.open(command), second === undefined ? { head: first } : { base: first, head: second }),
      );
  },
};

interface RunOptions {
  readonly commit: string[];
  readonly commitSet: string[];
  readonly dataset: string[];
  readonly param: string[];
  readonly repeats?: number;
  readonly reason?: string;
  readonly rerun?: boolean;
  readonly wait?: boolean;
  readonly timeout: number;
}

interface CommonOptions {
  readonly dataset: string[];
  readonly param: string[];
  readonly repeats?: number;
  readonly wait?: boolean;
  readonly timeout: number;
}

interface BackfillOptions extends CommonOptions {
  readonly repository: string;
  readonly last?: number;
  readonly from?: string;
  readonly to?: string;
}

interface SweepOptions extends CommonOptions {
  readonly commit: string[];
}

/** The body parts every kind of request shares. */
function common(options: CommonOptions): Record<string, unknown> {
  return {
    ...(options.dataset.length ? { datasetVersions: options.dataset.map(datasetVersion) } : {}),
    ...(options.param.length ? { parameters: Object.fromEntries(options.param.map(parameter)) } : {}),
    ...(options.repeats !== undefined ? { repeats: options.repeats } : {}),
  };
}

async function submit(session: Session, body: Record<string, unknown>, options: { wait?: boolean; timeout: number }): Promise<void> {
  const { request, created } = await session.client.post('/evaluations', body, requestedEvaluationSchema);
  await follow(session, request, created, options);
}

async function cancel(session: Session, id: string): Promise<void> {
  const { request, cancelled } = await session.client.post(`/evaluations/requests/${encodeURIComponent(id)}/cancel`, {}, cancelledRequestSchema);
  if (session.json) {
    session.printJson({ request, cancelled });
    return;
  }
  session.print(`${cancelled ? 'Cancelled' : `Not cancelled: it had ended (${request.status})`}. ${progress(request)}\n`);
}

interface ListOptions {
  readonly pipeline?: string;
  readonly dataset?: string;
  readonly status?: string;
  readonly commit?: string;
  readonly request?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

/** A run that finished with failed evaluations or regressions still exits 0; scripts read --json. */
async function run(session: Session, pipeline: string, options: RunOptions): Promise<void> {
  const body = {
    pipeline,
    ...(options.commit.length || options.commitSet.length
      ? { commitSets: [...(options.commit.length ? [commitSet(options.commit)] : []), ...options.commitSet.map((set) => commitSet(set.split(',')))] }
      : {}),
    ...(options.dataset.length ? { datasetVersions: options.dataset.map(datasetVersion) } : {}),
    ...(options.param.length ? { parameters: Object.fromEntries(options.param.map(parameter)) } : {}),
    ...(options.repeats !== undefined ? { repeats: options.repeats } : {}),
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.rerun ? { rerun: true } : {}),
  };
  const { request, created } = await session.client.post('/evaluations', body, requestedEvaluationSchema);
  await follow(session, request, created, options);
}

/** Prints the request, or waits for it and lists its evaluations (and its best points, for a sweep). */
async function follow(session: Session, request: EvaluationRequest, created: boolean, options: { wait?: boolean; timeout: number }): Promise<void> {
  if (!options.wait) {
    if (session.json) session.printJson({ request, created });
    else {
      session.print(describeRequest(request, created));
      session.note(`Follow it: symbiont evaluations request ${request.requestId}   (or add --wait)`);
    }
    return;
  }
  if (!session.json) session.print(describeRequest(request, created));
  const done = await waitFor(session, request, options.timeout);
  const evaluations = (await fetchPages(session.client, '/evaluations', { request: done.requestId, limit: MAX_PAGE_SIZE }, evaluationPageSchema, { all: true })).items;
  if (session.json) {
    session.printJson({ request: done, evaluations });
    return;
  }
  session.print(`\n${formatTable(evaluationColumns, sortForPeople(evaluations))}`);
  if (done.reason === 'sweep' && done.summary) session.print(`\n${formatBest(done.summary)}`);
  if (done.report) {
    session.note(
      done.report.template
        ? `A diagnostic report (template ${done.report.template}) is rendering for ${done.report.evaluationIds.length} regression(s): symbiont evaluations show <evaluationId> links to it.`
        : `${done.report.evaluationIds.length} regression(s); the pipeline names no onRegression template to diagnose them with.`,
    );
  }
  const regressed = evaluations.find((e) => e.regressed);
  if (regressed) session.note(`See the regression: symbiont evaluations compare ${regressed.evaluationId}`);
}

/** Polls the request until it is finished or failed, noting progress on stderr. */
async function waitFor(session: Session, request: EvaluationRequest, timeoutSeconds: number): Promise<EvaluationRequest> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let current = request;
  let last = '';
  while (current.status === 'queued' || current.status === 'running') {
    if (Date.now() > deadline) throw new CliError(`request ${request.requestId} is still ${current.status} after ${timeoutSeconds} s; follow it with: symbiont evaluations request ${request.requestId}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    current = await session.client.get(`/evaluations/requests/${request.requestId}`, {}, evaluationRequestSchema);
    const line = progress(current);
    if (line !== last && !session.json) session.note(line);
    last = line;
  }
  return current;
}

function describeRequest(request: EvaluationRequest, created: boolean): string {
  const parts = request.executions.length;
  return formatFields([
    ['request', `${request.requestId}${created ? '' : '   (asked before: this is that request; --rerun runs it again)'}`],
    ['pipeline', request.pipeline],
    ['commit sets', request.commitSets.map(shortSet).join('; ')],
    ['datasets', request.datasetVersions.map((d) => `${d.dataset}@${d.version}`).join(', ')],
    ['points', `${request.total}${parts > 1 ? ` in ${parts} parts` : ''}`],
    ['baseline', request.baselineCommitSet ? `${shortSet(request.baselineCommitSet)} (the default-branch heads)` : 'none: a repository has no head yet'],
    ['execution', request.executions.join(', ')],
    ['status', request.status],
  ]);
}

/** The best points per metric, as a table. */
function formatBest(summary: NonNullable<EvaluationRequest['summary']>): string {
  const rows = Object.entries(summary).flatMap(([metric, { goal, best }]) => best.map((b, i) => ({ metric, goal, rank: i + 1, ...b })));
  return formatTable(
    [
      { header: 'METRIC', value: (r) => `${r.metric} (${r.goal === 'min' ? 'lower' : 'higher'} is better)` },
      { header: '#', value: (r) => String(r.rank) },
      { header: 'SCORE', value: (r) => `${formatNumber(r.mean)}${r.spread !== undefined ? ` ± ${formatNumber(r.spread)}` : ''}${r.n > 1 ? ` (n=${r.n})` : ''}` },
      { header: 'PARAMETERS', value: (r) => Object.entries(r.parameters).map(([k, v]) => `${k}=${v}`).join(' ') || '-' },
      { header: 'WHERE', value: (r) => `${shortSet(r.commitSet)} ${r.dataset}@${r.version}` },
      { header: 'EVALUATION', value: (r) => r.evaluationId },
    ] satisfies readonly Column<(typeof rows)[number]>[],
    rows,
  );
}

function progress(request: EvaluationRequest): string {
  const cancelled = request.cancelled ? `, ${request.cancelled} cancelled` : '';
  const failed = (request.failed ? `, ${request.failed} failed` : '') + cancelled;
  const regressed = request.regressed ? `, ${request.regressed} regressed` : '';
  return `${request.status}: ${request.done + request.failed + request.cancelled} of ${request.total} done (${request.done} succeeded${failed}${regressed})${request.error ? ` — ${request.error}` : ''}`;
}

async function showRequest(session: Session, id: string): Promise<void> {
  const request = await session.client.get(`/evaluations/requests/${encodeURIComponent(id)}`, {}, evaluationRequestSchema);
  if (session.json) {
    session.printJson(request);
    return;
  }
  session.print(describeRequest(request, true));
  session.print(`\n${progress(request)}\n`);
  if (request.summary && Object.values(request.summary).some((m) => m.best.length > 0)) session.print(`\n${formatBest(request.summary)}`);
  session.note(`Its evaluations: symbiont evaluations list --request ${request.requestId}`);
}

const shortSet = (set: Record<string, string>) =>
  Object.entries(set)
    .map(([repo, sha]) => `${repo}@${sha.slice(0, 12)}`)
    .join(' ');
const formatNumber = (value: number | undefined) => (value === undefined ? '-' : Math.abs(value) >= 1000 || value === Math.trunc(value) ? String(value) : String(Number(value.toPrecision(5))));
const percent = (value: number | undefined) => (value === undefined ? '' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`);

/** Baselines first, then by commit set, dataset and parameters: how a person reads a request. */
function sortForPeople(evaluations: Evaluation[]): Evaluation[] {
  const key = (e: Evaluation) => `${e.phase === 'baseline' ? 0 : 1}|${shortSet(e.commitSet)}|${e.dataset}@${e.version}|${JSON.stringify(e.parameters)}`;
  return [...evaluations].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const evaluationColumns: readonly Column<Evaluation>[] = [
  { header: 'EVALUATION', value: (e) => e.evaluationId },
  { header: 'STATUS', value: (e) => e.status },
  { header: 'COMMIT SET', value: (e) => `${shortSet(e.commitSet)}${e.isBaselineCommitSet ? ' (heads)' : ''}` },
  { header: 'DATASET', value: (e) => `${e.dataset}@${e.version}` },
  { header: 'PARAMETERS', value: (e) => Object.entries(e.parameters).map(([k, v]) => `${k}=${v}`).join(' ') || '-' },
  { header: 'SCORES', value: (e) => Object.entries(e.scores ?? {}).map(([k, s]) => `${k}=${formatNumber(s.mean)}`).join(' ') || (e.failure ? `(${e.failure.error})` : '-') },
  {
    header: 'VS BASELINE',
    value: (e) =>
      Object.entries(e.comparison ?? {})
        .filter(([, c]) => c.delta !== undefined)
        .map(([k, c]) => `${k} ${percent(c.relativeDelta) || formatNumber(c.delta)}`)
        .join(' ') || '-',
  },
  { header: 'VERDICT', value: (e) => (e.regressed ? 'REGRESSED' : (e.verdict ?? (e.status === 'failed' ? 'failed' : '-'))) },
];

async function list(session: Session, options: ListOptions): Promise<void> {
  const [repository, commit] = options.commit ? splitCommit(options.commit) : [undefined, undefined];
  const query = { pipeline: options.pipeline, dataset: options.dataset, status: options.status, repository, commit, request: options.request, limit: options.limit };
  const { items, cursor } = await fetchPages(session.client, '/evaluations', query, evaluationPageSchema, options);
  if (session.json) {
    session.printJson({ items, ...(cursor ? { cursor } : {}) });
    return;
  }
  session.print(items.length === 0 ? 'No evaluations.\n' : formatTable(evaluationColumns, items));
  if (cursor) session.note(`More evaluations: add --cursor ${cursor} (or --all).`);
}

const metricColumns: readonly Column<[string, NonNullable<Evaluation['comparison']>[string]]>[] = [
  { header: 'METRIC', value: ([name, c]) => `${name} (${c.goal === 'min' ? 'lower' : 'higher'} is better)` },
  { header: 'BASE', value: ([, c]) => formatNumber(c.base) },
  { header: 'HEAD', value: ([, c]) => formatNumber(c.head) },
  { header: 'DELTA', value: ([, c]) => (c.delta === undefined ? '-' : `${c.delta >= 0 ? '+' : ''}${formatNumber(c.delta)}`) },
  { header: 'RELATIVE', value: ([, c]) => percent(c.relativeDelta) || '-' },
  { header: 'ALLOWED', value: ([, c]) => (c.allowed === undefined ? '-' : `±${formatNumber(c.allowed)}`) },
  { header: 'VERDICT', value: ([, c]) => (c.verdict === 'regressed' ? 'REGRESSED' : c.verdict) },
];

async function show(session: Session, id: string, options: { artifacts?: boolean } = {}): Promise<void> {
  const e = await session.client.get(`/evaluations/${encodeURIComponent(id)}`, {}, evaluationSchema);
  const artifacts = options.artifacts ? await session.client.get(`/evaluations/artifacts/${encodeURIComponent(id)}`, {}, evaluationArtifactsSchema) : undefined;
  if (session.json) {
    session.printJson(artifacts ? { ...e, artifacts: artifacts.stages } : e);
    return;
  }
  session.print(
    formatFields([
      ['evaluation', e.evaluationId],
      ['pipeline', e.pipeline],
      ['status', e.status],
      ['commit set', `${shortSet(e.commitSet)}${e.isBaselineCommitSet ? ' (the default-branch heads then)' : ''}`],
      ['dataset', `${e.dataset}@${e.version}`],
      ['parameters', Object.entries(e.parameters).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'],
      ['repeats', String(e.repeats)],
      ['request', `${e.requestId}${e.phase === 'baseline' ? ' (evaluated as the baseline of its request)' : ''}`],
      ['baseline', e.baselineEvaluationId ?? 'none yet (no-baseline)'],
      ['verdict', e.regressed ? 'REGRESSED' : e.verdict],
      ['started', formatTime(e.startedAt)],
      ['took', e.durationMs === undefined ? undefined : `${(e.durationMs / 1000).toFixed(1)} s`],
      ['artifacts', e.artifactsPrefix],
      ['report', e.report ? describeDiagnostic(e.report) : undefined],
      ['report html', e.report?.html],
    ]),
  );
  if (e.comparison) session.print(`\n${formatTable(metricColumns, Object.entries(e.comparison))}`);
  else if (e.scores) session.print(`\n${Object.entries(e.scores).map(([k, s]) => `${k} = ${formatNumber(s.mean)}${s.spread !== undefined ? ` ± ${formatNumber(s.spread)}` : ''}`).join('\n')}\n`);
  if (e.stages?.length) session.print(`\nstages: ${e.stages.map((s) => `${s.name}${e.repeats > 1 ? ` r${s.repeat + 1}` : ''} ${(s.durationMs / 1000).toFixed(2)} s`).join(', ')}\n`);
  if (e.failure) {
    session.print(`\nfailed: ${e.failure.error}${e.failure.stage ? ` in stage ${e.failure.stage}` : ''}${e.failure.exitCode !== undefined && e.failure.exitCode !== null ? ` (exit code ${e.failure.exitCode})` : ''}\n${e.failure.reason}\n`);
    if (e.failure.stderrTail) session.print(`\nstderr (tail):\n${e.failure.stderrTail.trimEnd()}\n`);
  }
  if (e.comparisonError) session.print(`\ncomparison failed: ${e.comparisonError}\n`);
  if (artifacts) session.print(`\n${describeArtifacts(artifacts)}`);
}

/** Per stage run, its files: size, name and download URL; or that it wrote none. */
function describeArtifacts(artifacts: EvaluationArtifacts): string {
  if (artifacts.stages.length === 0) return 'artifacts: no stage has finished yet\n';
  const lines = artifacts.stages.flatMap((s) => {
    const title = `artifacts of ${s.name}, repeat ${s.repeat + 1}:`;
    if (s.files.length === 0) return [`${title} no files`];
    return [
      title,
      ...s.files.map((f) => `  ${formatBytes(f.size).padStart(9)}  ${f.name}  ${f.url}`),
      ...(s.truncated ? [`  (the first ${s.files.length}; the rest are under ${s.prefix})`] : []),
    ];
  });
  return `${lines.join('\n')}\n${artifacts.expiresAt ? `(the URLs work until ${formatTime(artifacts.expiresAt)})\n` : ''}`;
}

/** An evaluation's diagnostic report in one line: status, template, id, and why it failed. */
function describeDiagnostic(report: NonNullable<Evaluation['report']>): string {
  const parts = [report.status, report.template ? `template ${report.template}` : undefined, report.reportId ? `report ${report.reportId}` : undefined].filter(Boolean).join(', ');
  return report.reason ? `${parts}: ${report.reason}` : parts;
}

async function compare(session: Session, ids: { head: string; base?: string }): Promise<void> {
  const comparison = await session.client.get('/compare', { head: ids.head, base: ids.base }, comparisonSchema);
  if (session.json) {
    session.printJson(comparison);
    return;
  }
  const { base, head } = comparison;
  const describe = (e: Evaluation) => `${e.evaluationId}  ${shortSet(e.commitSet)}  ${e.dataset}@${e.version}  ${Object.entries(e.parameters).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  session.print(
    formatFields([
      ['pipeline', comparison.pipeline],
      ['base', base ? describe(base) : 'none (the head has no baseline yet)'],
      ['head', describe(head)],
      ['verdict', comparison.regressed ? 'REGRESSED' : comparison.verdict],
    ]),
  );
  session.print(`\n${formatTable(metricColumns, Object.entries(comparison.metrics))}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function splitCommit(value: string): [string, string] {
  const match = /^([a-z][a-z0-9_-]*)@([0-9a-fA-F]{7,64})$/.exec(value.trim());
  if (!match) throw new UsageError(`"${value}" is not repo@sha (e.g. model@9c1e5b0e4f2d).`);
  return [match[1]!, match[2]!.toLowerCase()];
}

function commitSet(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map(splitCommit));
}

function datasetVersion(value: string): { dataset: string; version?: number } | { dataset: string; from: number; to?: number } {
  const range = /^([A-Za-z0-9_.-]+)@v?([1-9]\d*)\.\.(?:v?([1-9]\d*))?$/.exec(value.trim());
  if (range) return { dataset: range[1]!, from: Number(range[2]), ...(range[3] ? { to: Number(range[3]) } : {}) };
  const match = /^([A-Za-z0-9_.-]+)(?:@v?([1-9]\d*))?$/.exec(value.trim());
  if (!match) throw new UsageError(`"${value}" is not name, name@version or name@from..to (e.g. readings@3, readings@3..9).`);
  return { dataset: match[1]!, ...(match[2] ? { version: Number(match[2]) } : {}) };
}

/**
 * `window=3,7` → `['window', [3, 7]]`: numbers and booleans as such, anything else as text;
 * `alpha=0.1..0.5:0.1` → a range `{from, to, step}` (step 1 when left out).
 */
function parameter(value: string): [string, (string | number | boolean)[] | { from: number; to: number; step?: number }] {
  const match = /^([^=]+)=(.+)$/.exec(value);
  if (!match) throw new UsageError(`"${value}" is not name=value[,value…] or name=from..to[:step] (e.g. window=3,7 or alpha=0.1..0.5:0.1).`);
  const range = /^(-?[\d.]+)\.\.(-?[\d.]+)(?::([\d.]+))?$/.exec(match[2]!.trim());
  if (range && [range[1], range[2], range[3]].every((n) => n === undefined || Number.isFinite(Number(n)))) {
    return [match[1]!.trim(), { from: Number(range[1]), to: Number(range[2]), ...(range[3] ? { step: Number(range[3]) } : {}) }];
  }
  const parse = (text: string) => (text === 'true' ? true : text === 'false' ? false : text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
  return [match[1]!.trim(), match[2]!.split(',').map(parse)];
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}
