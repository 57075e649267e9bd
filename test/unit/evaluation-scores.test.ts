import { describe, expect, it } from 'vitest';
import { InvalidMetricsError } from '#evaluation/errors';
import { compareScores, parseMetrics, scoreRepeats } from '#evaluation/scores';

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
    expect(scores.mae).toEqual({ mean: 2, spread: 1, values: [1, 2, 3] });
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
