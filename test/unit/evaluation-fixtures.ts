import { loadConfig } from '#config/load';
import type { EvaluationMessage } from '#evaluation/messages';
import type { EvaluationQueue } from '#evaluation/queue';
import { datasetHeadKey, datasetVersionKey } from '#store/keys';
import type { Table } from '#store/table';

/** Shared by the evaluation*.test.ts files: the example config, a queue that keeps messages, a published version. */

export const { config } = loadConfig(new URL('../../symbiont.config.json', import.meta.url).pathname);

export const sha = (c: string) => c.repeat(40);
export const admin = { name: 'local-admin', role: 'admin' as const };
export const scientist = { name: 'local-scientist', role: 'scientist' as const };

/** An evaluation queue that keeps what is sent. */
export function memoryQueue(): EvaluationQueue & { messages: EvaluationMessage[] } {
  const messages: EvaluationMessage[] = [];
  return {
    messages,
    async send(message) {
      messages.push(message);
    },
  };
}

/** Records a published version of a dataset, as publishing leaves it. */
export async function publishVersion(table: Table, dataset: string, version: number): Promise<void> {
  const at = new Date(Date.UTC(2025, 0, 6, 9, version)).toISOString();
  await table.put({
    ...datasetVersionKey(dataset, version),
    kind: 'version',
    dataset,
    version,
    state: 'published',
    sha256: String(version).repeat(64).slice(0, 64).replace(/[^0-9a-f]/g, 'a'),
    bytes: 100,
    rows: 10,
    specRevision: 'r1',
    profile: {},
    uploadId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB',
    file: `${dataset}.csv`,
    key: `datasets/${dataset}/v${version}/${dataset}.csv`,
    reservedAt: at,
    createdAt: at,
  });
  await table.put({ ...datasetHeadKey(dataset), kind: 'dataset-head', dataset, latest: version, allocated: version, updatedAt: at });
}

/** An S3 GetObject answer with this text as its body (what the tasks read of it). */
export function objectBody(text: string) {
  return { Body: { transformToString: async () => text } as never };
}
