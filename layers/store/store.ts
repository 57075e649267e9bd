import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { env as envNames } from '#shared/resources';
import { claimMessage, getMessageClaim, type MessageClaim } from './claims.ts';
import { createSftpUser, deleteSftpUser, getSftpUser, listSftpUsers, replaceSftpUserKeys, type SftpUserRecord, type StoredSftpKey } from './sftp-users.ts';
import { createUploadSlot, getUploadSlot, type UploadSlot } from './slots.ts';
import { Table } from './table.ts';
import {
  createUpload,
  getUpload,
  listSlotUploads,
  listUploads,
  setUploadStatus,
  type ListUploadsQuery,
  type StatusChange,
  type UploadPage,
  type UploadRecord,
} from './uploads.ts';
import {
  claimContent,
  completeVersion,
  getContentClaim,
  getDatasetHead,
  getLatestVersion,
  getVersion,
  listVersions,
  reserveVersion,
  type ClaimContentRequest,
  type ContentClaim,
  type ContentClaimResult,
  type DatasetHead,
  type VersionDraft,
  type VersionPage,
  type VersionRecord,
} from './versions.ts';

/**
 * The store: everything Symbiont keeps in its one table, as domain operations. Handlers, the API
 * and the local runtime use this; the modules behind it take a {@link Table} and can be used alone.
 */
export interface Store {
  readonly table: Table;
  /** Records a new upload; an upload id already recorded is an `AlreadyExistsError`. */
  createUpload(record: UploadRecord): Promise<UploadRecord>;
  /** The upload, or `undefined`; an id that is not a ULID is a `BadRequestError`. */
  getUpload(uploadId: string): Promise<UploadRecord | undefined>;
  /** One page of uploads, newest first, optionally of one dataset, status or sender. */
  listUploads(query?: ListUploadsQuery): Promise<UploadPage>;
  /** One page of the uploads made through a slot. */
  listSlotUploads(slotId: string, page?: { limit?: number; cursor?: string }): Promise<UploadPage>;
  /** Records an upload slot; a slot id already recorded is an `AlreadyExistsError`. */
  createUploadSlot(slot: UploadSlot): Promise<UploadSlot>;
  /** The upload slot, or `undefined`. */
  getUploadSlot(slotId: string): Promise<UploadSlot | undefined>;
  /** Moves an upload between statuses, guarded by its current status. */
  setUploadStatus(uploadId: string, change: StatusChange): Promise<UploadRecord>;
  /** Claims a message; `false` when it was claimed before. */
  claimMessage(messageId: string, details?: { uploadId?: string; at?: string }): Promise<boolean>;
  /** The claim of a message, or `undefined`. */
  getMessageClaim(messageId: string): Promise<MessageClaim | undefined>;
  /** A dataset's head (latest published and highest allocated number), or `undefined` before its first version. */
  getDatasetHead(dataset: string): Promise<DatasetHead | undefined>;
  /** A published version, or `undefined` (also while it is still publishing). */
  getVersion(dataset: string, version: number): Promise<VersionRecord | undefined>;
  /** The newest published version, or `undefined`. */
  getLatestVersion(dataset: string): Promise<VersionRecord | undefined>;
  /** One page of a dataset's published versions, newest first. */
  listVersions(dataset: string, page?: { limit?: number; cursor?: string }): Promise<VersionPage>;
  /** The content claim of a set of bytes, or `undefined`. */
  getContentClaim(dataset: string, sha256: string): Promise<ContentClaim | undefined>;
  /** Claims a set of bytes for one attempt at publishing them (see `versions.ts`). */
  claimContent(request: ClaimContentRequest): Promise<ContentClaimResult>;
  /** The version record of a held claim's bytes, allocating the next number when it has none. */
  reserveVersion(claim: ContentClaim, draft: VersionDraft): Promise<VersionRecord>;
  /** Marks a reserved version published once its object is stored; repeatable. */
  completeVersion(version: Pick<VersionRecord, 'dataset' | 'version' | 'sha256'>, at?: Date): Promise<VersionRecord>;
  /** Records a run-time SFTP user; a name already taken is an `AlreadyExistsError`. */
  createSftpUser(record: SftpUserRecord): Promise<SftpUserRecord>;
  /** A run-time SFTP user, or `undefined`. */
  getSftpUser(name: string): Promise<SftpUserRecord | undefined>;
  /** Every run-time SFTP user, by name. */
  listSftpUsers(): Promise<SftpUserRecord[]>;
  /** Replaces a run-time SFTP user's keys, guarded by the revision the caller read. */
  replaceSftpUserKeys(name: string, change: { revision: number; keys: readonly StoredSftpKey[]; at: string }): Promise<SftpUserRecord>;
  /** Deletes a run-time SFTP user; `false` when there was none. */
  deleteSftpUser(name: string): Promise<boolean>;
}

export interface StoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** A store over the given document client and table. */
export function createStore({ client, tableName }: StoreProps): Store {
  const table = new Table(client, tableName);
  return {
    table,
    createUpload: (record) => createUpload(table, record),
    getUpload: (uploadId) => getUpload(table, uploadId),
    listUploads: (query) => listUploads(table, query),
    listSlotUploads: (slotId, page) => listSlotUploads(table, slotId, page),
    createUploadSlot: (slot) => createUploadSlot(table, slot),
    getUploadSlot: (slotId) => getUploadSlot(table, slotId),
    setUploadStatus: (uploadId, change) => setUploadStatus(table, uploadId, change),
    claimMessage: (messageId, details) => claimMessage(table, messageId, details),
    getMessageClaim: (messageId) => getMessageClaim(table, messageId),
    getDatasetHead: (dataset) => getDatasetHead(table, dataset),
    getVersion: (dataset, version) => getVersion(table, dataset, version),
    getLatestVersion: (dataset) => getLatestVersion(table, dataset),
    listVersions: (dataset, page) => listVersions(table, dataset, page),
    getContentClaim: (dataset, sha256) => getContentClaim(table, dataset, sha256),
    claimContent: (request) => claimContent(table, request),
    reserveVersion: (claim, draft) => reserveVersion(table, claim, draft),
    completeVersion: (version, at) => completeVersion(table, version, at),
    createSftpUser: (record) => createSftpUser(table, record),
    getSftpUser: (name) => getSftpUser(table, name),
    listSftpUsers: () => listSftpUsers(table),
    replaceSftpUserKeys: (name, change) => replaceSftpUserKeys(table, name, change),
    deleteSftpUser: (name) => deleteSftpUser(table, name),
  };
}

/**
 * The store handlers build once at module scope: the table named by `TABLE_NAME`, through a
 * client that honours `AWS_ENDPOINT_URL_DYNAMODB`. A missing variable throws with its name.
 */
export function createStoreFromEnv(env: NodeJS.ProcessEnv = process.env): Store {
  return createStore({ client: createDocumentClient(env), tableName: requireEnv(envNames.tableName, env) });
}

export { ConditionFailed, Table } from './table.ts';
export type { Item, Page, QueryOptions } from './table.ts';
export type { ListUploadsQuery, ReportExample, StatusChange, UploadPage, UploadRecord, UploadReport, UploadSource, UploadStatus } from './uploads.ts';
export type { MessageClaim } from './claims.ts';
export type { UploadSlot } from './slots.ts';
export type { SftpUserRecord, StoredSftpKey } from './sftp-users.ts';
export type {
  ClaimContentRequest,
  ColumnProfile,
  ContentClaim,
  ContentClaimResult,
  DatasetHead,
  VersionDraft,
  VersionPage,
  VersionRecord,
} from './versions.ts';
