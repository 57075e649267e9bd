import { describe, expect, it } from 'vitest';
import type { EvaluationComparison } from '#evaluation/service';
import { builtInParameters } from '#reports/built-ins';
import type { EvaluationRecord } from '#store/evaluations';
import type { VersionRecord } from '#store/versions';
import { config } from './api-fixtures.ts';

const version: VersionRecord = {
  dataset: 'readings',
  version: 3,
  state: 'published',
  sha256: 'a'.repeat(64),
  bytes: 2048,
  rows: 20,
  specRevision: 'r1',
  profile: { temperature: { nulls: 1, distinctEstimate: 9, min: -2, max: 30 } },
  uploadId: '01JH2QK7W3M9XG5V8RZB4TNC6D',
  sender: 'alice',
  file: 'readings.csv',
  key: 'datasets/readings/v3/readings.csv',
  reservedAt: '2025-01-07T09:00:00.000Z',
  createdAt: '2025-01-07T09:00:01.000Z',
};

function evaluation(id: string, mae: number): EvaluationRecord {
  return {
    evaluationId: id,
    requestId: '01JH2QM1A4B5C6D7E8F9G0H1J2',
    pipeline: 'forecast',
    part: 1,
    phase: 'candidate',
    commitSet: { features: 'f'.repeat(40), model: 'm'.repeat(40) },
    commitSetId: 'c'.repeat(64),
    isBaselineCommitSet: false,
    dataset: 'readings',
    version: 3,
    parameters: { window: 3 },
    pointHash: 'p',
    repeats: 1,
    status: 'succeeded',
    scores: { mae: { mean: mae, values: [mae] } },
    artifactsPrefix: `evaluations/${id}/`,
    createdAt: '2025-01-07T10:00:00.000Z',
    updatedAt: '2025-01-07T10:00:00.000Z',
    startedAt: '2025-01-07T10:00:00.000Z',
  } as EvaluationRecord;
}

describe('builtInParameters', () => {
  it('gives a dataset version’s URL, metadata with the spec’s columns, and profile', () => {
    // Act
    const values = builtInParameters({ dataset: { name: 'readings', version: 3 } }, { version, datasetUrl: 'https://signed' }, config);

    // Assess
    expect(values).toMatchObject({
      dataset_name: 'readings',
      dataset_version: 3,
      dataset_url: 'https://signed',
      dataset_format: 'csv',
      dataset_metadata: { sha256: 'a'.repeat(64), rows: 20, bytes: 2048, file: 'readings.csv', sender: 'alice' },
      dataset_profile: version.profile,
    });
    expect((values.dataset_metadata as { columns: { name: string }[] }).columns.map((c) => c.name)).toEqual(['sensor_id', 'taken_at', 'temperature', 'status']);
    expect(values).not.toHaveProperty('evaluation_scores');
  });

  it('gives an evaluation’s scores, its baseline’s and the comparison', () => {
    // Prepare
    const comparison: EvaluationComparison = {
      pipeline: 'forecast',
      head: { ...evaluation('01JH2QN2K3M4N5P6Q7R8S9T0V1', 1.4), baselineEvaluationId: '01JH2QK7W3M9XG5V8RZB4TNC6D' },
      base: evaluation('01JH2QK7W3M9XG5V8RZB4TNC6D', 1.2),
      metrics: { mae: { head: 1.4, base: 1.2, delta: 0.2, verdict: 'regressed' } as never },
      verdict: 'regressed',
      regressed: true,
    };

    // Act
    const values = builtInParameters({ evaluationId: '01JH2QN2K3M4N5P6Q7R8S9T0V1' }, { comparison }, config);

    // Assess
    expect(values).toMatchObject({
      evaluation_id: '01JH2QN2K3M4N5P6Q7R8S9T0V1',
      evaluation: { pipeline: 'forecast', dataset: 'readings', version: 3, baseline_id: '01JH2QK7W3M9XG5V8RZB4TNC6D' },
      evaluation_scores: { mae: 1.4 },
      baseline_scores: { mae: 1.2 },
      comparison: { verdict: 'regressed', regressed: true, metrics: { mae: { delta: 0.2 } } },
    });
    expect(values).not.toHaveProperty('dataset_url');
  });

  it('gives None as the baseline scores and outputs of an evaluation without a baseline', () => {
    // Prepare
    const comparison: EvaluationComparison = { pipeline: 'forecast', head: evaluation('01JH2QN2K3M4N5P6Q7R8S9T0V1', 1.4), metrics: {}, verdict: 'no-baseline', regressed: false };

    // Act
    const values = builtInParameters({ evaluationId: '01JH2QN2K3M4N5P6Q7R8S9T0V1' }, { comparison }, config);

    // Assess
    expect(values.baseline_scores).toBeNull();
    expect(values.baseline_outputs).toBeNull();
    expect(values.evaluation_outputs).toEqual({});
  });
});
