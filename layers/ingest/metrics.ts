import type { MetricSink } from '#shared/metrics';
import type { IngestOutcome } from './ingest-upload.ts';

/**
 * What ingest tells operations about an upload: `Uploads` by outcome and dataset, and for a file
 * that was read to its end, how long it took and how fast (`IngestSeconds`, `IngestMegabytesPerSecond`).
 * A skipped file or a duplicate delivery counts nothing.
 */
export function recordIngestMetrics(sink: MetricSink, outcome: IngestOutcome, elapsedMs: number): void {
  if (outcome.kind === 'skipped' || outcome.kind === 'duplicate') return;
  const dataset = outcome.upload.dataset ?? 'unknown';
  sink.count('Uploads', { outcome: outcome.kind, dataset });
  if (outcome.kind === 'rejected' || elapsedMs <= 0) return;
  const seconds = elapsedMs / 1000;
  sink.measure('IngestSeconds', 'Seconds', seconds, { dataset });
  if (outcome.upload.size) sink.measure('IngestMegabytesPerSecond', 'MegabytesPerSecond', outcome.upload.size / 1e6 / seconds, { dataset });
}

/** An upload that failed on its last try (its message goes to the DLQ). */
export function recordIngestFailure(sink: MetricSink, dataset: string | undefined): void {
  sink.count('Uploads', { outcome: 'failed', dataset: dataset ?? 'unknown' });
}
