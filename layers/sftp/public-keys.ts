import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { InvalidPublicKeyError } from './errors.ts';

/**
 * OpenSSH public keys as SFTP users give them (`ssh-ed25519 AAAA… alice@lab`), checked here with
 * node:crypto rather than ssh2, so the API function needs no SSH library: the line must hold one
 * key of a type Transfer Family accepts, its blob must be well-formed and name the same type, and
 * the key itself must load (a point on its curve, an RSA modulus of at least 2048 bits). A bad key
 * is refused when it is added, with the reason, not discovered at the user's first login.
 */

/** Key types Transfer Family's service-managed users accept. */
export const publicKeyTypes = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const;
export type PublicKeyType = (typeof publicKeyTypes)[number];

/** The smallest RSA modulus accepted, as Transfer Family requires. */
export const MIN_RSA_BITS = 2048;

/** A checked public key. */
export interface PublicKey {
  readonly type: PublicKeyType;
  /** `SHA256:…` (unpadded base64 of the blob's SHA-256), as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** `<type> <base64>[ <comment>]`, spaces normalised. */
  readonly line: string;
  readonly comment?: string;
}

const ecdsaCurves: Readonly<Record<string, { readonly curve: string; readonly jwk: string; readonly coordinate: number }>> = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', jwk: 'P-256', coordinate: 32 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', jwk: 'P-384', coordinate: 48 },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', jwk: 'P-521', coordinate: 66 },
};

/**
 * Reads one OpenSSH public key line, or throws {@link InvalidPublicKeyError} saying what is wrong
 * and what to give instead.
 */
export function parsePublicKey(text: string): PublicKey {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid('the key is empty; give the contents of a .pub file ("ssh-ed25519 AAAA… comment")');
  if (/PRIVATE KEY/.test(trimmed)) throw invalid('this is a private key; give the public one (the .pub file), and keep the private key to yourself');
  if (/[\r\n]/.test(trimmed)) throw invalid('give one key per line');
  const [type, data, ...rest] = trimmed.split(/\s+/);
  if (!isKeyType(type)) {
    throw invalid(`"${(type ?? '').slice(0, 40)}" is not a key type Transfer Family accepts (${publicKeyTypes.join(', ')}); give an OpenSSH public key line such as "ssh-ed25519 AAAA… comment"`);
  }
  if (!data || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalid(`the key data after "${type}" is not base64`);
  const blob = Buffer.from(data, 'base64');
  checkBlob(type, blob);
  const comment = rest.join(' ') || undefined;
  return {
    type,
    fingerprint: fingerprintOf(blob),
    line: comment ? `${type} ${blob.toString('base64')} ${comment}` : `${type} ${blob.toString('base64')}`,
    ...(comment ? { comment } : {}),
  };
}

/** `SHA256:…` of a key blob, as OpenSSH prints fingerprints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Whether a string looks like a fingerprint as {@link fingerprintOf} writes it. */
export function isFingerprint(value: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}$/.test(value);
}

function isKeyType(value: string | undefined): value is PublicKeyType {
  return (publicKeyTypes as readonly string[]).includes(value ?? '');
}

/** Checks the SSH wire form of a key blob and that the key it holds loads. */
function checkBlob(type: PublicKeyType, blob: Buffer): void {
  const reader = new WireReader(blob);
  const named = reader.string().toString('latin1');
  if (named !== type) throw invalid(`the key data says "${named.slice(0, 40)}" but the line says "${type}"; the line is damaged`);
  let jwk: JsonWebKey;
  if (type === 'ssh-ed25519') {
    const key = reader.string();
    if (key.length !== 32) throw invalid(`an ed25519 key is 32 bytes, this one is ${key.length}`);
    jwk = { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') };
  } else if (type === 'ssh-rsa') {
    const e = unsigned(reader.string());
    const n = unsigned(reader.string());
    const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
    if (bits < MIN_RSA_BITS) throw invalid(`an RSA key must have at least ${MIN_RSA_BITS} bits, this one has ${bits}; make a new key (ssh-keygen -t ed25519)`);
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else {
    const { curve, jwk: crv, coordinate } = ecdsaCurves[type]!;
    const named = reader.string().toString('latin1');
    if (named !== curve) throw invalid(`the key data names curve "${named.slice(0, 20)}" but the line says "${type}"`);
    const point = reader.string();
    if (point.length !== 1 + 2 * coordinate || point[0] !== 0x04) throw invalid(`the ${curve} point is not an uncompressed point of ${1 + 2 * coordinate} bytes`);
    jwk = { kty: 'EC', crv, x: point.subarray(1, 1 + coordinate).toString('base64url'), y: point.subarray(1 + coordinate).toString('base64url') };
  }
  if (!reader.done) throw invalid('the key data has bytes after the key; the line is damaged');
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    throw invalid(`the key does not load: ${(error as Error).message}`, error);
  }
}

/** An SSH mpint without its sign byte. */
function unsigned(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  return value.subarray(start);
}

/** Reads length-prefixed strings of the SSH wire format (RFC 4251). */
class WireReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  string(): Buffer {
    if (this.offset + 4 > this.buffer.length) throw invalid('the key data ends early; the line is cut short');
    const length = this.buffer.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + length > this.buffer.length) throw invalid('the key data ends early; the line is cut short');
    this.offset = start + length;
    return this.buffer.subarray(start, start + length);
  }

  get done(): boolean {
    return this.offset === this.buffer.length;
  }
}

function invalid(message: string, cause?: unknown): InvalidPublicKeyError {
  return new InvalidPublicKeyError(`invalid public key: ${message}`, undefined, cause === undefined ? undefined : { cause });
}
