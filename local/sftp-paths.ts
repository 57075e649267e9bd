import { posix } from 'node:path';
import { landing } from '#shared/resources';
import { printable, unsafeName } from '#shared/names';

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

// One rule for names wherever a sender names a file; re-exported for the server and its tests.
export { MAX_NAME_BYTES, printable, unsafeName } from '#shared/names';

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
