import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { AlreadyExistsError, CorruptItemError, StatusConflictError } from './errors.ts';
import { listings, sftpUserKey } from './keys.ts';
import { ConditionFailed, type Table } from './table.ts';

/**
 * SFTP users added at run time (DESIGN.md "SFTP user"): `SFTPUSER#<name>` / `USER`, listed by name
 * under `gsi1` `SFTPUSERS`. Users of the config are deployed with the stack and are never stored
 * here. Keys change by conditional writes on `revision`, so two admins adding keys at once cannot
 * lose one of them.
 */

const isoTime = z.iso.datetime({ offset: true });

/** One public key of a user. */
export const storedSftpKeySchema = z.object({
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: z.string().min(1),
  /** The OpenSSH public key line. */
  publicKey: z.string().min(1),
  /** The id Transfer Family gave the key (AWS only); removing the key there needs it. */
  transferKeyId: z.string().min(1).optional(),
  addedAt: isoTime,
});
export type StoredSftpKey = z.infer<typeof storedSftpKeySchema>;

/** A run-time SFTP user as stored (without its table keys). */
export const sftpUserRecordSchema = z.object({
  name: z.string().min(1),
  datasets: z.array(z.string().min(1)).min(1),
  keys: z.array(storedSftpKeySchema),
  /** Goes up by one on every change; writes are conditioned on it. */
  revision: z.number().int().positive(),
  createdAt: isoTime,
  updatedAt: isoTime,
  /** The admin who added the user. */
  createdBy: z.string().min(1).optional(),
});
export type SftpUserRecord = z.infer<typeof sftpUserRecordSchema>;

function parse(item: Record<string, unknown>, name: string): SftpUserRecord {
  const parsed = sftpUserRecordSchema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored SFTP user ${name} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}

/** Records a new user; a name already taken is an {@link AlreadyExistsError}. */
export async function createSftpUser(table: Table, record: SftpUserRecord): Promise<SftpUserRecord> {
  const user = sftpUserRecordSchema.parse(record);
  const written = await table.put(
    { ...sftpUserKey(user.name), kind: 'sftp-user', ...user, gsi1pk: listings.sftpUsers, gsi1sk: user.name },
    { ifNotExists: true },
  );
  if (written instanceof ConditionFailed) throw new AlreadyExistsError(`SFTP user ${user.name} already exists`, { name: user.name });
  return user;
}

/** The user, or `undefined`. */
export async function getSftpUser(table: Table, name: string): Promise<SftpUserRecord | undefined> {
  const item = await table.get(sftpUserKey(name));
  return item === undefined ? undefined : parse(item, name);
}

/** Every run-time user, by name (a Query on `gsi1`, page after page). */
export async function listSftpUsers(table: Table): Promise<SftpUserRecord[]> {
  const users: SftpUserRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await table.query({ index: 'gsi1', partition: listings.sftpUsers, limit: 1000, cursor });
    users.push(...page.items.map((item) => parse(item, String(item.name))));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return users;
}

/**
 * Replaces a user's keys, if the stored user is still at `revision` (what the caller read); answers
 * the user as now stored. A change made in between is a {@link StatusConflictError}: read again.
 */
export async function replaceSftpUserKeys(
  table: Table,
  name: string,
  change: { readonly revision: number; readonly keys: readonly StoredSftpKey[]; readonly at: string },
): Promise<SftpUserRecord> {
  const keys = z.array(storedSftpKeySchema).parse(change.keys);
  const updated = await table.update(sftpUserKey(name), {
    set: { keys, revision: change.revision + 1, updatedAt: change.at },
    where: { revision: change.revision },
  });
  if (updated instanceof ConditionFailed) {
    throw new StatusConflictError(`SFTP user ${name} changed (or was removed) while its keys were being changed; try again`, { name });
  }
  return parse(updated, name);
}

/** Deletes the user; `false` when there was none. */
export async function deleteSftpUser(table: Table, name: string): Promise<boolean> {
  // The Table wrapper has no delete (nothing else is ever deleted); this is the one place that does.
  const { Attributes } = await table.client.send(new DeleteCommand({ TableName: table.name, Key: { ...sftpUserKey(name) }, ReturnValues: 'ALL_OLD' }));
  return Attributes !== undefined;
}
