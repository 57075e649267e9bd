import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadRecord } from '#store/store';
import { generateCorpus } from '../corpus/generate.ts';
import { exampleConfig, repoRoot } from './local-helpers.ts';
import { type IngestRuntime, outcomeOfSlot, putLanding, readObject, startIngestRuntime } from './ingest-helpers.ts';

/**
 * The validation corpus (test/corpus/expected.json) through the local runtime: every file PUT to
 * `api/<dataset>/<slot>/<file>` ends with the outcome its verdict calls for — `valid` published,
 * `invalid` quarantined with the expected first problem in its stored report, `rejected`
 * rejected with the rule in its reason — nothing crashes, and every original is in the data
 * bucket under datasets/, quarantine/ or rejected/.
 */

interface CorpusCase {
  readonly file: string;
  readonly spec: string;
  readonly override?: Record<string, unknown>;
  readonly generated?: boolean;
  readonly verdict: 'valid' | 'invalid' | 'rejected';
  readonly first?: { readonly rule: string; readonly row?: number; readonly column?: string };
}

const corpusDir = join(repoRoot, 'test', 'corpus');
const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as { specs: Record<string, unknown>; cases: CorpusCase[] };
const configured = JSON.parse(readFileSync(exampleConfig, 'utf8')).datasets as Record<string, unknown>;
const outcomeOf = { valid: 'published', invalid: 'quarantined', rejected: 'rejected' } as const;

/** The dataset a case is uploaded to: its spec's name, or one of its own when it lays an override over the spec. */
function datasetOf(entry: CorpusCase): string {
  return entry.override ? `${entry.spec}-${entry.file.replace(/[^a-z0-9]+/g, '-')}`.slice(0, 64) : entry.spec;
}

/** Every spec the corpus uses, as configured datasets (the inline ones of expected.json included). */
function corpusDatasets(): Record<string, unknown> {
  const datasets: Record<string, unknown> = {};
  for (const entry of expected.cases) {
    const base = configured[entry.spec] ?? expected.specs[entry.spec];
    datasets[datasetOf(entry)] = { ...structuredClone(base as object), ...entry.override };
  }
  return datasets;
}

const slotOf = (index: number) => `corpus-${String(index).padStart(3, '0')}`;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('the validation corpus through the local runtime', () => {
  let ctx: IngestRuntime;
  let generatedDir = '';
  const bytesOf = new Map<string, Buffer>();

  beforeAll(async () => {
    generatedDir = mkdtempSync(join(tmpdir(), 'symbiont-ingest-corpus-'));
    generateCorpus(generatedDir);
    ctx = await startIngestRuntime({
      label: 'ingest-corpus',
      config: { datasets: corpusDatasets() },
      queueOverrides: { ingest: { visibilityTimeoutSeconds: 120 } },
    });
    // Every file is sent before any is checked, a few at a time, as a busy day would send them.
    const queue = expected.cases.map((entry, index) => ({ entry, index }));
    const sender = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const bytes = readFileSync(join(next.entry.generated ? generatedDir : corpusDir, next.entry.file));
        bytesOf.set(next.entry.file, bytes);
        await putLanding(ctx, `api/${datasetOf(next.entry)}/${slotOf(next.index)}/${next.entry.file}`, bytes);
      }
    };
    await Promise.all(Array.from({ length: 4 }, sender));
  }, 300_000);

  afterAll(async () => {
    await ctx?.stop();
    if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
  });

  it('sends at least 40 corpus files', () => {
    expect(expected.cases.length).toBeGreaterThanOrEqual(40);
  });

  expected.cases.forEach((entry, index) => {
    const outcome = outcomeOf[entry.verdict];
    it(`ends ${entry.file} ${outcome}${entry.first ? ` by ${entry.first.rule}` : ''}, its original in the data bucket`, async () => {
      // Act
      const upload: UploadRecord = await outcomeOfSlot(ctx, slotOf(index), 120_000);

      // Assess
      expect(upload.status).toBe(outcome);
      const data = ctx.runtime.endpoints.buckets.data;
      const prefix = { published: `datasets/${datasetOf(entry)}/v`, quarantined: `quarantine/${upload.uploadId}/`, rejected: `rejected/${upload.uploadId}/` }[outcome];
      expect(upload.outcomeKey?.startsWith(prefix)).toBe(true);
      const original = await readObject(ctx, data, upload.outcomeKey!);
      expect(original && sha(original)).toBe(sha(bytesOf.get(entry.file)!));
      if (outcome === 'quarantined') {
        const first = upload.report?.examples[0];
        expect({ rule: first?.rule, row: first?.row, column: first?.column }).toEqual({ row: undefined, column: undefined, ...entry.first });
        expect(await readObject(ctx, data, upload.report!.jsonKey)).toBeDefined();
      }
      if (outcome === 'rejected') {
        const reason = JSON.parse(String(await readObject(ctx, data, `rejected/${upload.uploadId}/reason.json`)));
        expect(reason).toMatchObject({ status: 'rejected', rule: entry.first?.rule, reason: upload.reason });
      }
    });
  });

  it('crashes on nothing: every handler invocation succeeded and the DLQ is empty', async () => {
    // Act
    const dlq = await ctx.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: ctx.runtime.endpoints.queues.ingest.deadLetterUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );

    // Assess
    expect(ctx.batches.length).toBeGreaterThan(0);
    expect(ctx.batches.flatMap((batch) => batch.failedIds)).toEqual([]);
    expect(dlq.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});
