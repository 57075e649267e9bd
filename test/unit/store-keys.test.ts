import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors';
import { baselineKey, datasetVersionKey, evaluationByCommitKey, listings, messageKey, uploadKey } from '#store/keys';

describe('table keys', () => {
  it('pads dataset version numbers to nine digits so they sort as numbers', () => {
    // Act
    const keys = [datasetVersionKey('readings', 10), datasetVersionKey('readings', 9)];

    // Assess
    expect(keys.map((k) => k.sk)).toEqual(['V#000000010', 'V#000000009']);
    expect(keys.map((k) => k.sk).sort()).toEqual(['V#000000009', 'V#000000010']);
  });

  it.each([0, -1, 1.5, 1e9])('refuses %s as a dataset version number', (version) => {
    // Act
    const build = () => datasetVersionKey('readings', version);

    // Assess
    expect(build).toThrow(BadRequestError);
  });

  it('refuses a key part holding the "#" separator, which could reach another item', () => {
    // Act
    const build = () => uploadKey('01JD#UPLOAD');

    // Assess
    expect(build).toThrow(/must not contain "#"/);
  });

  it('refuses an empty key part', () => {
    // Act
    const build = () => messageKey('');

    // Assess
    expect(build).toThrow(/message id must not be empty/);
  });

  it('lays out link and baseline keys as DESIGN.md "Storage" does', () => {
    // Act
    const link = evaluationByCommitKey('features', 'abc123', '01JD0000000000000000000001');
    const baseline = baselineKey('forecast', 'readings', 42, 'p0');

    // Assess
    expect(link).toEqual({ pk: 'REPO#features', sk: 'COMMIT#abc123#EVAL#01JD0000000000000000000001' });
    expect(baseline).toEqual({ pk: 'BASELINE#forecast#readings@42#p0', sk: 'BASELINE' });
    expect(listings.uploadsOf('readings')).toBe('UPLOADS#readings');
  });
});
