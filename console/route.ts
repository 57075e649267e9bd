/**
 * Hash routes: `#/datasets`, `#/datasets/<name>`, `#/datasets/<name>/versions/<n>`,
 * `#/uploads?dataset=…&status=…&source=…`, `#/uploads/<id>`, `#/sftp-users`, `#/evaluations?…`,
 * `#/evaluations/<id>`, `#/evaluations/requests/<id>`, `#/compare?head=…&base=…`,
 * `#/pipelines/<name>/trend?metric=…&dataset=…`, `#/reports?…`, `#/reports/<id>`. A hash route needs
 * nothing of the server, so the shell is one public page.
 */
export type Route =
  | { readonly page: 'datasets' }
  | { readonly page: 'dataset'; readonly name: string }
  | { readonly page: 'version'; readonly name: string; readonly version: string }
  | { readonly page: 'uploads'; readonly filters: UploadFilters }
  | { readonly page: 'upload'; readonly id: string }
  | { readonly page: 'sftp-users' }
  | { readonly page: 'evaluations'; readonly filters: EvaluationFilters }
  | { readonly page: 'evaluation'; readonly id: string }
  | { readonly page: 'request'; readonly id: string }
  | { readonly page: 'compare'; readonly head: string; readonly base?: string }
  | { readonly page: 'trend'; readonly name: string; readonly filters: TrendFilters }
  | { readonly page: 'reports'; readonly filters: ReportFilters }
  | { readonly page: 'report'; readonly id: string }
  | { readonly page: 'not-found'; readonly path: string };

/** `GET /evaluations` filters the list page keeps in its hash. */
export interface EvaluationFilters {
  readonly pipeline?: string;
  readonly dataset?: string;
  readonly status?: string;
  readonly repository?: string;
  readonly commit?: string;
  readonly request?: string;
  readonly limit?: string;
}

/** `GET /pipelines/{name}/trend` query the trend page keeps in its hash. */
export interface TrendFilters {
  readonly metric?: string;
  readonly dataset?: string;
  readonly repository?: string;
  readonly version?: string;
}

/** `GET /reports` filters. */
export interface ReportFilters {
  readonly template?: string;
  readonly status?: string;
  readonly limit?: string;
}

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
    if (first === 'evaluations' && second === undefined) return { page: 'evaluations', filters: pick(query, ['pipeline', 'dataset', 'status', 'repository', 'commit', 'request', 'limit']) };
    if (first === 'evaluations' && second === 'requests' && third !== undefined && fourth === undefined) return { page: 'request', id: third };
    if (first === 'evaluations' && second !== undefined && third === undefined) return { page: 'evaluation', id: second };
    if (first === 'compare' && second === undefined && query.get('head')) {
      const base = query.get('base');
      return { page: 'compare', head: query.get('head')!, ...(base ? { base } : {}) };
    }
    if (first === 'pipelines' && second !== undefined && third === 'trend' && fourth === undefined) return { page: 'trend', name: second, filters: pick(query, ['metric', 'dataset', 'repository', 'version']) };
    if (first === 'reports' && second === undefined) return { page: 'reports', filters: pick(query, ['template', 'status', 'limit']) };
    if (first === 'reports' && second !== undefined && third === undefined) return { page: 'report', id: second };
  }
  return { page: 'not-found', path: rawPath };
}

/** The non-empty values of `keys` in `query`. */
function pick<K extends string>(query: URLSearchParams, keys: readonly K[]): Partial<Record<K, string>> {
  const picked: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = query.get(key);
    if (value) picked[key] = value;
  }
  return picked;
}

/** `#/<path>?<query>` with the empty values left out. */
function withQuery(path: string, query: object): string {
  const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')).toString();
  return `#/${path}${search ? `?${search}` : ''}`;
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
  evaluations: (filters: EvaluationFilters = {}) => withQuery('evaluations', filters),
  evaluation: (id: string) => `#/evaluations/${encodeURIComponent(id)}`,
  request: (id: string) => `#/evaluations/requests/${encodeURIComponent(id)}`,
  compare: (head: string, base?: string) => withQuery('compare', { head, base }),
  trend: (name: string, filters: TrendFilters = {}) => withQuery(`pipelines/${encodeURIComponent(name)}/trend`, filters),
  reports: (filters: ReportFilters = {}) => withQuery('reports', filters),
  report: (id: string) => `#/reports/${encodeURIComponent(id)}`,
};
