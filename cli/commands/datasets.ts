import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  datasetListSchema,
  datasetSchema,
  datasetVersionPageSchema,
  datasetVersionSchema,
  MAX_PAGE_SIZE,
  MAX_URL_SECONDS,
  versionDownloadSchema,
  type Dataset,
  type DatasetSummary,
  type DatasetVersion,
} from '#api/schemas';
import type { CliIo, CommandModule, Session } from '../context.ts';
import { downloadToFile, progressBar } from '../transfer.ts';
import { fetchPages } from '../client.ts';
import { formatBytes, formatFields, formatTable, formatTime, type Column } from '../output.ts';

/** `symbiont datasets …`: the datasets, their specs and their published versions. */
export const datasetsCommands: CommandModule = {
  register(program, context) {
    const datasets = program.command('datasets').description('Datasets, their specs and their published versions.');

    datasets
      .command('list')
      .description('List the datasets with their format, spec revision and newest version (every page unless --limit or --cursor).')
      .option('--limit <n>', `datasets per page, 1 to ${MAX_PAGE_SIZE}`, wholeNumber)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .action(async (options: { limit?: number; cursor?: string }, command: Command) => listDatasets(context.open(command), options));

    datasets
      .command('show')
      .description('Show a dataset: its spec, the spec revision and the newest version.')
      .argument('<name>', 'dataset name')
      .action(async (name: string, _options: unknown, command: Command) => showDataset(context.open(command), name));

    datasets
      .command('versions')
      .description('List the published versions of a dataset, newest first.')
      .argument('<name>', 'dataset name')
      .option('--limit <n>', `versions per page, 1 to ${MAX_PAGE_SIZE}`, wholeNumber)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursors and list every page')
      .action(async (name: string, options: VersionsOptions, command: Command) => listVersions(context.open(command), name, options));

    datasets
      .command('version')
      .description('Show one published version of a dataset, with its column profile.')
      .argument('<name>', 'dataset name')
      .argument('<version>', 'a version number, or "latest"', versionSelector)
      .action(async (name: string, version: string, _options: unknown, command: Command) => showVersion(context.open(command), name, version));

    datasets
      .command('download')
      .description('Download a published version (the latest by default), checking its sha256; the file appears only once it is whole and checked.')
      .argument('<name>', 'dataset name')
      .argument('[version]', 'a version number, or "latest"', versionSelector, 'latest')
      .option('-o, --output <path>', 'file (or existing directory) to save to; default: <dataset>-v<n>-<file> here')
      .option('--url-only', 'print the presigned URL (for curl, pandas, a browser) instead of downloading')
      .option('--expires-in <seconds>', `how long the URL stays valid, 1 to ${MAX_URL_SECONDS} (default 900)`, wholeNumber)
      .action(async (name: string, version: string, options: DownloadOptions, command: Command) => download(context.open(command), context.io, name, version, options));
  },
};

interface DownloadOptions {
  readonly output?: string;
  readonly urlOnly?: boolean;
  readonly expiresIn?: number;
}

async function download(session: Session, io: CliIo, name: string, version: string, options: DownloadOptions): Promise<void> {
  const path = `/datasets/${encodeURIComponent(name)}/versions/${version}/download`;
  const found = await session.client.get(path, { expiresIn: options.expiresIn }, versionDownloadSchema);
  if (options.urlOnly) {
    if (session.json) session.printJson(found);
    else session.print(`${found.url}\n`);
    return;
  }
  const target = outputPath(io.cwd, options.output, found.fileName);
  const progress = progressBar(io.stderr, io.stderrIsTTY === true, `${found.fileName}`, found.bytes);
  const saved = await downloadToFile({ url: found.url, path: target, sha256: found.sha256, progress, ...(io.fetch ? { fetch: io.fetch } : {}) });
  if (session.json) {
    session.printJson({ dataset: found.dataset, version: found.version, path: target, bytes: saved.bytes, sha256: saved.sha256 });
    return;
  }
  session.print(`Saved ${found.dataset} v${found.version} to ${target} (${formatBytes(saved.bytes)}, sha256 ${saved.sha256} checked).\n`);
}

/** `-o` as given (a directory gets the download's own name), else the download's name here. */
function outputPath(cwd: string, output: string | undefined, fileName: string): string {
  if (output === undefined) return resolve(cwd, fileName);
  const path = resolve(cwd, output);
  try {
    if (statSync(path).isDirectory()) return resolve(path, fileName);
  } catch {
    // Not there yet: a file name.
  }
  return path;
}

interface VersionsOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

/** Long hashes are shown by their first digits, as git shows commits; --json has them whole. */
const short = (hash: string) => hash.slice(0, 12);

const datasetColumns: readonly Column<DatasetSummary>[] = [
  { header: 'NAME', value: (d) => d.name },
  { header: 'FORMAT', value: (d) => d.format },
  { header: 'LATEST', value: (d) => (d.latestVersion === undefined ? '-' : `v${d.latestVersion}`) },
  { header: 'REVISION', value: (d) => short(d.revision) },
  { header: 'DESCRIPTION', value: (d) => d.description ?? '' },
];

