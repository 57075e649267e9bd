import { posix } from 'node:path';
import { landing } from '#shared/resources';

/**
 * What an SFTP user sees: a virtual root holding one folder per dataset they may use, each folder
 * mapped to `sftp/<user>/<dataset>/` in the landing bucket (DESIGN.md "Storage"). Every path a
 * client sends is read here, once, with POSIX rules against that root; anything else is refused
 * before any storage is touched.
 */

/** `/`: the folders of the user's datasets. */
export interface RootPath {
  readonly kind: 'root';
  readonly path: '/';
}

/** `/<dataset>`: one dataset folder. */
export interface DatasetPath {
  readonly kind: 'dataset';
  readonly path: string;
  readonly dataset: string;
  /** The landing prefix the folder shows, ending in `/`. */
  readonly prefix: string;
}

/** `/<dataset>/<file>`: one file of the user's. */
export interface FilePath {
  readonly kind: 'file';
  readonly path: string;
  readonly dataset: string;
  readonly name: string;
  /** The landing key. */
  readonly key: string;
}

/** A path the user may not use, and why (for the log; the client only hears "permission denied"). */
export interface RefusedPath {
  readonly kind: 'refused';
  readonly why: string;
}

export type SftpPath = RootPath | DatasetPath | FilePath;

/** The longest file name, in UTF-8 bytes, as on common file systems. */
export const MAX_NAME_BYTES = 255;

/**
 * Characters that are legal in a name but make it look like another name: bidirectional
 * controls, zero-width characters, the byte-order mark, and U+FFFD (what invalid UTF-8 decodes to).
 */
const deceptive = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffd]/u;
/** C0 and C1 controls (NUL included) and DEL. */
const control = /[\u0000-\u001f\u007f-\u009f]/u;

/** Why a single file or folder name is refused, or `undefined` when it is fine. */
export function unsafeName(name: string): string | undefined {
  if (control.test(name)) return 'a control character (NUL, newline, …)';
  if (name.includes('\\')) return 'a backslash';
  if (deceptive.test(name)) return 'an invisible or direction-changing character';
  if (name.normalize('NFC') !== name) return 'characters not in Unicode normal form C';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a name longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Reads a client path for `user`, whose dataset folders are `datasets`. Relative paths are relative
 * to the root (the client's home). `.` and `..` are resolved, but a `..` that would climb above the
 * root is refused, as are unsafe names, unknown folders and anything deeper than a file in a folder.
 */
export function resolveSftpPath(user: string, datasets: readonly string[], clientPath: string): SftpPath | RefusedPath {
  const refused = (why: string): RefusedPath => ({ kind: 'refused', why });
  if (clientPath.includes('\0')) return refused('the path contains NUL');
  const segments: string[] = [];
  for (const segment of clientPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return refused('".." climbs above the root');
      segments.pop();
      continue;
    }
    const why = unsafeName(segment);
    if (why !== undefined) return refused(`the name "${printable(segment)}" contains ${why}`);
    segments.push(segment);
  }
  if (segments.length === 0) return { kind: 'root', path: '/' };
  const [dataset, name] = segments as [string, string | undefined];
  if (!datasets.includes(dataset)) return refused(`"${printable(dataset)}" is not a dataset folder of ${user}`);
  const prefix = `${landing.sftpPrefix}${user}/${dataset}/`;
  if (segments.length === 1) return { kind: 'dataset', path: `/${dataset}`, dataset, prefix };
  if (segments.length > 2) return refused('folders inside dataset folders are not allowed');
  return { kind: 'file', path: posix.join('/', dataset, name!), dataset, name: name!, key: `${prefix}${name}` };
}

/** A name with control and invisible characters written as `\u{…}`, safe to put in a log line. */
export function printable(name: string): string {
  const hidden = new RegExp(`${control.source}|${deceptive.source}|\\\\`, 'gu');
  return name.replace(hidden, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
