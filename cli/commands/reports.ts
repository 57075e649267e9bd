import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  createdReportsSchema,
  registeredTemplateSchema,
  reportPageSchema,
  reportSchema,
  templateListSchema,
  templateSchema,
  type Report,
  type Template,
} from '#api/report-schemas';
import { MAX_PAGE_SIZE } from '#api/schemas';
import { fetchPages } from '../client.ts';
import type { CliIo, CommandModule, Session } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { formatFields, formatTable, formatTime, type Column } from '../output.ts';

/** `symbiont templates …` and `symbiont reports …`: notebooks as report templates, and their reports. */
export const reportsCommands: CommandModule = {
  register(program, context) {
    const templates = program.command('templates').description('Report templates: Jupyter notebooks with a cell tagged "parameters".');

    templates
      .command('put')
      .description('Register a notebook as a template (or a new revision of one). Without a file, the notebook the config names for it.')
      .argument('<name>', 'template name')
      .argument('[notebook]', 'the .ipynb file (default: templates.<name>.notebook of symbiont.config.json)')
      .option('--description <text>', 'a line saying what the template shows')
      .action(async (name: string, file: string | undefined, options: { description?: string }, command: Command) => putTemplate(context.open(command), context.io, name, file, options));

    templates
      .command('show')
      .description('Show a template and the parameters it declares.')
      .argument('<name>', 'template name')
      .action(async (name: string, _options: unknown, command: Command) => showTemplate(context.open(command), name));

    templates
      .command('list')
      .description('List the registered templates.')
      .action(async (_options: unknown, command: Command) => listTemplates(context.open(command)));

    const reports = program.command('reports').description('Reports: templates rendered with parameters for dataset versions or evaluations, as HTML that opens anywhere.');

    reports
      .command('create')
      .description('Render a template: once per --dataset given (or once without one).')
      .argument('<template>', 'template name')
      .option('--dataset <name[@version]>', 'a dataset version the report is about (default version: latest); repeat for one report each', collect, [])
      .option('-p, --param <name=value>', 'a parameter value (JSON where it parses: 3, 0.5, true, null, "text", [1,2]; else text); repeat', collect, [])
      .option('--evaluation <id>', 'an evaluation whose scores, baseline and comparison the report gets')
      .option('--hide-code', 'open the HTML with the code hidden')
      .option('--wait', 'wait until every report is rendered, then show them')
      .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber, 900)
      .action(async (template: string, options: CreateOptions, command: Command) => create(context.open(command), template, options));

    reports
      .command('show')
      .description('Show a report: status, why it failed, links to its HTML and notebook.')
      .argument('<id>', 'report id')
      .action(async (id: string, _options: unknown, command: Command) => show(context.open(command), id));

    reports
      .command('list')
      .description('List reports, newest first.')
      .option('--template <name>', 'only this template’s')
      .addOption(new Option('--status <status>', 'only in this status').choices(['queued', 'rendering', 'succeeded', 'failed']))
      .option('--limit <n>', `reports per page, 1 to ${MAX_PAGE_SIZE}`, wholeNumber)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursors and list every page')
      .action(async (options: ListOptions, command: Command) => list(context.open(command), options));

    reports
      .command('download')
      .description('Download a rendered report (HTML and notebook) into a folder.')
      .argument('<id>', 'report id')
      .option('--dir <folder>', 'where to write <id>.html and <id>.ipynb', '.')
      .addOption(new Option('--format <format>', 'what to download').choices(['html', 'ipynb', 'both']).default('both'))
      .action(async (id: string, options: { dir: string; format: 'html' | 'ipynb' | 'both' }, command: Command) =>
        download(context.open(command), context.io, id, options),
      );

    reports
      .command('open')
      .description('Download a report’s HTML and open it in the browser (or print where it is when no browser opener is found).')
      .argument('<id>', 'report id')
      .action(async (id: string, _options: unknown, command: Command) => open(context.open(command), context.io, id));
  },
};

interface CreateOptions {
  readonly dataset: string[];
  readonly param: string[];
  readonly evaluation?: string;
  readonly hideCode?: boolean;
  readonly wait?: boolean;
  readonly timeout: number;
}

