import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { logger } from '#shared/observability';
import type { ReportExample, Store, UploadRecord, UploadReport } from '#store/store';
import { landingObject } from '#store/uploads';
import { formatReportText } from '#validation/report';
import type { ValidationReport } from '#validation/validate';
import { copyOriginal, markOutcomeRecorded } from './originals.ts';
import { readsResultBesideFile, writeResultFile } from './sftp-results.ts';
import { recordOutcome } from './upload-status.ts';

/**
 * Quarantining an upload that failed validation (DESIGN.md "Flows"): the original is copied,
 * naming its landing version, to `quarantine/<uploadId>/<file>`; the report goes beside it as
 * `report.json` (the validation report object) and `report.txt` (the same for people); an SFTP
 * sender finds the text beside the file. Only then is the upload set `quarantined`, with a short
 * reason and a summary of the report on its record, and only then is the landing object marked as
 * safe to expire. Every step is repeatable: a redelivery after a crash finishes the job.
 */

/** File names of the report beside a quarantined original. */
export const REPORT_JSON_FILE = 'report.json';
export const REPORT_TEXT_FILE = 'report.txt';

/** Examples kept on the upload record; the full report keeps up to its own limit. */
export const SUMMARY_EXAMPLES = 20;
/** Columns kept in the record's counts by column; a file with thousands of bad columns keeps the worst. */
export const SUMMARY_COLUMNS = 50;
/** Longest message, value and column name kept on the record, in characters. */
const SUMMARY_TEXT = { message: 600, value: 200, column: 256 } as const;
/** Longest reason, in characters. */
const REASON_MAX = 600;

/** Where a quarantined upload's original and report go in the data bucket. */
export function quarantineKeys(uploadId: string, file: string): { original: string; json: string; text: string } {
  const prefix = `quarantine/${uploadId}/`;
  // The report files sit beside the original: a file with one of their names (or no name) gets
  // a name that cannot collide with them.
  const reserved: readonly string[] = [REPORT_JSON_FILE, REPORT_TEXT_FILE];
  const name = file === '' ? 'original' : reserved.includes(file) ? `original-${file}` : file;
  return { original: `${prefix}${name}`, json: `${prefix}${REPORT_JSON_FILE}`, text: `${prefix}${REPORT_TEXT_FILE}` };
}

/**
 * What the upload record keeps of a report: counts, the first {@link SUMMARY_EXAMPLES} examples
 * with long texts shortened, and where the full report is. Bounded whatever the file held, so the
 * item stays far below DynamoDB's 400 KB.
 */
export function summarizeReport(report: ValidationReport, keys: { json: string; text: string }): UploadReport {
  const columns = Object.entries(report.countsByColumn).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const kept = columns.slice(0, SUMMARY_COLUMNS);
  return {
    errorCount: report.errorCount,
    rows: report.rows,
    bytes: report.bytes,
    ...(report.sha256 ? { sha256: report.sha256 } : {}),
    specRevision: report.specRevision,
    countsByRule: { ...report.countsByRule } as Record<string, number>,
    countsByColumn: Object.fromEntries(kept.map(([column, n]) => [shorten(column, SUMMARY_TEXT.column), n])),
    ...(columns.length > kept.length ? { otherColumns: columns.length - kept.length } : {}),
    examples: report.examples.slice(0, SUMMARY_EXAMPLES).map(
      (issue): ReportExample => ({
        rule: issue.rule,
        ...(issue.row !== undefined ? { row: issue.row } : {}),
        ...(issue.line !== undefined ? { line: issue.line } : {}),
        ...(issue.column !== undefined ? { column: shorten(issue.column, SUMMARY_TEXT.column) } : {}),
        ...(issue.value !== undefined ? { value: shorten(issue.value, SUMMARY_TEXT.value) } : {}),
        message: shorten(issue.message, SUMMARY_TEXT.message),
      }),
    ),
    jsonKey: keys.json,
    textKey: keys.text,
  };
}

/**
 * The reason a quarantined upload shows: the first problem's sentence and the counts, e.g.
 * `Row 2, column "temperature": "abc" is not a number. (2 problems in 3 rows: type.number 2)`.
 */
export function quarantineReason(report: ValidationReport): string {
  const first = report.examples[0];
  const counts = Object.entries(report.countsByRule)
    .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
    .slice(0, 5)
    .map(([rule, n]) => `${rule} ${n}`);
  const more = Object.keys(report.countsByRule).length > counts.length ? ', …' : '';
  const tally = `${plural(report.errorCount, 'problem')} in ${plural(report.rows, 'row')}: ${counts.join(', ')}${more}`;
  const sentence = first ? firstSentence(first.message) : 'The file did not pass validation.';
  return `${shorten(sentence, REASON_MAX - tally.length - 3)} (${tally})`;
}

export interface QuarantineDeps {
  readonly store: Pick<Store, 'getUpload' | 'setUploadStatus'>;
  readonly s3: S3Client;
  readonly dataBucket: string;
  readonly now: () => Date;
}

/** Quarantines a `validating` upload with its report; answers the upload as recorded. */
export async function quarantineUpload(deps: QuarantineDeps, upload: UploadRecord, report: ValidationReport): Promise<UploadRecord> {
  const keys = quarantineKeys(upload.uploadId, upload.file ?? '');
  const text = formatReportText(report);
  await copyOriginal(deps.s3, { source: landingObject(upload), bucket: deps.dataBucket, key: keys.original, bytes: report.bytes });
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.dataBucket,
      Key: keys.json,
      ContentType: 'application/json',
      Body: `${JSON.stringify(report, null, 2)}\n`,
    }),
  );
  await deps.s3.send(new PutObjectCommand({ Bucket: deps.dataBucket, Key: keys.text, ContentType: 'text/plain; charset=utf-8', Body: text }));
  const at = deps.now().toISOString();
  if (readsResultBesideFile(upload)) {
    await writeResultFile(
      deps.s3,
      upload,
      'QUARANTINED',
      at,
      `The file was not accepted: it is kept aside with this report and nothing was published.\n\n${text}`,
    );
  }
  const reason = quarantineReason(report);
  const quarantined = await recordOutcome(deps.store, upload.uploadId, {
    from: 'validating',
    to: 'quarantined',
    reason,
    outcomeKey: keys.original,
    report: summarizeReport(report, keys),
    at,
  });
  await markOutcomeRecorded(deps.s3, quarantined);
  logger.warn('upload quarantined', { key: upload.key, errorCount: report.errorCount, countsByRule: report.countsByRule, outcomeKey: keys.original });
  return quarantined;
}

/**
 * The first sentence of a validation message: up to the first full stop followed by a space (or
 * the end) that is not inside a quoted value, so `"a. b"` in a value does not cut it short.
 */
export function firstSentence(message: string): string {
  let quoted = false;
  for (let i = 0; i < message.length; i++) {
    const char = message[i];
    if (char === '"') quoted = !quoted;
    else if (char === '.' && !quoted && (i === message.length - 1 || message[i + 1] === ' ')) return message.slice(0, i + 1);
  }
  return message;
}

function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
