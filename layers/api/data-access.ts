import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { createS3Client } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { presignGet, presignPut, type PresignedUrl } from '#shared/presign';
import { env as envNames, evaluation, landing } from '#shared/resources';
import { stageFiles } from '#evaluation/stage-contract';
import type { Store, UploadPage, UploadSlot, VersionRecord } from '#store/store';

/**
 * Presigned access to the data (the Data API issue): a GET URL for a published version in the data
 * bucket, and upload slots — a slot id and a PUT URL for `api/<dataset>/<slotId>/<file>` in
 * landing, whose arrival goes through ingest exactly as an SFTP upload does. Rights are the
 * routes' business; this module signs and records.
 */

/** What the data routes need of the table. */
export type SlotStore = Pick<Store, 'createUploadSlot' | 'getUploadSlot' | 'listSlotUploads'>;

/** An upload slot as handed out: the record plus the PUT URL. */
export interface OpenedSlot extends UploadSlot {
  readonly url: string;
  readonly method: 'PUT';
  /** Headers to send with the PUT (none are signed; a content type is welcome). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface DataAccess {
  /** A GET URL of a version's object, valid for `seconds`, saving as `<dataset>-v<n>-<file>`. */
  downloadUrl(version: VersionRecord, seconds: number): Promise<PresignedUrl & { fileName: string }>;
  /** Mints a slot id, records the slot, and signs a PUT of `file` into it, valid for `seconds`. */
  openSlot(request: { dataset: string; file: string; sender: string; seconds: number }): Promise<OpenedSlot>;
  getSlot(slotId: string): Promise<UploadSlot | undefined>;
  /** The uploads that arrived through a slot, oldest first. */
  listSlotUploads(slotId: string, page: { limit?: number; cursor?: string }): Promise<UploadPage>;
  /** GET URLs of what a stage run printed (`evaluations/<id>/r<n>/<stage>/stdout.txt`, `stderr.txt`), shown as text, valid for `seconds`. */
  stageLogUrls(prefix: string, seconds: number): Promise<StageLogUrls>;
  /**
   * The files a stage run wrote to its output folder (`<prefix>output/…`), in key order, at most
   * `limit` of them (`truncated` says there were more), each with a GET URL that saves it under
   * its own name, valid for `seconds`. One S3 listing request.
   */
  stageArtifacts(prefix: string, seconds: number, limit: number): Promise<StageArtifacts>;
}

/** What a stage run left in its output folder. */
export interface StageArtifacts {
  readonly files: readonly StageArtifact[];
  /** More files are there than `files` holds. */
  readonly truncated: boolean;
}

/** One file of a stage run's output folder. */
export interface StageArtifact {
  /** Its path in the output folder: `forecast.csv`, `plots/mae.png`. */
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  readonly url: string;
  readonly expiresAt: string;
}

/** Where to read a stage run's output streams, and until when. */
export interface StageLogUrls {
  readonly stdout: string;
  readonly stderr: string;
  readonly expiresAt: string;
}

export interface DataAccessProps {
  readonly store: SlotStore;
  /** Signs the URLs; its endpoint is where they point. */
  readonly s3: S3Client;
  readonly dataBucket: string;
  readonly landingBucket: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default ulid */
  readonly newId?: () => string;
}

/** The name a downloaded version is saved under: `readings-v3-2025-01-07.csv`. */
export const downloadFileName = (version: Pick<VersionRecord, 'dataset' | 'version' | 'file'>): string => `${version.dataset}-v${version.version}-${version.file}`;

/** The landing key of an upload through a slot (DESIGN.md "Storage"). */
export const slotKey = (dataset: string, slotId: string, file: string): string => `${landing.apiPrefix}${dataset}/${slotId}/${file}`;

export function createDataAccess(props: DataAccessProps): DataAccess {
  const now = props.now ?? (() => new Date());
  const newId = props.newId ?? ulid;
  return {
    async downloadUrl(version, seconds) {
      const fileName = downloadFileName(version);
      const signed = await presignGet(props.s3, { bucket: props.dataBucket, key: version.key }, seconds, { fileName, now: now() });
      return { ...signed, fileName };
    },
    async openSlot({ dataset, file, sender, seconds }) {
      const at = now();
      const slotId = newId();
      const key = slotKey(dataset, slotId, file);
      const signed = await presignPut(props.s3, { bucket: props.landingBucket, key }, seconds, { now: at });
      // Recorded before the URL is handed out, so an upload can never arrive under an unknown slot.
      const slot = await props.store.createUploadSlot({ slotId, dataset, file, key, sender, createdAt: at.toISOString(), expiresAt: signed.expiresAt });
      return { ...slot, url: signed.url, method: 'PUT', headers: {} };
    },
    async stageLogUrls(prefix, seconds) {
      assertStageRunFolder(prefix);
      const at = now();
      const sign = (file: string) => presignGet(props.s3, { bucket: props.dataBucket, key: `${prefix}${file}` }, seconds, { contentType: 'text/plain; charset=utf-8', now: at });
      const [stdout, stderr] = await Promise.all([sign(stageFiles.stdout), sign(stageFiles.stderr)]);
      return { stdout: stdout.url, stderr: stderr.url, expiresAt: stdout.expiresAt };
    },
    async stageArtifacts(prefix, seconds, limit) {
      assertStageRunFolder(prefix);
      const folder = `${prefix}${stageFiles.output}`;
      const listed = await props.s3.send(new ListObjectsV2Command({ Bucket: props.dataBucket, Prefix: folder, MaxKeys: limit }));
      const objects = (listed.Contents ?? []).filter((o) => o.Key && o.Key.length > folder.length && !o.Key.endsWith('/'));
      const at = now();
      const files = await Promise.all(
        objects.map(async (o) => {
          const name = o.Key!.slice(folder.length);
          const signed = await presignGet(props.s3, { bucket: props.dataBucket, key: o.Key! }, seconds, { fileName: name.slice(name.lastIndexOf('/') + 1), now: at });
          return { name, size: o.Size ?? 0, url: signed.url, expiresAt: signed.expiresAt };
        }),
      );
      return { files, truncated: listed.IsTruncated === true };
    },
    getSlot: (slotId) => props.store.getUploadSlot(slotId),
    listSlotUploads: (slotId, page) => props.store.listSlotUploads(slotId, page),
  };
}

/** Only a stage run's own folder (under the evaluations prefix, ending in `/`) is signed or listed. */
function assertStageRunFolder(prefix: string): void {
  if (!prefix.startsWith(evaluation.outputPrefix) || !prefix.endsWith('/')) throw new Error(`not a stage run's folder: ${prefix}`);
}

/** The data access Lambda builds once per container: buckets from the environment, the default S3 client. */
export function createDataAccessFromEnv(store: SlotStore, env: NodeJS.ProcessEnv = process.env): DataAccess {
  return createDataAccess({
    store,
    s3: createS3Client(env),
    dataBucket: requireEnv(envNames.dataBucket, env),
    landingBucket: requireEnv(envNames.landingBucket, env),
  });
}
