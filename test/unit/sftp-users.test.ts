import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '#config/load';
import { createStore, type Store } from '#store/store';
import {
  ConfigSftpUserError,
  InvalidPublicKeyError,
  InvalidSftpUserNameError,
  LastSftpKeyError,
  SftpKeyExistsError,
  SftpKeyNotFoundError,
  SftpNotEnabledError,
  SftpUserExistsError,
  SftpUserNotFoundError,
  UnknownSftpDatasetError,
} from '#sftp/errors';
import { disabledGateway, localGateway, type SftpGateway } from '#sftp/gateway';
import { parsePublicKey } from '#sftp/public-keys';
import { createSftpUserService, type SftpUserService } from '#sftp/users';
import { ed25519Line, rsaLine } from './sftp-users-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/**
 * SFTP users at run time: the rules (config users belong to the stack, datasets must exist, keys
 * must be valid) and the records, on a real table (dynalite in process). The calls into Transfer
 * Family are in sftp-users-transfer.test.ts.
 */

const config = parseConfig(JSON.parse(readFileSync(new URL('../../symbiont.config.json', import.meta.url), 'utf8')));
const NOW = new Date('2025-01-20T09:00:00.000Z');

let table: TestTable;
let store: Store;

function service(gateway: SftpGateway = localGateway()): SftpUserService {
  return createSftpUserService({ store, config, gateway, now: () => NOW });
}

beforeEach(async () => {
  table = await startTestTable();
  store = createStore({ client: table.client, tableName: table.tableName });
});

afterEach(async () => {
  await table.close();
});

