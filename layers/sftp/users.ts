import { TransferClient } from '@aws-sdk/client-transfer';
import type { SymbiontConfig } from '#config/schema';
import { env as envNames } from '#shared/resources';
import { traced } from '#shared/tracing';
import { AlreadyExistsError } from '#store/errors';
import type { SftpUserRecord, Store, StoredSftpKey } from '#store/store';
import {
  ConfigSftpUserError,
  InvalidPublicKeyError,
  LastSftpKeyError,
  SftpKeyExistsError,
  SftpKeyNotFoundError,
  SftpNotEnabledError,
  SftpUserExistsError,
  SftpUserNotFoundError,
  UnknownSftpDatasetError,
} from './errors.ts';
import { disabledGateway, transferGateway, type SftpGateway } from './gateway.ts';
import { checkSftpUserName } from './home.ts';
import { parsePublicKey, type PublicKey } from './public-keys.ts';

/**
 * SFTP users at run time (DESIGN.md "SFTP user"): an admin adds and removes users and their keys
 * without a deploy. The table is the record — the local SFTP server reads it at every login — and
 * in AWS each change is made in Transfer Family too, through {@link SftpGateway}. Users of the
 * config belong to the stack: they are listed, but changing them is refused (deleting them through
 * the API would make the stack drift).
 */

/** A public key as shown: never the key itself, which the caller has. */
export interface SftpKeyView {
  readonly fingerprint: string;
  readonly type: string;
  readonly comment?: string;
  readonly addedAt?: string;
}

/** An SFTP user as the API shows it. */
export interface SftpUserView {
  readonly name: string;
  /** `config`: deployed with the stack; `runtime`: added through the API. */
  readonly source: 'config' | 'runtime';
  readonly datasets: string[];
  readonly keys: SftpKeyView[];
  /** Config users' key files (read by the stack or the local runtime, not by the API). */
  readonly keyFiles?: string[];
  readonly createdAt?: string;
  readonly createdBy?: string;
}

/** What adding a user takes. */
export interface NewSftpUser {
  readonly name: string;
  readonly datasets: readonly string[];
  /** OpenSSH public key lines, at least one. */
  readonly publicKeys: readonly string[];
}

export interface SftpUserService {
  /** `false` in a stack deployed without an SFTP server, where every operation is refused. */
  readonly enabled: boolean;
  /** Every user, config users first, each group by name. */
  list(): Promise<SftpUserView[]>;
  get(name: string): Promise<SftpUserView>;
  add(user: NewSftpUser, by?: string): Promise<SftpUserView>;
  remove(name: string): Promise<void>;
  addKey(name: string, publicKey: string): Promise<SftpUserView>;
  removeKey(name: string, fingerprint: string): Promise<SftpUserView>;
}

