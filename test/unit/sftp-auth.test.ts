import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { checkPublicKey, type SftpAccount } from '#local/sftp-auth';
import { generateEd25519Pair } from '#local/sftp-keys';

/** Public-key login to the local SFTP server: the key must be the user's and the signature must verify. */
describe('SFTP public-key check', () => {
  const { utils } = ssh2;
  const keyPair = () => {
    const pair = generateEd25519Pair();
    return { private: utils.parseKey(pair.private) as ssh2.ParsedKey, public: utils.parseKey(pair.public) as ssh2.ParsedKey };
  };
  const alice = keyPair();
  const mallory = keyPair();
  const account: SftpAccount = { name: 'alice', datasets: ['readings'], keys: [{ key: alice.public, source: 'publicKeys[0]' }] };
  const offer = (key: ssh2.ParsedKey) => ({ algo: key.type, data: key.getPublicSSH() });

  it("says a key of the user's is acceptable before it is signed", () => {
    // Act
    const decision = checkPublicKey(account, offer(alice.public));

    // Assess
    expect(decision.kind).toBe('acceptable');
  });

  it("authenticates a key of the user's with a valid signature", () => {
    // Prepare
    const blob = randomBytes(64);

    // Act
    const decision = checkPublicKey(account, offer(alice.public), { blob, signature: alice.private.sign(blob) });

    // Assess
    expect(decision.kind).toBe('authenticated');
  });

  it('refuses a key that is not one of the user\'s', () => {
    // Prepare
    const blob = randomBytes(64);

    // Act
    const decision = checkPublicKey(account, offer(mallory.public), { blob, signature: mallory.private.sign(blob) });

    // Assess
    expect(decision).toMatchObject({ kind: 'refused', why: expect.stringContaining('not one of') });
  });

  it("refuses the user's key with a signature made by another key", () => {
    // Prepare
    const blob = randomBytes(64);

    // Act
    const decision = checkPublicKey(account, offer(alice.public), { blob, signature: mallory.private.sign(blob) });

    // Assess
    expect(decision).toMatchObject({ kind: 'refused', why: expect.stringContaining('signature') });
  });

  it("refuses the user's key with a signature over other data", () => {
    // Prepare
    const signature = alice.private.sign(randomBytes(64));

    // Act
    const decision = checkPublicKey(account, offer(alice.public), { blob: randomBytes(64), signature });

    // Assess
    expect(decision.kind).toBe('refused');
  });
});
