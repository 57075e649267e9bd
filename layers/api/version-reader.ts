import type { Store } from '#store/store';

/**
 * What the API reads of dataset versions: the head and published versions, nothing that writes,
 * so that tests and the local runtime can hand in anything that answers these calls. The table
 * store satisfies it; the store shows only published versions.
 */
export type VersionReader = Pick<Store, 'getDatasetHead' | 'getVersion' | 'getLatestVersion' | 'listVersions'>;

export type { DatasetHead, VersionPage, VersionRecord } from '#store/store';
