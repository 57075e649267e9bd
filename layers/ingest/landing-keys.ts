import { landing } from '#shared/resources';
import { unsafeName } from '#shared/names';
import type { UploadSource } from '#store/uploads';

/**
 * What a landing key says about an upload (DESIGN.md "Storage"): `api/<dataset>/<slotId>/<file>`
 * or `sftp/<user>/<dataset>/<file>`. Names that mark a file as unfinished or as Symbiont's own
 * are never ingested (DESIGN.md "Flows").
 */

/** A key to ignore: no upload is recorded for it. */
export interface SkippedKey {
  readonly kind: 'skip';
  readonly why: string;
}

/** A key that names an upload, and what it says about it. */
export interface UploadKey {
  readonly kind: 'upload';
  readonly source: UploadSource;
  readonly dataset: string;
  readonly file: string;
  readonly slotId?: string;
  readonly sender?: string;
}

/** A key that names no upload Symbiont can take: recorded as rejected with the reason. */
export interface MalformedKey {
  readonly kind: 'malformed';
  readonly source: UploadSource;
  readonly file: string;
  readonly reason: string;
  readonly sender?: string;
}

export type LandingKey = SkippedKey | UploadKey | MalformedKey;

/** File-name endings of unfinished transfers (WinSCP, editors) and of Symbiont's own result files. */
export const neverIngestedSuffixes = ['.filepart', '.tmp', '.result.txt'] as const;

const API_LAYOUT = `${landing.apiPrefix}<dataset>/<slotId>/<file>`;
const SFTP_LAYOUT = `${landing.sftpPrefix}<user>/<dataset>/<file>`;

/** Why a file with this key is never ingested, or `undefined` when it may be. */
export function neverIngested(key: string): string | undefined {
  const segments = key.split('/');
  const hidden = segments.find((segment) => segment.startsWith('.'));
  if (hidden !== undefined) return `"${hidden}" is hidden (starts with ".")`;
  const file = (segments.at(-1) ?? '').toLowerCase();
  const suffix = neverIngestedSuffixes.find((s) => file.endsWith(s));
  return suffix === undefined ? undefined : `files ending in ${suffix} are never ingested`;
}

/**
 * Reads a landing key. `fallbackSource` says where a key under neither prefix came from (the
 * notification kind), so that even such a key is recorded with a source.
 */
export function parseLandingKey(key: string, fallbackSource: UploadSource = 'api'): LandingKey {
  const skip = neverIngested(key);
  if (skip !== undefined) return { kind: 'skip', why: skip };
  const segments = key.split('/');
  const file = segments.at(-1) ?? '';
  const malformed = (source: UploadSource, layout: string, sender?: string): MalformedKey => ({
    kind: 'malformed',
    source,
    file,
    sender,
    reason:
      file === ''
        ? `"${key}" names no file (it ends with "/"); upload files to ${layout}`
        : `"${key}" is not where uploads go; upload files to ${layout}`,
  });

  if (key.startsWith(landing.apiPrefix)) {
    const [, dataset, slotId, name] = segments;
    if (segments.length !== 4 || !dataset || !slotId || !name) return malformed('api', API_LAYOUT);
    const unsafe = unsafeFile(name, 'api');
    if (unsafe) return unsafe;
    return { kind: 'upload', source: 'api', dataset, slotId, file: name };
  }
  if (key.startsWith(landing.sftpPrefix)) {
    const [, user, dataset, name] = segments;
    const sender = user || undefined;
    if (segments.length !== 4 || !user || !dataset || !name) return malformed('sftp', sender ? `${landing.sftpPrefix}${sender}/<dataset>/<file>` : SFTP_LAYOUT, sender);
    const unsafe = unsafeFile(name, 'sftp', user);
    if (unsafe) return unsafe;
    return { kind: 'upload', source: 'sftp', dataset, sender: user, file: name };
  }
  return {
    ...malformed(fallbackSource, `${API_LAYOUT} or ${SFTP_LAYOUT}`),
    reason: `"${key}" is neither under ${landing.apiPrefix} nor under ${landing.sftpPrefix}; upload files to ${API_LAYOUT} or ${SFTP_LAYOUT}`,
  };
}

/**
 * A file name no way in accepts (controls, invisible or direction-changing characters, …): a
 * sender could still put one in the landing bucket directly, or through Transfer Family, which
 * does not check names. It is recorded as rejected with the reason, never published.
 */
function unsafeFile(file: string, source: UploadSource, sender?: string): MalformedKey | undefined {
  const why = unsafeName(file);
  return why === undefined ? undefined : { kind: 'malformed', source, file, sender, reason: `the file name contains ${why}; rename the file and upload it again` };
}

/** Where the sender of an upload from `source` should put a file for `dataset` (for reasons). */
export function uploadLayout(source: UploadSource, sender?: string): string {
  return source === 'sftp' ? `${landing.sftpPrefix}${sender ?? '<user>'}/<dataset>/<file>` : API_LAYOUT;
}