interface ListOptions {
  readonly template?: string;
  readonly status?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

async function putTemplate(session: Session, io: CliIo, name: string, file: string | undefined, options: { description?: string }): Promise<void> {
  const path = file ? resolve(io.cwd, file) : configuredNotebook(io, name);
  let notebook: unknown;
  try {
    notebook = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${path} as a notebook: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const answer = await session.client.put(`/templates/${encodeURIComponent(name)}`, { description: options.description }, notebook, registeredTemplateSchema);
  if (session.json) {
    session.printJson(answer);
    return;
  }
  const verb = answer.created ? 'Registered' : answer.changed ? 'Updated' : 'Unchanged:';
  session.print(`${verb} template ${name} (revision ${answer.template.revision}, ${answer.template.cells} cells, ${answer.template.kernel}).\n`);
  session.print(describeParameters(answer.template));
}

/** The notebook path the config gives a template, relative to the config file. */
function configuredNotebook(io: CliIo, name: string): string {
  const configFile = resolve(io.cwd, io.env.SYMBIONT_CONFIG ?? 'symbiont.config.json');
  if (!existsSync(configFile)) throw new UsageError(`give the notebook file: there is no ${configFile} to find template ${name} in`);
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { templates?: Record<string, { notebook?: string }> };
  const notebook = config.templates?.[name]?.notebook;
  if (!notebook) throw new UsageError(`give the notebook file: ${configFile} has no templates.${name}.notebook`);
  return resolve(configFile, '..', notebook);
}

const parameterColumns: readonly Column<Template['parameters'][number]>[] = [
  { header: 'PARAMETER', value: (p) => p.name },
  { header: 'TYPE', value: (p) => (p.nullable && p.type !== 'any' ? `${p.type} or None` : p.type) },
  { header: 'DEFAULT', value: (p) => p.default },
  { header: 'HELP', value: (p) => p.help },
];

function describeParameters(template: Template): string {
  const builtIns = new Set(template.builtIns ?? []);
  const own = template.parameters.filter((p) => !builtIns.has(p.name));
  const text = own.length === 0 ? 'It declares no parameters of its own.\n' : formatTable(parameterColumns, own);
  const used = template.parameters.filter((p) => builtIns.has(p.name)).map((p) => p.name);
  return used.length > 0 ? `${text}Built-in parameters it reads: ${used.join(', ')}.\n` : text;
}

async function showTemplate(session: Session, name: string): Promise<void> {
  const template = await session.client.get(`/templates/${encodeURIComponent(name)}`, {}, templateSchema);
  if (session.json) {
    session.printJson(template);
    return;
  }
  session.print(
    formatFields([
      ['template', template.name],
      ['description', template.description],
      ['kernel', `${template.kernel} (${template.language})`],
      ['cells', String(template.cells)],
      ['revision', `${template.revision}, registered ${formatTime(template.updatedAt)} by ${template.registeredBy} (${template.source})`],
      ['sha256', template.sha256],
      ['parameters cell', template.hasParametersCell ? 'yes' : 'none (parameters are injected first)'],
    ]),
  );
  session.print(`\n${describeParameters(template)}`);
}

const templateColumns: readonly Column<Template>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'KERNEL', value: (t) => t.kernel },
  { header: 'PARAMETERS', value: (t) => t.parameters.map((p) => p.name).filter((n) => !(t.builtIns ?? []).includes(n)).join(', ') },
  { header: 'REVISION', value: (t) => String(t.revision) },
  { header: 'DESCRIPTION', value: (t) => t.description ?? '' },
];

async function listTemplates(session: Session): Promise<void> {
  const list = await session.client.get('/templates', {}, templateListSchema);
  if (session.json) {
    session.printJson(list);
    return;
  }
  session.print(list.items.length === 0 ? 'No templates.\n' : formatTable(templateColumns, list.items));
}

