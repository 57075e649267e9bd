import { describe, expect, it } from 'vitest';
import { commitSetId, evaluationIdFor, executionName, pointHash, requestHash } from '#evaluation/identity';
import { planRequest, pointsPerPart, type PlanInput } from '#evaluation/plan';
import { gridPoints } from '#evaluation/requests';
import { pointKey } from '#store/evaluations';

const sha = (c: string) => c.repeat(40);
const heads = { features: sha('a'), model: sha('b') };
const candidate = { features: sha('a'), model: sha('c') };
const pipeline = { stages: [{ repository: 'features' }, { repository: 'model' }] } as never;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function request(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB',
    commitSets: [heads],
    datasetVersions: [{ dataset: 'readings', version: 1 }],
    parameterPoints: [{ window: 3 }, { window: 7 }],
    repeats: 1,
    baselineCommitSet: heads,
    pointers: {},
    ...overrides,
  };
}

describe('evaluation identity', () => {
  it('identifies a commit set by its repositories and shas, whatever their order', () => {
    // Act
    const one = commitSetId({ features: sha('a'), model: sha('b') });
    const other = commitSetId({ model: sha('b'), features: sha('a') });

    // Assess
    expect(one).toBe(other);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same request hash to the same evaluation asked in another order', () => {
    // Prepare
    const base = { pipeline: 'forecast', repeats: 1, baselineCommitSet: heads };

    // Act
    const one = requestHash({ ...base, commitSets: [heads, candidate], datasetVersions: [{ dataset: 'readings', version: 1 }], parameterPoints: [{ window: 3 }, { window: 7 }] });
    const other = requestHash({ ...base, commitSets: [candidate, heads], datasetVersions: [{ dataset: 'readings', version: 1 }], parameterPoints: [{ window: 7 }, { window: 3 }] });

    // Assess
    expect(one).toBe(other);
  });

  it('changes the request hash when the baseline does', () => {
    // Prepare
    const asked = { pipeline: 'forecast', repeats: 1, commitSets: [candidate], datasetVersions: [{ dataset: 'readings', version: 1 }], parameterPoints: [{}] };

    // Act
    const before = requestHash({ ...asked, baselineCommitSet: heads });
    const after = requestHash({ ...asked, baselineCommitSet: { ...heads, model: sha('d') } });

    // Assess
    expect(before).not.toBe(after);
  });

  it('names the same evaluation for the same point of a request, as a ULID of the request’s time', () => {
    // Act
    const first = evaluationIdFor('01JD8X5Q3ZC9W8M2V7K4T6R1YB', 'point');
    const again = evaluationIdFor('01JD8X5Q3ZC9W8M2V7K4T6R1YB', 'point');
    const other = evaluationIdFor('01JD8X5Q3ZC9W8M2V7K4T6R1YB', 'another point');

    // Assess
    expect(first).toBe(again);
    expect(first).not.toBe(other);
    expect(first).toMatch(ULID);
    expect(first.slice(0, 10)).toBe('01JD8X5Q3Z');
  });

  it('names executions <pipeline>-<40 hex>[-<part>][-r<n>] within 80 characters', () => {
    // Prepare
    const hash = 'f'.repeat(64);
    const longest = 'p'.repeat(32);

    // Act
    const single = executionName('forecast', hash, 1, 1, 0);
    const part = executionName('forecast', hash, 2, 3, 0);
    const rerun = executionName(longest, hash, 12, 12, 3);

    // Assess
    expect(single).toBe(`forecast-${'f'.repeat(40)}`);
    expect(part).toBe(`forecast-${'f'.repeat(40)}-2`);
    expect(rerun.endsWith('-12-r3')).toBe(true);
    expect(rerun.length).toBeLessThanOrEqual(80);
  });
});

