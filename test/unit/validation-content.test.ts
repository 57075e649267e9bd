import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { isUtf8Range } from '#validation/content';

describe('UTF-8 check of a cell', () => {
  it('agrees with node\'s isUtf8 on random short byte runs, overlong forms, surrogates and cut sequences included', () => {
    let seed = 5;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Bytes near every boundary of table 3-7, so that edge cases come up often.
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
    const mismatches: number[][] = [];
    let valid = 0;

    for (let round = 0; round < 20_000; round++) {
      const bytes = Uint8Array.from({ length: 1 + random(8) }, () => interesting[random(interesting.length)]!);
      const framed = Uint8Array.from([0x2c, ...bytes, 0x2c]);
      const ours = isUtf8Range(framed, 1, framed.length - 1);
      if (ours !== isUtf8(bytes)) mismatches.push([...bytes]);
      if (ours) valid++;
    }

    expect(valid).toBeGreaterThan(200);
    expect(mismatches).toEqual([]);
  });

  it('checks long values too', () => {
    const text = Buffer.from(`${'é'.repeat(100)}\u{1f600}`);

    const results = [isUtf8Range(text, 0, text.length), isUtf8Range(text, 0, text.length - 1)];

    expect(results).toEqual([true, false]);
  });
});
