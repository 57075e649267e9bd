import { availableParallelism } from 'node:os';
import type { DatasetSpec } from '#config/schema';
import { TextPrelude, type ContentReader } from './content.ts';
import { CsvReader } from './csv-reader.ts';
import { readInput, type Rejection } from './input.ts';
import { IssueCollector, type Rule, type ValidationIssue } from './issues.ts';
import { JsonlReader } from './jsonl-reader.ts';
import { Phrasing } from './messages.ts';
import type { ColumnProfile } from './profile.ts';
import { RowChecker } from './row-checker.ts';
import { normalizeSpec, specRevision } from './spec.ts';

export type { ValidationIssue, Rule } from './issues.ts';
export type { ColumnProfile } from './profile.ts';
export type { Rejection } from './input.ts';

/** The outcome of validating one file. Its JSON form is the machine-readable report. */
export interface ValidationReport {
  /** True exactly when `verdict` is `valid`. */
  readonly valid: boolean;
  /**
   * `valid`: publishable. `invalid`: read to a verdict and found wrong (quarantine, with this
   * report). `rejected`: not processable as sent — too large, or a decompression bomb.
   */
  readonly verdict: 'valid' | 'invalid' | 'rejected';
  readonly fileName: string;
  /** The revision of the spec the file was validated against ({@link specRevision}). */
  readonly specRevision: string;
  /** Bytes as received. */
  readonly bytes: number;
  /** Bytes after gunzip; equal to `bytes` for plain input. */
  readonly uncompressedBytes: number;
  /** Whether the input was gzip (recognised by its magic bytes). */
  readonly compressed: boolean;
  /** Data rows read (CSV: records after the header; JSONL: non-blank lines). */
  readonly rows: number;
  /** sha256 (hex) of the bytes as received; absent when reading stopped before the end (a rejection). */
  readonly sha256?: string;
  /** Every issue found, including those past the examples limit. */
  readonly errorCount: number;
  /** More issues were found than `examples` holds. */
  readonly truncated: boolean;
  readonly countsByRule: Partial<Record<Rule, number>>;
  /** Issues per column name (row- and file-level issues are not counted here). */
  readonly countsByColumn: Record<string, number>;
  /** The first issues in full, in the order found. */
  readonly examples: readonly ValidationIssue[];
  /** Per spec column: nulls, valid values, min/max, distinct estimate. */
  readonly profile: Record<string, ColumnProfile>;
  /** Present when the verdict is `rejected`. */
  readonly rejection?: Rejection;
}

export interface ValidateOptions {
  /** Names the file in the report. */
  readonly fileName: string;
  /** The dataset's name, used in messages ("the dataset "readings" expects …"). */
  readonly dataset?: string;
  /** Issues kept in full; the rest are only counted. @default 100 */
  readonly maxExamples?: number;
  /** The size the sender announced (e.g. S3 Content-Length): too large is refused before reading. */
  readonly declaredBytes?: number;
  /** A longer CSV value is an error. @default 1 MiB */
  readonly maxFieldBytes?: number;
  /** A longer CSV row or JSONL line is skipped and reported; bounds memory. @default 4 MiB */
  readonly maxRecordBytes?: number;
  /**
   * Distinct unique-key values checked in memory; past this many the check goes on in partition
   * files on disk and its duplicates are found once the file is read (README "Unique keys").
   * @default 500,000 (~20 MB)
   */
  readonly keysInMemory?: number;
  /** Where the unique-key check writes its partition files (a folder of its own, removed at the end). @default os.tmpdir() */
  readonly spillDirectory?: string;
  /**
   * Inflate gzip input on a worker thread, so unpacking overlaps with checking (a second core does
   * the unpacking). @default true when `declaredBytes` is at least 1 MiB (starting a thread costs
   * ~30 ms: not worth it for small files) and the machine has two cores or more (a Lambda function
   * below 1,769 MB has less than one: a second thread would only take turns with the first)
   */
  readonly inflateOffThread?: boolean;
}

/**
 * Validates one file against a dataset spec in a single streaming pass, in bounded memory: the
 * bytes are hashed, gunzipped when they start with the gzip magic bytes, parsed (CSV or JSONL),
 * and every cell is checked. Every issue is counted; the first `maxExamples` are kept with file
 * position, value and a message saying what to do. A bad file is a verdict, never an exception.
 *
 * @param input The file's bytes, in chunks of any size (a Node Readable is one).
 * @throws InputReadError when reading `input` fails (not the file's fault: retry).
 * @throws UnusableSpecError when `spec` does not satisfy the config schema.
 */
export async function validateStream(
  input: AsyncIterable<Uint8Array>,
  spec: DatasetSpec,
  options: ValidateOptions,
): Promise<ValidationReport> {
  const normalized = normalizeSpec(spec);
  const revision = specRevision(normalized);
  const phrasing = new Phrasing(normalized.format, options.dataset);
  const maxExamples = options.maxExamples ?? 100;
  const issues = new IssueCollector(maxExamples);
  const checker = new RowChecker(normalized, issues, phrasing, {
    keepFirst: maxExamples,
    ...(options.keysInMemory === undefined ? {} : { memoryKeys: options.keysInMemory }),
    ...(options.spillDirectory === undefined ? {} : { spillDirectory: options.spillDirectory }),
  });
  const limits = { maxFieldBytes: options.maxFieldBytes, maxRecordBytes: options.maxRecordBytes, expectedBytes: options.declaredBytes };
  const formatReader: ContentReader =
    normalized.format === 'csv'
      ? new CsvReader(normalized, checker, issues, phrasing, limits)
      : new JsonlReader(normalized, checker, issues, phrasing, limits);
  const reader = new TextPrelude(formatReader, issues, normalized.format);

  let summary;
  try {
    summary = await readInput(
      input,
      {
        maxBytes: normalized.maxBytes,
        maxGzipRatio: normalized.maxGzipRatio,
        datasetName: phrasing.datasetName,
        declaredBytes: options.declaredBytes,
        inflateOffThread: options.inflateOffThread ?? ((options.declaredBytes ?? 0) >= 1 << 20 && availableParallelism() >= 2),
      },
      reader,
      issues,
    );
    if (!summary.rejection) checker.finishKeys();
  } finally {
    checker.close();
  }

  const verdict = summary.rejection ? 'rejected' : issues.errorCount > 0 ? 'invalid' : 'valid';
  return {
    valid: verdict === 'valid',
    verdict,
    fileName: options.fileName,
    specRevision: revision,
    bytes: summary.bytes,
    uncompressedBytes: summary.uncompressedBytes,
    compressed: summary.compressed,
    rows: reader.rows,
    ...(summary.sha256 === undefined ? {} : { sha256: summary.sha256 }),
    errorCount: issues.errorCount,
    truncated: issues.truncated,
    countsByRule: issues.countsByRule,
    countsByColumn: issues.countsByColumn,
    examples: issues.examples,
    profile: checker.profile(),
    ...(summary.rejection ? { rejection: summary.rejection } : {}),
  };
}

