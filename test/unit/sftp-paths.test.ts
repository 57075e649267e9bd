import { describe, expect, it } from 'vitest';
import { resolveSftpPath } from '#local/sftp-paths';

/** How the local SFTP server reads a client's path: a virtual root of dataset folders, nothing else. */
describe('SFTP paths', () => {
  const datasets = ['readings', 'sites'];
  const read = (path: string) => resolveSftpPath('alice', datasets, path);

  it('reads "." and "/" as the root', () => {
    // Act
    const paths = ['.', '/', '', '//./'].map(read);

    // Assess
    expect(paths.every((p) => p.kind === 'root')).toBe(true);
  });

  it("maps a file in a dataset folder to the user's landing key", () => {
    // Act
    const path = read('/readings/data.csv');

    // Assess
    expect(path).toEqual({ kind: 'file', path: '/readings/data.csv', dataset: 'readings', name: 'data.csv', key: 'sftp/alice/readings/data.csv' });
  });

  it('reads relative paths from the root and resolves ".." that stays inside it', () => {
    // Act
    const path = read('readings/../sites/./s.jsonl');

    // Assess
    expect(path).toMatchObject({ kind: 'file', key: 'sftp/alice/sites/s.jsonl' });
  });

  it.each(['/..', '/../..', '../../etc/passwd', '/readings/../../x', '/readings/../..'])('refuses %s, which climbs above the root', (path) => {
    // Act
    const result = read(path);

    // Assess
    expect(result).toMatchObject({ kind: 'refused', why: expect.stringContaining('above the root') });
  });

  it.each(['/etc/passwd', '/bob/readings/x.csv', '/Readings/x.csv'])('refuses %s, which is not a dataset folder of the user', (path) => {
    // Act
    const result = read(path);

    // Assess
    expect(result).toMatchObject({ kind: 'refused', why: expect.stringContaining('not a dataset folder') });
  });

  it('refuses folders inside a dataset folder', () => {
    // Act
    const result = read('/readings/2024/x.csv');

    // Assess
    expect(result).toMatchObject({ kind: 'refused', why: expect.stringContaining('folders inside') });
  });

  it.each([
    ['NUL', '/readings/a\u0000.csv'],
    ['a newline', '/readings/a\n.csv'],
    ['a C1 control', '/readings/a\u0085.csv'],
    ['a backslash', '/readings/..\\..\\x.csv'],
    ['a right-to-left override', '/readings/invoice\u202Ecsv.exe'],
    ['a zero-width space', '/readings/da\u200Bta.csv'],
    ['a byte-order mark', '/readings/\uFEFFdata.csv'],
    ['invalid UTF-8 (decoded as U+FFFD)', '/readings/\uFFFD.csv'],
    ['a decomposed accent (not NFC)', '/readings/cafe\u0301.csv'],
    ['a name over 255 bytes', `/readings/${'é'.repeat(128)}.csv`],
  ])('refuses a name with %s', (_what, path) => {
    // Act
    const result = read(path);

    // Assess
    expect(result.kind).toBe('refused');
  });

  it('accepts names in NFC with accents and spaces', () => {
    // Act
    const path = read('/readings/relevés de mars.csv');

    // Assess
    expect(path).toMatchObject({ kind: 'file', key: 'sftp/alice/readings/relevés de mars.csv' });
  });
});