describe('adding SFTP users at run time', () => {
  it('records the user with their datasets and key, who added them and when', async () => {
    // Prepare
    const key = ed25519Line('erin@lab');

    // Act
    const added = await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [key] }, 'local-admin');

    // Assess
    expect(added).toEqual({
      name: 'erin',
      source: 'runtime',
      datasets: ['readings'],
      keys: [{ fingerprint: parsePublicKey(key).fingerprint, type: 'ssh-ed25519', comment: 'erin@lab', addedAt: NOW.toISOString() }],
      createdAt: NOW.toISOString(),
      createdBy: 'local-admin',
    });
    expect(await store.getSftpUser('erin')).toMatchObject({ name: 'erin', datasets: ['readings'], keys: [{ publicKey: key }], revision: 1 });
  });

  it('refuses a dataset the config does not define, naming the known ones', async () => {
    // Act
    const add = service().add({ name: 'erin', datasets: ['readings', 'weather'], publicKeys: [ed25519Line()] });

    // Assess
    await expect(add).rejects.toThrow(UnknownSftpDatasetError);
    await expect(add).rejects.toThrow('dataset "weather" is not configured; known datasets: readings, sites');
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('refuses an invalid key with the reason', async () => {
    // Act
    const add = service().add({ name: 'erin', datasets: ['readings'], publicKeys: ['ssh-ed25519 AAAA'] });

    // Assess
    await expect(add).rejects.toThrow(InvalidPublicKeyError);
    await expect(add).rejects.toThrow(/invalid public key/);
  });

  it('refuses a user without keys', async () => {
    // Act
    const add = service().add({ name: 'erin', datasets: ['readings'], publicKeys: [] });

    // Assess
    await expect(add).rejects.toThrow(/at least one public key/);
  });

  it('refuses the name of a config user', async () => {
    // Act
    const add = service().add({ name: 'alice', datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Assess
    await expect(add).rejects.toThrow(SftpUserExistsError);
    await expect(add).rejects.toThrow(/already a user of the config/);
  });

  it('refuses a name taken by a run-time user', async () => {
    // Prepare
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Act
    const again = service().add({ name: 'erin', datasets: ['sites'], publicKeys: [ed25519Line()] });

    // Assess
    await expect(again).rejects.toThrow(SftpUserExistsError);
  });

  it.each([['ab'], ['Erin'], ['1erin'], ['erin.smith'], ['e'.repeat(65)]])('refuses the name %j', async (name) => {
    // Act
    const add = service().add({ name, datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Assess
    await expect(add).rejects.toThrow(InvalidSftpUserNameError);
  });

  it('forgets the user again when the gateway cannot create it', async () => {
    // Prepare
    const failing: SftpGateway = { ...localGateway(), kind: 'transfer', createUser: async () => Promise.reject(new Error('Transfer Family is down')) };

    // Act
    const add = service(failing).add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Assess
    await expect(add).rejects.toThrow('Transfer Family is down');
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('keeps the id the gateway gave each key', async () => {
    // Prepare
    const key = ed25519Line();
    const gateway: SftpGateway = { ...localGateway(), kind: 'transfer', createUser: async () => new Map([[parsePublicKey(key).fingerprint, 'key-0123456789abcdef0']]) };

    // Act
    await service(gateway).add({ name: 'erin', datasets: ['readings'], publicKeys: [key] });

    // Assess
    expect((await store.getSftpUser('erin'))?.keys[0]?.transferKeyId).toBe('key-0123456789abcdef0');
  });
});

describe('listing SFTP users', () => {
  it('lists config users first, then run-time users, each marked with where it comes from', async () => {
    // Prepare
    await service().add({ name: 'zoe', datasets: ['sites'], publicKeys: [ed25519Line()] });
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Act
    const users = await service().list();

    // Assess
    expect(users.map((u) => [u.name, u.source])).toEqual([
      ['alice', 'config'],
      ['demo', 'config'],
      ['erin', 'runtime'],
      ['zoe', 'runtime'],
    ]);
  });

  it('shows a config user with its key fingerprints and key files', async () => {
    // Act
    const demo = await service().get('demo');

    // Assess
    expect(demo).toMatchObject({ name: 'demo', source: 'config', datasets: ['readings', 'sites'], keyFiles: ['.symbiont/sftp/demo_ed25519.pub'] });
  });

  it('answers not found for a user nobody added', async () => {
    // Act
    const get = service().get('nobody');

    // Assess
    await expect(get).rejects.toThrow(SftpUserNotFoundError);
  });
});

describe('removing SFTP users', () => {
  it('removes a run-time user from the gateway and the table', async () => {
    // Prepare
    const removed: string[] = [];
    const gateway: SftpGateway = { ...localGateway(), deleteUser: async (name) => void removed.push(name) };
    await service(gateway).add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });

    // Act
    await service(gateway).remove('erin');

    // Assess
    expect(removed).toEqual(['erin']);
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('refuses to remove a config user, which belongs to the stack', async () => {
    // Act
    const remove = service().remove('alice');

    // Assess
    await expect(remove).rejects.toThrow(ConfigSftpUserError);
    await expect(remove).rejects.toThrow(/belongs to the stack/);
  });

  it('answers not found for a user nobody added', async () => {
    // Act
    const remove = service().remove('nobody');

    // Assess
    await expect(remove).rejects.toThrow(SftpUserNotFoundError);
  });
});

describe('keys of run-time users', () => {
  it('adds a key, so a key can be rotated without removing the user', async () => {
    // Prepare
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });
    const next = rsaLine();

    // Act
    const user = await service().addKey('erin', next);

    // Assess
    expect(user.keys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect((await store.getSftpUser('erin'))?.revision).toBe(2);
  });

  it('refuses a key the user has already', async () => {
    // Prepare
    const key = ed25519Line();
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [key] });

    // Act
    const again = service().addKey('erin', key);

    // Assess
    await expect(again).rejects.toThrow(SftpKeyExistsError);
  });

  it('removes a key by its fingerprint, at the gateway too', async () => {
    // Prepare
    const old = ed25519Line('old');
    const deleted: string[] = [];
    const gateway: SftpGateway = { ...localGateway(), deleteKey: async (_name, key) => void deleted.push(key.fingerprint) };
    await service(gateway).add({ name: 'erin', datasets: ['readings'], publicKeys: [old, ed25519Line('new')] });

    // Act
    const user = await service(gateway).removeKey('erin', parsePublicKey(old).fingerprint);

    // Assess
    expect(deleted).toEqual([parsePublicKey(old).fingerprint]);
    expect(user.keys.map((k) => k.comment)).toEqual(['new']);
  });

  it('refuses to remove the only key, saying to add the new one first', async () => {
    // Prepare
    const only = ed25519Line();
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [only] });

    // Act
    const remove = service().removeKey('erin', parsePublicKey(only).fingerprint);

    // Assess
    await expect(remove).rejects.toThrow(LastSftpKeyError);
  });

  it('answers not found for a fingerprint the user does not have', async () => {
    // Prepare
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line(), ed25519Line()] });

    // Act
    const remove = service().removeKey('erin', parsePublicKey(ed25519Line()).fingerprint);

    // Assess
    await expect(remove).rejects.toThrow(SftpKeyNotFoundError);
  });

  it('refuses to change the keys of a config user', async () => {
    // Act
    const add = service().addKey('alice', ed25519Line());

    // Assess
    await expect(add).rejects.toThrow(ConfigSftpUserError);
  });

  it('takes a key back out of the gateway when the table changed under it', async () => {
    // Prepare
    await service().add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] });
    const taken: string[] = [];
    const gateway: SftpGateway = {
      ...localGateway(),
      // Another admin changes the user between this one's read and write.
      importKey: async () => {
        await service().addKey('erin', ed25519Line('concurrent'));
        return 'key-imported';
      },
      deleteKey: async (_name, key) => void taken.push(key.transferKeyId ?? ''),
    };

    // Act
    const add = service(gateway).addKey('erin', ed25519Line('mine'));

    // Assess
    await expect(add).rejects.toThrow(/changed .* while its keys were being changed/);
    expect(taken).toEqual(['key-imported']);
  });
});

describe('a stack without an SFTP server', () => {
  it.each([
    ['list', (s: SftpUserService) => s.list()],
    ['add', (s: SftpUserService) => s.add({ name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] })],
    ['remove', (s: SftpUserService) => s.remove('erin')],
  ])('refuses to %s users, saying SFTP is not enabled', async (_op, call) => {
    // Act
    const result = call(service(disabledGateway()));

    // Assess
    await expect(result).rejects.toThrow(SftpNotEnabledError);
    await expect(result).rejects.toThrow('SFTP is not enabled in this stack');
  });
});
