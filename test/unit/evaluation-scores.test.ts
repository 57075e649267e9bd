import { describe, expect, it } from 'vitest';
import { InvalidMetricsError } from '#evaluation/errors';
import { compareScores, noiseOf, parseMetrics, scoreRepeats } from '#evaluation/scores';

const mae = { mae: { goal: 'min' as const, tolerance: { relative: 0.02 } } };
const score = (mean: number) => ({ mean, values: [mean] });

describe('metrics.json', () => {
  it('reads an object of numbers', () => {
    // Assess
    expect(parseMetrics('{"mae": 1.25, "rows": 10}', 'metrics.json')).toEqual({ mae: 1.25, rows: 10 });
  });

  it('refuses a metric that is not a finite number, naming it', () => {
    // Act
    const reading = () => parseMetrics('{"mae": "1.2", "rmse": null}', 'metrics.json of stage model');

    // Assess
    expect(reading).toThrow(InvalidMetricsError);
    expect(reading).toThrow(/mae is "1.2", rmse is null/);
  });

  it('refuses text that is not JSON', () => {
    // Assess
    expect(() => parseMetrics('mae=1.2', 'metrics.json')).toThrow(/is not JSON/);
  });

  it('refuses JSON that is not an object', () => {
    // Assess
    expect(() => parseMetrics('[1, 2]', 'metrics.json')).toThrow(/must be a JSON object of numbers/);
  });
});

describe('scores', () => {
  it('scores repeats by their mean and standard deviation', () => {
    // Act
    const scores = scoreRepeats([{ mae: 1 }, { mae: 2 }, { mae: 3 }], ['mae']);

    // Assess
    expect(scores.mae).toEqual({ mean: 2, spread: 1, n: 3, values: [1, 2, 3] });
  });

  it('fails a point whose metrics lack one the pipeline declares', () => {
    // Assess
    expect(() => scoreRepeats([{ rmse: 1 }], ['mae'])).toThrow(/lacks mae/);
  });
});

describe('comparing with the baseline', () => {
  it('flags a lower-is-better metric that rose beyond its relative tolerance', () => {
    // Act
    const comparison = compareScores({ mae: score(1.03) }, { mae: score(1) }, mae);

    // Assess
    expect(comparison.regressed).toBe(true);
    expect(comparison.metrics.mae).toMatchObject({ base: 1, head: 1.03, verdict: 'regressed' });
    expect(comparison.metrics.mae!.delta).toBeCloseTo(0.03);
    expect(comparison.metrics.mae!.allowed).toBeCloseTo(0.02);
  });

  it('keeps a change within the tolerance unchanged', () => {
    // Act
    const comparison = compareScores({ mae: score(1.015) }, { mae: score(1) }, mae);

    // Assess
    expect(comparison.verdict).toBe('unchanged');
    expect(comparison.regressed).toBe(false);
  });

  it('calls a fall of a lower-is-better metric beyond the tolerance an improvement', () => {
    // Assess
    expect(compareScores({ mae: score(0.9) }, { mae: score(1) }, mae).verdict).toBe('improved');
  });

  it('flags a higher-is-better metric that fell beyond an absolute tolerance', () => {
    // Prepare
    const accuracy = { accuracy: { goal: 'max' as const, tolerance: { absolute: 0.01 } } };

    // Act
    const comparison = compareScores({ accuracy: score(0.9) }, { accuracy: score(0.92) }, accuracy);

    // Assess
    expect(comparison.metrics.accuracy!.verdict).toBe('regressed');
  });

  it('allows absolute plus relative when both are given', () => {
    // Prepare
    const both = { mae: { goal: 'min' as const, tolerance: { absolute: 0.05, relative: 0.02 } } };

    // Act
    const comparison = compareScores({ mae: score(1.06) }, { mae: score(1) }, both);

    // Assess
    expect(comparison.metrics.mae!.allowed).toBeCloseTo(0.07);
    expect(comparison.verdict).toBe('unchanged');
  });

  it('says no-baseline without a baseline, and flags nothing', () => {
    // Act
    const comparison = compareScores({ mae: score(1) }, undefined, mae);

    // Assess
    expect(comparison.verdict).toBe('no-baseline');
    expect(comparison.regressed).toBe(false);
    expect(comparison.metrics.mae).toEqual({ goal: 'min', head: 1, verdict: 'no-baseline' });
  });
});

describe('verdicts of repeated (noisy) metrics', () => {
  const repeated = (...values: number[]) => scoreRepeats([...values.map((v) => ({ mae: v }))], ['mae']).mae!;
  const noisy = { mae: { goal: 'min' as const, tolerance: { relative: 0.01 } } };

  it('does not flag a change beyond the tolerance that stays within the noise of the repeats', () => {
    // Arrange: base mean 1.00, head mean 1.05 (+5 %, beyond the 1 % tolerance); spreads ≈ 0.1
    const base = repeated(0.9, 1.0, 1.1);
    const head = repeated(0.95, 1.05, 1.15);

    // Act
    const comparison = compareScores({ mae: head }, { mae: base }, noisy);

    // Assess: noise = 2 × sqrt(0.1²/3 + 0.1²/3) ≈ 0.163 > 0.05
    expect(comparison.metrics.mae).toMatchObject({ verdict: 'unchanged' });
    expect(comparison.metrics.mae!.noise).toBeCloseTo(2 * Math.sqrt((0.01 / 3) * 2), 6);
    expect(comparison.regressed).toBe(false);
  });

  it('flags the same spread once the change stands out of the noise', () => {
    // Arrange: head mean 1.30 (+30 %), noise ≈ 0.163
    const base = repeated(0.9, 1.0, 1.1);
    const head = repeated(1.2, 1.3, 1.4);

    // Act
    const comparison = compareScores({ mae: head }, { mae: base }, noisy);

    // Assess
    expect(comparison.metrics.mae).toMatchObject({ verdict: 'regressed' });
    expect(comparison.regressed).toBe(true);
  });

  it('flags a change within the noise but never one within the tolerance, whatever the noise', () => {
    // Arrange: no spread at all — the tolerance alone decides
    const steady = compareScores({ mae: repeated(1.05, 1.05) }, { mae: repeated(1, 1) }, noisy);
    const tolerated = compareScores({ mae: repeated(1.005, 1.005) }, { mae: repeated(1, 1) }, noisy);

    // Assess
    expect(steady.metrics.mae).toMatchObject({ verdict: 'regressed' });
    expect(steady.metrics.mae!.noise).toBeUndefined();
    expect(tolerated.metrics.mae).toMatchObject({ verdict: 'unchanged' });
  });

  it('scores one run with n = 1 and no spread, which adds no noise', () => {
    // Act
    const once = scoreRepeats([{ mae: 2 }], ['mae']).mae!;

    // Assess
    expect(once).toEqual({ mean: 2, n: 1, values: [2] });
    expect(noiseOf(once, once)).toBe(0);
  });
});
