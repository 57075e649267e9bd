import { describe, expect, it, vi } from 'vitest';
import { recordIngestFailure, recordIngestMetrics } from '#ingest/metrics';
import type { IngestOutcome } from '#ingest/ingest-upload';
import { metrics, type MetricSink } from '#shared/metrics';
import type { UploadRecord } from '#store/uploads';

/** What ingest counts for operations: uploads by outcome and dataset, and how fast files went through. */

function recorder() {
  const points: unknown[] = [];
  const sink: MetricSink = {
    count: (name, dimensions = {}, value = 1) => void points.push({ name, value, ...dimensions }),
    measure: (name, unit, value, dimensions = {}) => void points.push({ name, unit, value, ...dimensions }),
  };
  return { sink, points };
}

const upload = { uploadId: '01J0000000000000000000000A', dataset: 'readings', size: 50_000_000 } as UploadRecord;

describe('ingest metrics', () => {
  it('counts a published upload and measures its seconds and MB/s', () => {
    const { sink, points } = recorder();
    recordIngestMetrics(sink, { kind: 'published', upload, version: {} as never, matched: false }, 2_000);
    expect(points).toEqual([
      { name: 'Uploads', value: 1, outcome: 'published', dataset: 'readings' },
      { name: 'IngestSeconds', unit: 'Seconds', value: 2, dataset: 'readings' },
      { name: 'IngestMegabytesPerSecond', unit: 'MegabytesPerSecond', value: 25, dataset: 'readings' },
    ]);
  });

  it('counts a rejected upload without a speed, and nothing for a duplicate or a skipped file', () => {
    const { sink, points } = recorder();
    recordIngestMetrics(sink, { kind: 'rejected', upload }, 10);
    recordIngestMetrics(sink, { kind: 'duplicate' } as IngestOutcome, 10);
    recordIngestMetrics(sink, { kind: 'skipped', key: 'api/x/.part', why: 'unfinished' }, 10);
    expect(points).toEqual([{ name: 'Uploads', value: 1, outcome: 'rejected', dataset: 'readings' }]);
  });

  it('counts an upload that failed on its last try', () => {
    const { sink, points } = recorder();
    recordIngestFailure(sink, undefined);
    expect(points).toEqual([{ name: 'Uploads', value: 1, outcome: 'failed', dataset: 'unknown' }]);
  });

  it('writes each point as a CloudWatch embedded-metric line in the Symbiont namespace', () => {
    // Prepare
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    try {
      metrics.count('Uploads', { outcome: 'published', dataset: 'readings' });
    } finally {
      write.mockRestore();
    }

    // Assess
    const emf = JSON.parse(lines.find((line) => line.includes('CloudWatchMetrics'))!) as Record<string, any>;
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Symbiont', Metrics: [{ Name: 'Uploads', Unit: 'Count' }] });
    expect(emf._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['outcome', 'dataset']));
    expect(emf).toMatchObject({ Uploads: 1, outcome: 'published', dataset: 'readings' });
  });
});