async function create(session: Session, template: string, options: CreateOptions): Promise<void> {
  const parameters = Object.fromEntries(options.param.map(parameterValue));
  const datasets = options.dataset.map(datasetVersion);
  const body = {
    template,
    ...(options.param.length > 0 ? { parameters } : {}),
    ...(datasets.length > 0 ? { datasets } : {}),
    ...(options.evaluation ? { evaluation: options.evaluation } : {}),
    ...(options.hideCode ? { hideCode: true } : {}),
  };
  const { reports } = await session.client.post('/reports', body, createdReportsSchema);
  if (!options.wait) {
    if (session.json) session.printJson({ reports });
    else {
      session.print(formatTable(reportColumns, reports));
      session.note(`Follow with: symbiont reports show <id> (or pass --wait).`);
    }
    return;
  }
  const deadline = Date.now() + options.timeout * 1000;
  const done: Report[] = [];
  for (const report of reports) {
    for (;;) {
      const current = await session.client.get(`/reports/${report.reportId}`, {}, reportSchema);
      if (current.status === 'succeeded' || current.status === 'failed') {
        done.push(current);
        break;
      }
      if (Date.now() > deadline) throw new CliError(`report ${report.reportId} is still ${current.status} after ${options.timeout} s; follow it with: symbiont reports show ${report.reportId}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (session.json) session.printJson({ reports: done });
  else for (const report of done) session.print(`${describeReport(report)}\n`);
  const failed = done.filter((r) => r.status === 'failed');
  if (failed.length > 0) throw new CliError(`${failed.length} of ${done.length} report${done.length > 1 ? 's' : ''} failed`);
}

/** `name=value`: JSON where it parses (so 3, 0.5, true, null, [1,2] keep their types), else the text. */
function parameterValue(text: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`--param ${text}: expected name=value`);
  const value = text.slice(at + 1);
  try {
    return [text.slice(0, at), JSON.parse(value)];
  } catch {
    return [text.slice(0, at), value];
  }
}

function datasetVersion(text: string): { name: string; version: number | 'latest' } {
  const match = /^([^@]+)(?:@v?(\d+|latest))?$/.exec(text);
  if (!match) throw new UsageError(`--dataset ${text}: expected name or name@version (readings@3, readings@latest)`);
  return { name: match[1]!, version: match[2] === undefined || match[2] === 'latest' ? 'latest' : Number(match[2]) };
}

const reportColumns: readonly Column<Report>[] = [
  { header: 'REPORT', value: (r) => r.reportId },
  { header: 'TEMPLATE', value: (r) => r.template },
  { header: 'DATASET', value: (r) => (r.dataset ? `${r.dataset.name} v${r.dataset.version}` : '-') },
  { header: 'STATUS', value: (r) => r.status },
  { header: 'CREATED', value: (r) => formatTime(r.createdAt) },
];

function describeReport(report: Report): string {
  return formatFields([
    ['report', report.reportId],
    ['template', report.template],
    ['dataset', report.dataset ? `${report.dataset.name} v${report.dataset.version}` : undefined],
    ['evaluation', report.evaluationId],
    ['parameters', Object.keys(report.parameters).length > 0 ? JSON.stringify(report.parameters) : undefined],
    ['status', report.status],
    ['error', report.error ? `${report.error.name}: ${report.error.message}${report.error.cell ? ` (cell ${report.error.cell})` : ''}` : undefined],
    ['created', `${formatTime(report.createdAt)} by ${report.requestedBy}`],
    ['rendered', report.finishedAt ? `${formatTime(report.finishedAt)} in ${((report.durationMs ?? 0) / 1000).toFixed(1)} s` : undefined],
    ['html', report.urls?.html],
    ['notebook', report.urls?.notebook],
    ['links expire', report.urls ? formatTime(report.urls.expiresAt) : undefined],
  ]);
}

async function show(session: Session, id: string): Promise<void> {
  const report = await session.client.get(`/reports/${encodeURIComponent(id)}`, {}, reportSchema);
  if (session.json) session.printJson(report);
  else session.print(describeReport(report));
}

async function list(session: Session, options: ListOptions): Promise<void> {
  const { items, cursor } = await fetchPages(session.client, '/reports', { template: options.template, status: options.status, limit: options.limit }, reportPageSchema, options);
  if (session.json) {
    session.printJson({ items, ...(cursor ? { cursor } : {}) });
    return;
  }
  session.print(items.length === 0 ? 'No reports.\n' : formatTable(reportColumns, items));
  if (cursor) session.note(`More reports: add --cursor ${cursor} (or --all).`);
}

/** The stored files of a rendered report, fetched through its presigned URLs. */
async function fetchReport(session: Session, id: string, format: 'html' | 'ipynb' | 'both'): Promise<{ report: Report; files: { name: string; body: Buffer }[] }> {
  const report = await session.client.get(`/reports/${encodeURIComponent(id)}`, {}, reportSchema);
  if (!report.urls) throw new CliError(`report ${id} is ${report.status}${report.error ? ` (${report.error.name}: ${report.error.message})` : ''}: it has nothing to download yet`);
  const wanted = [
    ...(format !== 'ipynb' && report.urls.html ? [{ name: `${report.reportId}.html`, url: report.urls.html }] : []),
    ...(format !== 'html' && report.urls.notebook ? [{ name: `${report.reportId}.ipynb`, url: report.urls.notebook }] : []),
  ];
  const files = await Promise.all(
    wanted.map(async ({ name, url }) => {
      const response = await fetch(url);
      if (!response.ok) throw new CliError(`downloading ${name} failed: HTTP ${response.status}`);
      return { name, body: Buffer.from(await response.arrayBuffer()) };
    }),
  );
  return { report, files };
}

async function download(session: Session, io: CliIo, id: string, options: { dir: string; format: 'html' | 'ipynb' | 'both' }): Promise<void> {
  const { report, files } = await fetchReport(session, id, options.format);
  const dir = resolve(io.cwd, options.dir);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    const path = join(dir, file.name);
    await writeFile(path, file.body);
    written.push(path);
  }
  if (session.json) session.printJson({ reportId: report.reportId, status: report.status, files: written });
  else session.print(`${written.map((p) => `${p}\n`).join('')}`);
}

async function open(session: Session, io: CliIo, id: string): Promise<void> {
  const { files } = await fetchReport(session, id, 'html');
  const file = files[0];
  if (!file) throw new CliError(`report ${id} has no HTML`);
  const dir = join(tmpdir(), 'symbiont-reports');
  await mkdir(dir, { recursive: true });
  const path = join(dir, file.name);
  await writeFile(path, file.body);
  const opener = io.env.BROWSER ?? (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? undefined : 'xdg-open');
  const opened = opener ? await launch(opener, path) : false;
  if (session.json) session.printJson({ path, opened });
  else session.print(opened ? `Opened ${path}\n` : `Saved ${path} (no browser opener found: open it yourself; it needs no network)\n`);
}

/** Starts `opener file` detached; false when it cannot start. */
function launch(opener: string, file: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const child = spawn(opener, [file], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolvePromise(false));
    child.once('spawn', () => {
      child.unref();
      resolvePromise(true);
    });
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}