describe('the grid', () => {
  it('makes the product of the parameters’ values', () => {
    // Act
    const points = gridPoints({ parameters: { window: [3, 7], alpha: [0.1, 0.2] } });

    // Assess
    expect(points).toHaveLength(4);
    expect(points).toContainEqual({ window: 7, alpha: 0.2 });
  });

  it('replaces the values of the parameters given and keeps the others', () => {
    // Act
    const points = gridPoints({ parameters: { window: [3, 7], alpha: [0.1] } }, { window: [5] });

    // Assess
    expect(points).toEqual([{ alpha: 0.1, window: 5 }]);
  });

  it('refuses a parameter the pipeline does not have', () => {
    // Act
    const asking = () => gridPoints({ parameters: { window: [3] } }, { windwo: [5] });

    // Assess
    expect(asking).toThrow(/unknown parameter windwo/);
  });

  it('is one empty point without parameters', () => {
    // Assess
    expect(gridPoints({ parameters: {} })).toEqual([{}]);
  });
});

describe('planning a request', () => {
  it('evaluates the heads alone, compared with what the baseline pointer named', () => {
    // Prepare
    const key = pointKey('readings', 1, pointHash({ window: 3 }));
    const previous = { evaluationId: '01JD8X5Q3ZAAAAAAAAAAAAAAAA', commitSetId: commitSetId({ ...heads, model: sha('9') }) };

    // Act
    const plan = planRequest(request({ pointers: { [key]: previous } }), pipeline);

    // Assess
    expect(plan.points).toHaveLength(2);
    expect(plan.points.every((p) => p.phase === 'candidate' && p.isBaselineCommitSet)).toBe(true);
    expect(plan.points.find((p) => p.parameters.window === 3)?.baselineEvaluationId).toBe(previous.evaluationId);
    expect(plan.points.find((p) => p.parameters.window === 7)?.baselineEvaluationId).toBeUndefined();
  });

  it('evaluates the heads first where no evaluation of them exists, and compares the candidate with it', () => {
    // Act
    const plan = planRequest(request({ commitSets: [candidate] }), pipeline);

    // Assess
    expect(plan.points.map((p) => p.phase)).toEqual(['baseline', 'baseline', 'candidate', 'candidate']);
    const [baseline] = plan.points;
    const compared = plan.points.find((p) => p.phase === 'candidate' && p.pointHash === baseline!.pointHash);
    expect(compared?.baselineEvaluationId).toBe(baseline!.evaluationId);
  });

  it('reuses the baseline the pointer names when it is an evaluation of the heads', () => {
    // Prepare
    const key = pointKey('readings', 1, pointHash({ window: 3 }));
    const ofHeads = { evaluationId: '01JD8X5Q3ZBBBBBBBBBBBBBBBB', commitSetId: commitSetId(heads) };

    // Act
    const plan = planRequest(request({ commitSets: [candidate], pointers: { [key]: ofHeads } }), pipeline);

    // Assess
    expect(plan.points.filter((p) => p.phase === 'baseline').map((p) => p.parameters)).toEqual([{ window: 7 }]);
    expect(plan.points.find((p) => p.phase === 'candidate' && p.parameters.window === 3)?.baselineEvaluationId).toBe(ofHeads.evaluationId);
  });

  it('compares nothing when no repository has a head', () => {
    // Act
    const plan = planRequest(request({ commitSets: [candidate], baselineCommitSet: undefined }), pipeline);

    // Assess
    expect(plan.points).toHaveLength(2);
    expect(plan.points.every((p) => p.baselineEvaluationId === undefined && p.phase === 'candidate')).toBe(true);
  });

  it('cuts a large request into parts, baselines in the first', () => {
    // Prepare
    const parameterPoints = Array.from({ length: 600 }, (_, i) => ({ seed: i }));

    // Act
    const plan = planRequest(request({ commitSets: [candidate], parameterPoints }), pipeline);

    // Assess
    const size = pointsPerPart(2, 1);
    expect(size).toBeLessThanOrEqual(500);
    expect(plan.parts).toHaveLength(Math.ceil(1200 / size));
    expect(plan.parts[0]!.every((p) => p.phase === 'baseline' && p.part === 1)).toBe(true);
    expect(plan.parts.flat()).toHaveLength(1200);
  });

  it('fits fewer points in a part when stages and repeats use more history events', () => {
    // Act
    const light = pointsPerPart(1, 1);
    const heavy = pointsPerPart(5, 10);

    // Assess
    expect(heavy).toBeLessThan(light);
    expect(heavy * (6 * (3 + 50) + 8)).toBeLessThanOrEqual(20_000);
  });
});
