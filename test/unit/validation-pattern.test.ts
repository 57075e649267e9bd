import { describe, expect, it } from 'vitest';
import { compilePattern } from '#validation/pattern';

/** Whether `pattern` accepts `text`, as the validator tests a cell's bytes. */
function accepts(pattern: string, text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  return compilePattern(pattern)(bytes, 0, bytes.length, bytes.length !== text.length);
}

const patterns = [
  '^S[0-9]{4}$',
  '^[A-Z]{2}-\\d{3,5}$',
  '^a*b?a$',
  '^[a-z]+\\.[a-z]{2,}$',
  '^\\w+$',
  '^x?y*z+$',
  '^[-a]+$',
  '^ab|cd$',
  '^(ab)+$',
  '^.{2}$',
  'S\\d',
  '^[^0-9]+$',
  '^é+$',
  '^\\d{2,}$',
];
const alphabet = ['S', 'a', 'b', 'z', 'y', 'x', 'A', 'Z', '0', '5', '9', '-', '.', '_', 'é', ' ', 'c', 'd'];

describe('column patterns', () => {
  it('answers as the RegExp does, on a thousand strings per pattern', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const samples = Array.from({ length: 1000 }, () => Array.from({ length: random(8) + 1 }, () => alphabet[random(alphabet.length)]).join(''));
    samples.push('S0001', 'S00011', 'AB-123', 'AB-123456', 'aa', 'aba', 'a', 'ab.cd', 'x_1', 'é', 'ééé', '12');
    const disagreements: string[] = [];

    for (const pattern of patterns) {
      const regexp = new RegExp(pattern, 'u');
      for (const sample of samples) if (accepts(pattern, sample) !== regexp.test(sample)) disagreements.push(`${pattern} on ${sample}`);
    }

    expect(disagreements).toEqual([]);
  });

  it('refuses a non-ASCII value for an ASCII pattern without decoding it', () => {
    const result = accepts('^S[0-9]{4}$', 'S00０1');

    expect(result).toBe(false);
  });
});