export interface SftpUserServiceDeps {
  readonly store: Pick<Store, 'createSftpUser' | 'getSftpUser' | 'listSftpUsers' | 'replaceSftpUserKeys' | 'deleteSftpUser'>;
  readonly config: Pick<SymbiontConfig, 'sftpUsers' | 'datasets'>;
  readonly gateway: SftpGateway;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Most keys a user may have (Transfer Family's limit per user). */
export const MAX_KEYS_PER_USER = 50;

export function createSftpUserService(deps: SftpUserServiceDeps): SftpUserService {
  const { store, config, gateway } = deps;
  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  const enabled = gateway.kind !== 'disabled';
  const ensureEnabled = () => {
    if (!enabled) throw new SftpNotEnabledError();
  };
  const configUser = (name: string) => (Object.hasOwn(config.sftpUsers, name) ? config.sftpUsers[name] : undefined);
  const refuseConfigUser = (name: string, what: string) => {
    if (configUser(name)) {
      throw new ConfigSftpUserError(
        `${name} is a user of the config: it belongs to the stack, so ${what} is done in symbiont.config.json and deployed, not at run time`,
        { name },
      );
    }
  };
  const stored = async (name: string): Promise<SftpUserRecord> => {
    const record = await store.getSftpUser(checkSftpUserName(name));
    if (!record) throw new SftpUserNotFoundError(`no SFTP user ${name} was added at run time`, { name });
    return record;
  };

  return {
    enabled,

    async list() {
      ensureEnabled();
      const fromConfig = Object.keys(config.sftpUsers).sort().map((name) => configView(name, config));
      const added = (await store.listSftpUsers()).filter((user) => !configUser(user.name)).map(runtimeView);
      return [...fromConfig, ...added];
    },

    async get(name) {
      ensureEnabled();
      if (configUser(name)) return configView(name, config);
      return runtimeView(await stored(name));
    },

    async add(user, by) {
      ensureEnabled();
      const name = checkSftpUserName(user.name);
      if (configUser(name)) throw new SftpUserExistsError(`${name} is already a user of the config; choose another name`, { name });
      const datasets = checkDatasets(user.datasets, config);
      const keys = checkKeys(user.publicKeys);
      const at = now();
      const record: SftpUserRecord = {
        name,
        datasets,
        keys: keys.map((key) => ({ fingerprint: key.fingerprint, publicKey: key.line, addedAt: at })),
        revision: 1,
        createdAt: at,
        updatedAt: at,
        ...(by ? { createdBy: by } : {}),
      };
      // The table first: it claims the name (a conditional write), so two admins adding the same
      // user cannot both reach Transfer Family. Locally the user can log in from this moment.
      try {
        await store.createSftpUser(record);
      } catch (error) {
        if (error instanceof AlreadyExistsError) throw new SftpUserExistsError(`an SFTP user ${name} exists already; remove it first or choose another name`, { name }, { cause: error });
        throw error;
      }
      let ids: ReadonlyMap<string, string>;
      try {
        ids = await gateway.createUser({ name, datasets, keys });
      } catch (error) {
        await store.deleteSftpUser(name);
        throw error;
      }
      if (ids.size === 0) return runtimeView(record);
      const withIds = record.keys.map((key) => ({ ...key, ...(ids.has(key.fingerprint) ? { transferKeyId: ids.get(key.fingerprint) } : {}) }));
      return runtimeView(await store.replaceSftpUserKeys(name, { revision: record.revision, keys: withIds, at }));
    },

    async remove(name) {
      ensureEnabled();
      refuseConfigUser(name, 'removing it');
      await stored(name);
      // Transfer Family first: once the table forgets the user, nothing would remind us of it there.
      await gateway.deleteUser(name);
      await store.deleteSftpUser(name);
    },

    async addKey(name, publicKey) {
      ensureEnabled();
      refuseConfigUser(name, 'changing its keys');
      const user = await stored(name);
      const key = parsePublicKey(publicKey);
      if (user.keys.some((k) => k.fingerprint === key.fingerprint)) {
        throw new SftpKeyExistsError(`the key ${key.fingerprint} is one of ${name}'s already`, { name, fingerprint: key.fingerprint });
      }
      if (user.keys.length >= MAX_KEYS_PER_USER) {
        throw new InvalidPublicKeyError(`${name} has ${user.keys.length} keys, the most a user may have; remove one first`, { name });
      }
      const keyId = await gateway.importKey(name, key);
      const added: StoredSftpKey = { fingerprint: key.fingerprint, publicKey: key.line, addedAt: now(), ...(keyId ? { transferKeyId: keyId } : {}) };
      try {
        return runtimeView(await store.replaceSftpUserKeys(name, { revision: user.revision, keys: [...user.keys, added], at: added.addedAt }));
      } catch (error) {
        // The key must not work anywhere the table does not show it.
        await gateway.deleteKey(name, added);
        throw error;
      }
    },

    async removeKey(name, fingerprint) {
      ensureEnabled();
      refuseConfigUser(name, 'changing its keys');
      const user = await stored(name);
      const key = user.keys.find((k) => k.fingerprint === fingerprint);
      if (!key) {
        throw new SftpKeyNotFoundError(`${name} has no key ${fingerprint}; their keys: ${user.keys.map((k) => k.fingerprint).join(', ')}`, { name, fingerprint });
      }
      if (user.keys.length === 1) {
        throw new LastSftpKeyError(`${fingerprint} is ${name}'s only key: add the new key first (symbiont sftp-users keys add), or remove the user`, { name, fingerprint });
      }
      // Transfer Family first, so the key stops working even if the table write must be retried.
      await gateway.deleteKey(name, key);
      return runtimeView(await store.replaceSftpUserKeys(name, { revision: user.revision, keys: user.keys.filter((k) => k !== key), at: now() }));
    },
  };
}

/**
 * The service the API function builds: Transfer Family when the stack has an SFTP server (its id
 * and the run-time users' role in the environment), otherwise one that refuses every operation.
 */
export function createSftpUserServiceFromEnv(
  store: SftpUserServiceDeps['store'],
  config: SftpUserServiceDeps['config'],
  env: NodeJS.ProcessEnv = process.env,
): SftpUserService {
  const serverId = env[envNames.sftpServerId];
  const roleArn = env[envNames.sftpUserRoleArn];
  const landingBucket = env[envNames.landingBucket];
  if (!serverId || !roleArn || !landingBucket) return createSftpUserService({ store, config, gateway: disabledGateway() });
  return createSftpUserService({
    store,
    config,
    gateway: transferGateway({ client: traced(new TransferClient({})), serverId, roleArn, landingBucket, region: env.AWS_REGION }),
  });
}

function checkDatasets(datasets: readonly string[], config: Pick<SymbiontConfig, 'datasets'>): string[] {
  const unique = [...new Set(datasets)];
  if (unique.length === 0) throw new UnknownSftpDatasetError('give at least one dataset the user may upload to', { datasets });
  const unknown = unique.filter((d) => !Object.hasOwn(config.datasets, d));
  if (unknown.length > 0) {
    const known = Object.keys(config.datasets).sort();
    throw new UnknownSftpDatasetError(
      `${unknown.length === 1 ? 'dataset' : 'datasets'} ${unknown.map((d) => `"${d}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not configured; known datasets: ${known.join(', ') || 'none'}`,
      { unknown, known },
    );
  }
  return unique;
}

function checkKeys(lines: readonly string[]): PublicKey[] {
  if (lines.length === 0) throw new InvalidPublicKeyError('give at least one public key; a user without one could never log in');
  if (lines.length > MAX_KEYS_PER_USER) throw new InvalidPublicKeyError(`at most ${MAX_KEYS_PER_USER} keys per user`);
  const keys = lines.map((line, i) => {
    try {
      return parsePublicKey(line);
    } catch (error) {
      if (error instanceof InvalidPublicKeyError && lines.length > 1) throw new InvalidPublicKeyError(`key ${i + 1}: ${error.message}`, { index: i }, { cause: error });
      throw error;
    }
  });
  return keys.filter((key, i) => keys.findIndex((k) => k.fingerprint === key.fingerprint) === i);
}

function keyView(line: string, addedAt?: string): SftpKeyView | undefined {
  try {
    const key = parsePublicKey(line);
    return { fingerprint: key.fingerprint, type: key.type, ...(key.comment ? { comment: key.comment } : {}), ...(addedAt ? { addedAt } : {}) };
  } catch {
    return undefined;
  }
}

function configView(name: string, config: Pick<SymbiontConfig, 'sftpUsers'>): SftpUserView {
  const spec = config.sftpUsers[name]!;
  return {
    name,
    source: 'config',
    datasets: [...spec.datasets],
    keys: spec.publicKeys.map((line) => keyView(line)).filter((k): k is SftpKeyView => k !== undefined),
    ...(spec.publicKeyFiles.length > 0 ? { keyFiles: [...spec.publicKeyFiles] } : {}),
  };
}

function runtimeView(user: SftpUserRecord): SftpUserView {
  return {
    name: user.name,
    source: 'runtime',
    datasets: [...user.datasets],
    keys: user.keys.map((k) => keyView(k.publicKey, k.addedAt) ?? { fingerprint: k.fingerprint, type: k.publicKey.split(' ')[0] ?? '', addedAt: k.addedAt }),
    createdAt: user.createdAt,
    ...(user.createdBy ? { createdBy: user.createdBy } : {}),
  };
}
