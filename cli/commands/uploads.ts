import { InvalidArgumentError, Option, type Command } from 'commander';
import { MAX_PAGE_SIZE, uploadPageSchema, uploadSchema, uploadSources, uploadStatuses, type ReportExample, type UploadListItem, type UploadReport } from '#api/schemas';
import type { CommandModule, Session } from '../context.ts';
import { fetchPages } from '../client.ts';
import { formatBytes, formatFields, formatTable, formatTime, type Column } from '../output.ts';

/** `symbiont uploads …`: what arrived, and what became of it. */
export const uploadsCommands: CommandModule = {
  register(program, context) {
    const uploads = program.command('uploads').description('Files that arrived over SFTP or through the API, and their outcome.');

    uploads
      .command('list')
      .description('List uploads, newest first.')
      .option('--dataset <name>', 'only uploads to this dataset')
      .addOption(new Option('--status <status>', 'only uploads in this status').choices(uploadStatuses))
      .option('--sender <name>', 'only uploads sent by this SFTP user or API caller')
      .addOption(new Option('--source <source>', 'only uploads that came this way').choices(uploadSources))
      .option('--slot <slotId>', 'only uploads made through this upload slot (symbiont upload prints it)')
      .option('--limit <n>', `uploads per page, 1 to ${MAX_PAGE_SIZE}`, wholeNumber)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursors and list every page')
      .action(async (options: ListOptions, command: Command) => listUploads(context.open(command), options));

    uploads
      .command('show')
      .description('Show one upload: where it is, its status and why.')
      .argument('<id>', 'upload id')
      .action(async (id: string, _options: unknown, command: Command) => showUpload(context.open(command), id));
  },
};

interface ListOptions {
  readonly dataset?: string;
  readonly status?: string;
  readonly sender?: string;
  readonly source?: string;
  readonly slot?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

const columns: readonly Column<UploadListItem>[] = [
  { header: 'UPLOAD ID', value: (u) => u.uploadId },
  { header: 'DATASET', value: (u) => u.dataset ?? '-' },
  { header: 'STATUS', value: (u) => u.status },
  { header: 'SENDER', value: (u) => u.sender ?? '-' },
  { header: 'SOURCE', value: (u) => u.source },
  { header: 'SIZE', value: (u) => formatBytes(u.size) || '-' },
  { header: 'RECEIVED', value: (u) => formatTime(u.receivedAt) },
];

async function listUploads(session: Session, options: ListOptions): Promise<void> {
  const query = { dataset: options.dataset, status: options.status, sender: options.sender, source: options.source, slot: options.slot, limit: options.limit };
  const { items, cursor } = await fetchPages(session.client, '/uploads', query, uploadPageSchema, options);

  if (session.json) {
    session.printJson({ items, ...(cursor ? { cursor } : {}) });
    return;
  }
  if (items.length === 0) session.print('No uploads.\n');
  else session.print(formatTable(columns, items));
  if (cursor) session.note(`More uploads: add --cursor ${cursor} (or --all).`);
}

async function showUpload(session: Session, id: string): Promise<void> {
  const upload = await session.client.get(`/uploads/${encodeURIComponent(id)}`, {}, uploadSchema);
  if (session.json) {
    session.printJson(upload);
    return;
  }
  session.print(
    formatFields([
      ['upload', upload.uploadId],
      ['dataset', upload.dataset],
      ['status', upload.status],
      ['version', upload.version === undefined ? undefined : `${upload.version}${upload.dataset ? ` of ${upload.dataset}` : ''}`],
      ['reason', upload.reason],
      ['source', upload.sender ? `${upload.source} (${upload.sender})` : upload.source],
      ['file', upload.file],
      ['object', `s3://${upload.bucket}/${upload.key}${upload.versionId ? ` (version ${upload.versionId})` : ''}`],
      ['size', upload.size === undefined ? undefined : `${formatBytes(upload.size)} (${upload.size} bytes)`],
      ['etag', upload.etag],
      ['slot', upload.slotId],
      ['outcome', upload.outcomeKey],
      ['received', upload.receivedAt],
      ['updated', upload.updatedAt],
    ]),
  );
  if (upload.report) session.print(`\n${formatReport(upload.report)}`);
}

const exampleColumns: readonly Column<ReportExample>[] = [
  { header: 'ROW', value: (e) => (e.row === undefined ? '-' : String(e.row)) },
  { header: 'COLUMN', value: (e) => e.column ?? '-' },
  { header: 'RULE', value: (e) => e.rule },
  { header: 'VALUE', value: (e) => (e.value === undefined ? '-' : JSON.stringify(e.value)) },
  { header: 'MESSAGE', value: (e) => e.message },
];

/** A quarantined upload's report summary for people: counts, then the first problems as a table. */
export function formatReport(report: UploadReport): string {
  const counts = (entries: Record<string, number>) =>
    Object.entries(entries)
      .sort(([, a], [, b]) => b - a)
      .map(([name, count]) => [`  ${name}`, String(count)] as const);
  const lines = [
    `Validation found ${report.errorCount} problem${report.errorCount === 1 ? '' : 's'} in ${report.rows} row${report.rows === 1 ? '' : 's'}.`,
    '',
    'Problems by rule:',
    formatFields(counts(report.countsByRule)).trimEnd(),
  ];
  if (Object.keys(report.countsByColumn).length > 0) {
    lines.push('', 'Problems by column:', formatFields(counts(report.countsByColumn)).trimEnd());
    if (report.otherColumns) lines.push(`  … and ${report.otherColumns} more columns`);
  }
  if (report.examples.length > 0) {
    const shown = report.examples.length < report.errorCount ? `The first ${report.examples.length} problems:` : 'The problems:';
    lines.push('', shown, formatTable(exampleColumns, report.examples).trimEnd());
  }
  lines.push('', `Full report in the data bucket: ${report.textKey} (JSON: ${report.jsonKey})`);
  return `${lines.join('\n')}\n`;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}
