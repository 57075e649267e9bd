import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519Pair } from '#local/sftp-keys';

/** The key pairs the local SFTP server generates for itself and for the demo user. */
describe('generated ed25519 key pairs', () => {
  it('are always readable back, though ssh2 alone writes an unreadable pair about once in 300', () => {
    // Act: enough pairs that ssh2's short public keys (a leading zero byte dropped) would show up
    const pairs = Array.from({ length: 3000 }, () => generateEd25519Pair('demo@symbiont-local'));

    // Assess
    const unreadable = pairs.filter((pair) => ssh2.utils.parseKey(pair.public) instanceof Error || ssh2.utils.parseKey(pair.private) instanceof Error);
    expect(unreadable).toEqual([]);
    expect(pairs[0]!.public).toMatch(/^ssh-ed25519 AAAA\S+ demo@symbiont-local$/);
  });
});
