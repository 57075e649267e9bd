import { createHash } from 'node:crypto';
import type { CommitSet, DatasetVersionRef, ParameterPoint } from '#store/evaluations';

/**
 * How the things of continuous evaluation are identified: by hashes of what they are, so the same
 * thing asked twice has the same identity (DESIGN.md "Vocabulary", "Storage").
 */

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A commit set's id: the sha256 of its sorted `repo@sha` lines. */
export function commitSetId(commitSet: CommitSet): string {
  return sha256Hex(
    Object.entries(commitSet)
      .map(([repository, sha]) => `${repository}@${sha}`)
      .sort()
      .join('\n'),
  );
}

/** A parameter point's hash: 32 hex digits of the sha256 of its canonical JSON. */
export function pointHash(point: ParameterPoint): string {
  return sha256Hex(canonicalJson(point)).slice(0, 32);
}

/** What a request evaluates, as its hash sees it. */
export interface RequestIdentity {
  readonly pipeline: string;
  readonly commitSets: readonly CommitSet[];
  readonly datasetVersions: readonly DatasetVersionRef[];
  readonly parameterPoints: readonly ParameterPoint[];
  readonly repeats: number;
  readonly baselineCommitSet?: CommitSet;
}

/**
 * The request hash: what is evaluated, in an order-free form, and against which baseline. Asking
 * for the same evaluation twice gives the same hash, so the same execution name.
 */
export function requestHash(identity: RequestIdentity): string {
  return sha256Hex(
    canonicalJson({
      pipeline: identity.pipeline,
      commitSets: identity.commitSets.map(commitSetId).sort(),
      datasetVersions: identity.datasetVersions.map((d) => `${d.dataset}@${d.version}`).sort(),
      points: identity.parameterPoints.map(pointHash).sort(),
      repeats: identity.repeats,
      baseline: identity.baselineCommitSet ? commitSetId(identity.baselineCommitSet) : null,
    }),
  );
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The id of one point of a request: a ULID with the request's time and 80 bits of the hash of the
 * request id and the point, so that every task of the state machine (and a retry of any of them)
 * names the same evaluation without a table lookup, and ids still sort by time.
 */
export function evaluationIdFor(requestId: string, pointKey: string): string {
  const digest = createHash('sha256').update(`${requestId}\n${pointKey}`).digest();
  let random = '';
  // 16 characters × 5 bits = the first 80 bits of the digest.
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && random.length < 16) {
      random += CROCKFORD[(value >> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (random.length === 16) break;
  }
  return `${requestId.slice(0, 10)}${random}`;
}

/**
 * The execution name of one part of a request: `<pipeline>-<first 40 hex of the request hash>`,
 * then `-<part>` when the request has several parts, then `-r<n>` for its n-th deliberate rerun
 * (at most 80 characters: pipeline names are at most 32).
 */
export function executionName(pipeline: string, hash: string, part: number, parts: number, rerun: number): string {
  return `${pipeline}-${hash.slice(0, 40)}${parts > 1 ? `-${part}` : ''}${rerun > 0 ? `-r${rerun}` : ''}`;
}
