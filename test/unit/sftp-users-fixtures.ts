import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Shared by the sftp-users*.test.ts files: OpenSSH public key lines made fresh with node:crypto,
 * so no key is checked in and every test gets keys no other test uses.
 */

/** SSH wire string: a uint32 length, then the bytes. */
function wire(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => [Buffer.from([p.length >>> 24, (p.length >>> 16) & 255, (p.length >>> 8) & 255, p.length & 255]), p]));
}

/** An SSH mpint: a leading zero byte when the high bit is set, so the number stays positive. */
function mpint(bytes: Buffer): Buffer {
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

function jwkOf(key: KeyObject): Record<string, string> {
  return key.export({ format: 'jwk' }) as Record<string, string>;
}

const b64u = (value: string) => Buffer.from(value, 'base64url');

/** `ssh-ed25519 AAAA… <comment>` of a new key. */
export function ed25519Line(comment = 'alice@lab'): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const blob = wire(Buffer.from('ssh-ed25519'), b64u(jwkOf(publicKey).x!));
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

/** `ssh-rsa AAAA…` of a new key of `bits` bits. */
export function rsaLine(bits = 2048, comment = 'bob@lab'): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = jwkOf(publicKey);
  const blob = wire(Buffer.from('ssh-rsa'), mpint(b64u(jwk.e!)), mpint(b64u(jwk.n!)));
  return `ssh-rsa ${blob.toString('base64')} ${comment}`;
}

/** `ecdsa-sha2-nistp256 AAAA…` of a new key. */
export function ecdsaLine(comment = 'carol@lab'): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = jwkOf(publicKey);
  const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x!), b64u(jwk.y!)]);
  const blob = wire(Buffer.from('ecdsa-sha2-nistp256'), Buffer.from('nistp256'), point);
  return `ecdsa-sha2-nistp256 ${blob.toString('base64')} ${comment}`;
}

/** A line whose blob names another type than the line does (a pasted, damaged key). */
export function mismatchedLine(): string {
  const [, data] = ed25519Line().split(' ');
  return `ssh-rsa ${data}`;
}
