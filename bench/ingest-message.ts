import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIngestRecord } from '#ingest/messages';
import { timeMedian, type Benchmark } from './harness.ts';

const root = join(import.meta.dirname, '..');

/**
 * What validating queue messages at the edge costs: an S3-via-SQS record normalised by the zod
 * schemas (extending Powertools' S3 and SQS schemas) beside the bare JSON.parse of the same body.
 */
export const ingestMessageBenchmark: Benchmark = {
  name: 'ingest-message',
  description: 'S3-via-SQS record → ingest message (zod) vs JSON.parse of the body',
  async run({ quick }) {
    const event = JSON.parse(readFileSync(join(root, 'events/s3/object-created-put.json'), 'utf8')) as { Records: unknown[] };
    const record = event.Records[0] as { body: string };
    const count = quick ? 5_000 : 20_000;
    const parse = () => {
      for (let i = 0; i < count; i++) parseIngestRecord(record);
    };
    const bare = () => {
      for (let i = 0; i < count; i++) JSON.parse(record.body);
    };
    const ours = await timeMedian(parse, 5);
    const baseline = await timeMedian(bare, 5);
    return [
      {
        metric: 'records per second',
        value: count / (ours / 1000),
        unit: 'rec/s',
        better: 'higher',
        baseline: { label: 'JSON.parse only', value: count / (baseline / 1000) },
        // A batch of ten must be parsed in well under a millisecond.
        target: { on: 'value', op: '>=', value: 20_000 },
      },
    ];
  },
};
