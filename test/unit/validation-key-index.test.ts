import { describe, expect, it } from 'vitest';
import { KeyBuilder, KeyIndex } from '#validation/key-index';

const text = (value: string): Uint8Array => Buffer.from(value);

/** The key bytes of string parts, as the validator builds them. */
function keyOf(...parts: string[]): { bytes: Uint8Array; length: number } {
  const builder = new KeyBuilder();
  for (const part of parts) {
    const bytes = text(part);
    builder.addBytes(bytes, 0, bytes.length);
  }
  return { bytes: builder.bytes.slice(0, builder.length), length: builder.length };
}

describe('unique-key index', () => {
  it('returns 0 for a new key and the first row for a repeated one', () => {
    const index = new KeyIndex();
    const key = keyOf('S0001', '2024-01-31T12:00:00Z');

    const first = index.add(key.bytes, key.length, 7);
    const again = index.add(key.bytes, key.length, 9);

    expect([first, again]).toEqual([0, 7]);
  });

  it('does not confuse ("a,b", "c") with ("a", "b,c") or ("ab", "c")', () => {
    const index = new KeyIndex();
    const keys = [keyOf('a,b', 'c'), keyOf('a', 'b,c'), keyOf('ab', 'c'), keyOf('a', 'bc'), keyOf('', 'abc')];

    const results = keys.map((key, i) => index.add(key.bytes, key.length, i + 1));

    expect(results).toEqual([0, 0, 0, 0, 0]);
  });

  it('confirms hash matches by the bytes: keys that all collide are never reported as duplicates', () => {
    const index = new KeyIndex(() => 42);
    const keys = Array.from({ length: 500 }, (_, i) => keyOf(`S${i}`));

    const fresh = keys.map((key, i) => index.add(key.bytes, key.length, i + 1));
    const repeated = keys.map((key, i) => index.add(key.bytes, key.length, i + 1000));

    expect(fresh.every((row) => row === 0)).toBe(true);
    expect(repeated).toEqual(keys.map((_, i) => i + 1));
  });

  it('finds every duplicate among 300,000 keys across its growth, and no false one', () => {
    const index = new KeyIndex();
    const count = 300_000;

    let falseDuplicates = 0;
    for (let i = 0; i < count; i++) {
      const key = keyOf(`sensor-${i}`, String(i % 97));
      if (index.add(key.bytes, key.length, i + 1) !== 0) falseDuplicates++;
    }
    let found = 0;
    for (let i = 0; i < count; i += 3) {
      const key = keyOf(`sensor-${i}`, String(i % 97));
      if (index.add(key.bytes, key.length, count + i + 1) === i + 1) found++;
    }

    expect(falseDuplicates).toBe(0);
    expect(found).toBe(Math.ceil(count / 3));
    expect(index.size).toBe(count);
  });

  it('keeps the keys it holds when it is sized up for more', () => {
    const index = new KeyIndex();
    const keys = Array.from({ length: 1000 }, (_, i) => keyOf(`k${i}`));
    keys.forEach((key, i) => index.add(key.bytes, key.length, i + 1));

    index.reserve(1_000_000);
    const again = keys.map((key, i) => index.add(key.bytes, key.length, i + 5000));

    expect(again).toEqual(keys.map((_, i) => i + 1));
    expect(index.allocatedBytes).toBeGreaterThan(8 * 1_000_000);
  });

  it('writes numbers by value, so 7 and 7.0 make the same key and -0 is not special', () => {
    const a = new KeyBuilder();
    const b = new KeyBuilder();

    a.addNumber(7);
    b.addNumber(Number('7.0'));

    expect(a.bytes.slice(0, a.length)).toEqual(b.bytes.slice(0, b.length));
  });

  it('writes distinct instants and numbers, negative and large ones included, as distinct keys', () => {
    const index = new KeyIndex();
    const builders = [
      (k: KeyBuilder) => k.addInstant(0, 0),
      (k: KeyBuilder) => k.addInstant(-1, 0),
      (k: KeyBuilder) => k.addInstant(1, 0),
      (k: KeyBuilder) => k.addInstant(1, 1),
      (k: KeyBuilder) => k.addInstant(128, 0),
      (k: KeyBuilder) => k.addNumber(0),
      (k: KeyBuilder) => k.addNumber(-1),
      (k: KeyBuilder) => k.addNumber(Number.MAX_SAFE_INTEGER),
      (k: KeyBuilder) => k.addNumber(-Number.MAX_SAFE_INTEGER),
      (k: KeyBuilder) => k.addNumber(0.5),
      (k: KeyBuilder) => k.addNumber(2 ** 60),
    ];

    const results = builders.map((build, i) => {
      const key = new KeyBuilder();
      build(key);
      return index.add(key.bytes, key.length, i + 1);
    });

    expect(results.every((row) => row === 0)).toBe(true);
  });

  it('tells a null part from an empty text part', () => {
    const index = new KeyIndex();
    const withNull = new KeyBuilder();
    const withEmpty = new KeyBuilder();
    withNull.addNull();
    withEmpty.addBytes(new Uint8Array(0), 0, 0);

    const results = [index.add(withNull.bytes, withNull.length, 1), index.add(withEmpty.bytes, withEmpty.length, 2)];

    expect(results).toEqual([0, 0]);
  });
});
