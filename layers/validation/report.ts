import { format } from './input.ts';
import type { Rule } from './issues.ts';
import type { ValidationReport } from './validate.ts';

/** What each rule means, in a few words, for the counts table. */
const RULE_TITLES: Record<Rule, string> = {
  required: 'empty where a value is required',
  'type.string': 'not text',
  'type.integer': 'not a whole number',
  'type.number': 'not a number',
  'type.boolean': 'not true or false',
  'type.date': 'not a date (YYYY-MM-DD)',
  'type.timestamp': 'not an ISO 8601 timestamp',
  'number.not-finite': 'NaN, Infinity or too large',
  'date.calendar': 'date or time not in the calendar',
  'range.min': 'below the smallest allowed value',
  'range.max': 'above the largest allowed value',
  enum: 'not one of the allowed values',
  pattern: 'not of the required form',
  maxLength: 'text too long',
  unique: 'duplicate key',
  'encoding.utf8': 'not UTF-8 text',
  'encoding.nul': 'NUL character',
  'csv.ragged-row': 'wrong number of values in a row',
  'csv.unbalanced-quote': 'quote never closed',
  'csv.stray-quote': 'quote in the wrong place',
  'csv.field-too-large': 'value too large',
  'csv.record-too-large': 'row too large',
  'csv.delimiter': 'wrong separator (delimiter)',
  'header.duplicate': 'column named twice in the header',
  'header.missing-name': 'column without a name in the header',
  'header.missing-column': 'column missing from the header',
  'header.unknown-column': 'column the dataset does not know',
  'jsonl.parse': 'line is not JSON',
  'jsonl.not-object': 'line is not a JSON object',
  'jsonl.blank-line': 'empty line between objects',
  'jsonl.line-too-large': 'line too large',
  'jsonl.unknown-key': 'field the dataset does not know',
  'file.empty': 'empty file',
  'file.header-only': 'header but no data',
  'file.binary': 'not a text file',
  'rows.min': 'too few rows',
  'rows.max': 'too many rows',
  'gzip.truncated': 'compressed file cut off',
  'gzip.corrupt': 'compressed file damaged',
  'gzip.ratio': 'possible decompression bomb',
  'size.max': 'file too large',
};

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * The report as text for the person who sent the file: a summary line, counts by rule and by
 * column, the examples with what to do for each, and what to do next. The JSON report is the
 * {@link ValidationReport} object itself.
 */
export function formatReportText(report: ValidationReport): string {
  const lines: string[] = [];
  const size = report.compressed
    ? `${format(report.bytes)} compressed, ${format(report.uncompressedBytes)} unpacked`
    : format(report.bytes);
  if (report.verdict === 'valid') {
    lines.push(`${report.fileName}: valid — ${plural(report.rows, 'row')} checked, no problems found.`);
  } else if (report.verdict === 'rejected') {
    lines.push(`${report.fileName}: REJECTED — the file was not processed.`);
  } else {
    lines.push(`${report.fileName}: INVALID — ${plural(report.errorCount, 'problem')} found in ${plural(report.rows, 'row')}.`);
  }
  lines.push(`Size: ${size}.${report.sha256 ? ` sha256: ${report.sha256}.` : ''} Spec revision: ${report.specRevision.slice(0, 12)}.`);

  if (report.rejection) {
    lines.push('', report.rejection.message);
  }

  const byRule = Object.entries(report.countsByRule).sort(([, a], [, b]) => b - a) as [Rule, number][];
  if (byRule.length > 0 && report.verdict === 'invalid') {
    lines.push('', 'Problems by kind:');
    const width = Math.max(...byRule.map(([, count]) => String(count).length));
    for (const [rule, count] of byRule) lines.push(`  ${String(count).padStart(width)}  ${RULE_TITLES[rule]} (${rule})`);
  }
  const byColumn = Object.entries(report.countsByColumn).sort(([, a], [, b]) => b - a);
  if (byColumn.length > 0 && report.verdict === 'invalid') {
    lines.push('', 'Problems by column:');
    const width = Math.max(...byColumn.map(([, count]) => String(count).length));
    for (const [column, count] of byColumn) lines.push(`  ${String(count).padStart(width)}  ${column}`);
  }
  if (report.examples.length > 0 && report.verdict === 'invalid') {
    lines.push(
      '',
      report.truncated ? `The first ${report.examples.length} problems (of ${report.errorCount}):` : `The ${plural(report.examples.length, 'problem')}:`,
    );
    for (const issue of report.examples) lines.push(`  - ${issue.message}`);
  }

  lines.push('', 'What to do next:');
  if (report.verdict === 'valid') {
    lines.push('  Nothing: the file is accepted.');
  } else if (report.verdict === 'rejected') {
    lines.push('  Follow the advice above and send the file again.');
  } else {
    lines.push(
      report.truncated
        ? '  Correct the problems listed; the counts above show how many more of each kind there are. Then send the whole file again.'
        : '  Correct the problems listed, then send the whole file again.',
    );
  }
  return `${lines.join('\n')}\n`;
}
