/**
 * Hash routes: `#/datasets`, `#/datasets/<name>`, `#/datasets/<name>/versions/<n>`,
 * `#/uploads?dataset=…&status=…&source=…`, `#/uploads/<id>`, `#/sftp-users`. A hash route needs
 * nothing of the server, so the shell is one public page.
 */
export type Route =
  | { readonly page: 'datasets' }
  | { readonly page: 'dataset'; readonly name: string }
  | { readonly page: 'version'; readonly name: string; readonly version: string }
  | { readonly page: 'uploads'; readonly filters: UploadFilters }
  | { readonly page: 'upload'; readonly id: string }
  | { readonly page: 'sftp-users' }
  | { readonly page: 'not-found'; readonly path: string };

export interface UploadFilters {
  readonly dataset?: string;
  readonly status?: string;
  readonly source?: string;
  /** Page size, 1 to 100 (the API's default when absent); only a link sets it. */
  readonly limit?: string;
}

export function parseRoute(hash: string): Route {
  const [rawPath = '', rawQuery = ''] = hash.replace(/^#/, '').split('?');
  const parts = rawPath.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(rawQuery);
  const [first, second, third, fourth, ...rest] = parts;
  if (rest.length === 0) {
    if (first === undefined || (first === 'datasets' && second === undefined)) return { page: 'datasets' };
    if (first === 'datasets' && second !== undefined && third === undefined) return { page: 'dataset', name: second };
    if (first === 'datasets' && second !== undefined && third === 'versions' && fourth !== undefined) return { page: 'version', name: second, version: fourth };
    if (first === 'uploads' && second === undefined) {
      const filters: Record<string, string> = {};
      for (const key of ['dataset', 'status', 'source'] as const) {
        const v = query.get(key);
        if (v) filters[key] = v;
      }
      const limit = query.get('limit');
      if (limit && /^[1-9][0-9]?$|^100$/.test(limit)) filters.limit = limit;
      return { page: 'uploads', filters };
    }
    if (first === 'uploads' && second !== undefined && third === undefined) return { page: 'upload', id: second };
    if (first === 'sftp-users' && second === undefined) return { page: 'sftp-users' };
  }
  return { page: 'not-found', path: rawPath };
}

/** The hash of a route, for links. */
export const href = {
  datasets: () => '#/datasets',
  dataset: (name: string) => `#/datasets/${encodeURIComponent(name)}`,
  version: (name: string, version: number | string) => `#/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(String(version))}`,
  uploads: (filters: UploadFilters = {}) => {
    const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1]))).toString();
    return `#/uploads${query ? `?${query}` : ''}`;
  },
  upload: (id: string) => `#/uploads/${encodeURIComponent(id)}`,
  sftpUsers: () => '#/sftp-users',
};
