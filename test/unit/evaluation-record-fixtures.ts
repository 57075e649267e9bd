import type { EvaluationRecord } from '#store/evaluations';

/**
 * Shared by the unit tests that need an evaluation as the store keeps it (the API's routes, the CLI's
 * fake API): a succeeded candidate of `forecast` on readings version 1 with window 3, changed by
 * `overrides`. The artifacts prefix follows the evaluation's id.
 */

export const EVALUATION_ID = '01JH2QN2K3M4N5P6Q7R8S9T0V1';

export function evaluationRecord(overrides: Partial<EvaluationRecord> = {}): EvaluationRecord {
  const evaluationId = overrides.evaluationId ?? EVALUATION_ID;
  return {
    evaluationId,
    requestId: '01JH2QK7W3M9XG5V8RZB4TNC6D',
    pipeline: 'forecast',
    part: 1,
    phase: 'candidate',
    commitSet: { features: 'a'.repeat(40), model: 'b'.repeat(40) },
    commitSetId: 'c'.repeat(64),
    isBaselineCommitSet: false,
    dataset: 'readings',
    version: 1,
    parameters: { window: 3 },
    pointHash: 'p',
    repeats: 1,
    status: 'succeeded',
    artifactsPrefix: `evaluations/${evaluationId}/`,
    createdAt: '2025-01-06T09:00:00.000Z',
    updatedAt: '2025-01-06T09:00:00.000Z',
    startedAt: '2025-01-06T09:00:00.000Z',
    ...overrides,
  };
}
