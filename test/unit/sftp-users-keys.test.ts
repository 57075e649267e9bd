import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidPublicKeyError } from '#sftp/errors';
import { isFingerprint, parsePublicKey } from '#sftp/public-keys';
import { ecdsaLine, ed25519Line, mismatchedLine, rsaLine } from './sftp-users-fixtures.ts';

/** Whether OpenSSH's ssh-keygen is on PATH (Debian's openssh-client). */
function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined;
  }
}

describe('public keys of SFTP users', () => {
  it.each([
    ['ed25519', ed25519Line],
    ['RSA 2048', () => rsaLine(2048)],
    ['ECDSA P-256', ecdsaLine],
  ])('accepts an %s key and gives its SHA256 fingerprint', (_kind, make) => {
    // Prepare
    const line = make();

    // Act
    const key = parsePublicKey(`  ${line}  `);

    // Assess
    expect(isFingerprint(key.fingerprint)).toBe(true);
    expect(key.line).toBe(line);
  });

  it.skipIf(!hasSshKeygen())('gives the fingerprint ssh-keygen prints for the same key (needs openssh-client)', () => {
    // Prepare
    const line = ed25519Line('dave@lab');
    const dir = mkdtempSync(join(tmpdir(), 'symbiont-key-'));
    writeFileSync(join(dir, 'key.pub'), `${line}\n`);

    // Act
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'key.pub')], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(printed.split(' ')[1]).toBe(parsePublicKey(line).fingerprint);
  });

  it('keeps the comment apart from the key', () => {
    // Act
    const key = parsePublicKey(ed25519Line('alice at the lab'));

    // Assess
    expect(key.comment).toBe('alice at the lab');
  });

  it.each([
    ['a private key', '-----BEGIN OPENSSH PRIVATE KEY-----', /private key; give the public one/],
    ['an empty key', '   ', /empty/],
    ['a DSA key', 'ssh-dss AAAAB3NzaC1kc3MAAACBAP', /not a key type Transfer Family accepts/],
    ['data that is not base64', 'ssh-ed25519 not*base64', /not base64/],
    ['two keys in one string', `${ed25519Line()}\n${ed25519Line()}`, /one key per line/],
    ['a blob of another type than the line says', mismatchedLine(), /the line says "ssh-rsa"/],
    ['a key cut short', ed25519Line().slice(0, 40), /ends early|not base64/],
  ])('refuses %s, saying what is wrong', (_case, text, message) => {
    // Act
    const parse = () => parsePublicKey(text);

    // Assess
    expect(parse).toThrow(InvalidPublicKeyError);
    expect(parse).toThrow(message);
  });

  it('refuses an RSA key shorter than 2048 bits', () => {
    // Prepare
    const line = rsaLine(1024);

    // Act
    const parse = () => parsePublicKey(line);

    // Assess
    expect(parse).toThrow(/at least 2048 bits, this one has 1024/);
  });

  it('refuses an ECDSA point that is not on its curve', () => {
    // Prepare
    const [type, data] = ecdsaLine().split(' ');
    const blob = Buffer.from(data!, 'base64');
    blob[blob.length - 1] = blob.at(-1)! ^ 0xff;

    // Act
    const parse = () => parsePublicKey(`${type} ${blob.toString('base64')}`);

    // Assess
    expect(parse).toThrow(/does not load/);
  });
});
