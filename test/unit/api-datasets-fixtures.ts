import { createHash } from 'node:crypto';
import { BadRequestError } from '#shared/errors';
import type { DatasetHead, VersionPage, VersionReader, VersionRecord } from '#api/version-reader';

/** Shared by the api*.test.ts and cli*.test.ts files: dataset versions in memory. */

/** A published version of `readings` (or of `dataset`), numbered `version`. */
export function datasetVersion(version: number, overrides: Partial<VersionRecord> = {}): VersionRecord {
  const dataset = overrides.dataset ?? 'readings';
  return {
    dataset,
    version,
    state: 'published',
    sha256: createHash('sha256').update(`${dataset} v${version}`).digest('hex'),
    bytes: 1000 * version,
    rows: 10 * version,
    specRevision: 'b'.repeat(64),
    profile: { temperature: { nulls: 1, values: 10 * version - 1, min: -3.5, max: 21.25, distinctEstimate: 9 } },
    uploadId: `01JH2QK7W3M9XG5V8RZB4TNV${String(version).padStart(2, '0')}`,
    sender: 'field-team',
    file: `day-${version}.csv`,
    key: `datasets/${dataset}/v${version}/day-${version}.csv`,
    reservedAt: `2025-01-0${version}T09:00:00.000Z`,
    createdAt: `2025-01-0${version}T09:00:05.000Z`,
    ...overrides,
  };
}

/** Three published versions of `readings`; `sites` has none. */
export const sampleVersions: readonly VersionRecord[] = [1, 2, 3].map((n) => datasetVersion(n));

/**
 * An in-memory {@link VersionReader} that, like the store, shows only published versions and
 * records the listing pages it is asked for. Its cursors are offsets (`o2`).
 */
export class MemoryVersions implements VersionReader {
  readonly pages: { dataset: string; limit?: number; cursor?: string }[] = [];

  constructor(private readonly versions: readonly VersionRecord[] = sampleVersions) {}

  private published(dataset: string): VersionRecord[] {
    return this.versions.filter((v) => v.dataset === dataset && v.state === 'published').sort((a, b) => b.version - a.version);
  }

  async getDatasetHead(dataset: string): Promise<DatasetHead | undefined> {
    const all = this.versions.filter((v) => v.dataset === dataset);
    if (all.length === 0) return undefined;
    return { dataset, latest: this.published(dataset)[0]?.version ?? 0, allocated: Math.max(...all.map((v) => v.version)), updatedAt: '2025-01-07T09:00:00.000Z' };
  }

  async getVersion(dataset: string, version: number): Promise<VersionRecord | undefined> {
    return this.published(dataset).find((v) => v.version === version);
  }

  async getLatestVersion(dataset: string): Promise<VersionRecord | undefined> {
    return this.published(dataset)[0];
  }

  async listVersions(dataset: string, page: { limit?: number; cursor?: string } = {}): Promise<VersionPage> {
    this.pages.push({ dataset, ...page });
    const start = page.cursor === undefined ? 0 : Number(/^o(\d+)$/.exec(page.cursor)?.[1] ?? Number.NaN);
    if (Number.isNaN(start)) throw new BadRequestError(`cursor ${page.cursor} was not handed out by this listing`);
    const items = this.published(dataset);
    const end = start + (page.limit ?? 25);
    return { items: items.slice(start, end), ...(end < items.length ? { cursor: `o${end}` } : {}) };
  }
}