const versionColumns: readonly Column<DatasetVersion>[] = [
  { header: 'VERSION', value: (v) => `v${v.version}` },
  { header: 'ROWS', value: (v) => String(v.rows) },
  { header: 'SIZE', value: (v) => formatBytes(v.bytes) },
  { header: 'FILE', value: (v) => v.file },
  { header: 'SENDER', value: (v) => v.sender ?? '-' },
  { header: 'SHA256', value: (v) => short(v.sha256) },
  { header: 'CREATED', value: (v) => formatTime(v.createdAt) },
];

async function listDatasets(session: Session, options: { limit?: number; cursor?: string }): Promise<void> {
  // Datasets are few: a plain `list` shows them all; --limit or --cursor asks for one page.
  const all = options.limit === undefined && options.cursor === undefined;
  const list = await fetchPages(session.client, '/datasets', { limit: options.limit }, datasetListSchema, { cursor: options.cursor, all });
  if (session.json) {
    session.printJson(list);
    return;
  }
  session.print(list.items.length === 0 ? 'No datasets.\n' : formatTable(datasetColumns, list.items));
  if (list.cursor) session.note(`More datasets: add --cursor ${list.cursor}.`);
}

async function showDataset(session: Session, name: string): Promise<void> {
  const dataset = await session.client.get(`/datasets/${encodeURIComponent(name)}`, {}, datasetSchema);
  if (session.json) {
    session.printJson(dataset);
    return;
  }
  const { spec, latest } = dataset;
  session.print(
    formatFields([
      ['dataset', dataset.name],
      ['description', dataset.description],
      ['format', spec.format === 'csv' ? `csv (delimiter ${JSON.stringify(spec.delimiter)}, quote ${JSON.stringify(spec.quote)})` : spec.format],
      ['revision', dataset.revision],
      ['unique key', spec.unique?.join(', ')],
      ['rows', spec.maxRows === undefined ? `at least ${spec.minRows}` : `${spec.minRows} to ${spec.maxRows}`],
      ['max size', `${formatBytes(spec.maxBytes)} (${spec.maxBytes} bytes)`],
      ['latest', latest ? `v${latest.version}: ${latest.rows} rows, ${formatBytes(latest.bytes)}, created ${formatTime(latest.createdAt)}` : 'none published yet'],
    ]),
  );
  session.print('\n');
  session.print(formatTable(specColumns, spec.columns));
}

type ColumnSpec = Dataset['spec']['columns'][number];

const specColumns: readonly Column<ColumnSpec>[] = [
  { header: 'COLUMN', value: (c) => c.name },
  { header: 'TYPE', value: (c) => c.type },
  { header: 'NULLABLE', value: (c) => (c.nullable ? 'yes' : 'no') },
  { header: 'CHECKS', value: describeChecks },
];

function describeChecks(column: ColumnSpec): string {
  const checks: string[] = [];
  if (column.min !== undefined) checks.push(`min ${column.min}`);
  if (column.max !== undefined) checks.push(`max ${column.max}`);
  if (column.enum) checks.push(`one of ${column.enum.join(', ')}`);
  if (column.pattern) checks.push(`matches ${column.pattern}`);
  if (column.maxLength !== undefined) checks.push(`at most ${column.maxLength} characters`);
  return checks.join('; ');
}

async function listVersions(session: Session, name: string, options: VersionsOptions): Promise<void> {
  const path = `/datasets/${encodeURIComponent(name)}/versions`;
  const { items, cursor } = await fetchPages(session.client, path, { limit: options.limit }, datasetVersionPageSchema, options);

  if (session.json) {
    session.printJson({ items, ...(cursor ? { cursor } : {}) });
    return;
  }
  session.print(items.length === 0 ? `No published versions of ${name}.\n` : formatTable(versionColumns, items));
  if (cursor) session.note(`More versions: add --cursor ${cursor} (or --all).`);
}

const profileColumns: readonly Column<[string, DatasetVersion['profile'][string]]>[] = [
  { header: 'COLUMN', value: ([column]) => column },
  { header: 'NULLS', value: ([, p]) => String(p.nulls) },
  { header: 'MIN', value: ([, p]) => (p.min === undefined ? '-' : String(p.min)) },
  { header: 'MAX', value: ([, p]) => (p.max === undefined ? '-' : String(p.max)) },
  { header: 'DISTINCT (EST.)', value: ([, p]) => String(p.distinctEstimate) },
];

async function showVersion(session: Session, name: string, version: string): Promise<void> {
  const found = await session.client.get(`/datasets/${encodeURIComponent(name)}/versions/${version}`, {}, datasetVersionSchema);
  if (session.json) {
    session.printJson(found);
    return;
  }
  session.print(
    formatFields([
      ['dataset', found.dataset],
      ['version', `v${found.version}`],
      ['file', found.file],
      ['object', found.key],
      ['rows', String(found.rows)],
      ['size', `${formatBytes(found.bytes)} (${found.bytes} bytes)`],
      ['sha256', found.sha256],
      ['spec revision', found.specRevision],
      ['upload', found.uploadId],
      ['sender', found.sender],
      ['created', found.createdAt],
    ]),
  );
  const profile = Object.entries(found.profile);
  if (profile.length > 0) session.print(`\n${formatTable(profileColumns, profile)}`);
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

function versionSelector(value: string): string {
  const bare = value.replace(/^v(?=\d)/, '');
  if (!/^(latest|[1-9]\d*)$/.test(bare)) throw new InvalidArgumentError('expected a version number (1, 2, … or v1, v2, …) or "latest".');
  return bare;
}
