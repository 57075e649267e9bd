import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi, type Router } from '#api/api';
import { createStore, type Store } from '#store/store';
import { disabledGateway, localGateway, type SftpGateway } from '#sftp/gateway';
import { parsePublicKey } from '#sftp/public-keys';
import { createSftpUserService } from '#sftp/users';
import { bearer, config, json, localAuthenticator, MemoryUploads, request } from './api-fixtures.ts';
import { ed25519Line } from './sftp-users-fixtures.ts';
import { startTestTable, type TestTable } from './versions-dynalite.ts';

/** The SFTP user routes through the one router: admin only, the service's refusals as 4xx. */

let table: TestTable;
let store: Store;

function api(gateway: SftpGateway = localGateway()): Router {
  return createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator, sftpUsers: createSftpUserService({ store, config, gateway }) });
}

const asJson = { 'content-type': 'application/json' };
const post = (path: string, body: unknown, role: 'admin' | 'scientist' | 'uploader' = 'admin') => request('POST', path, { ...bearer(role), ...asJson }, JSON.stringify(body));

beforeEach(async () => {
  table = await startTestTable();
  store = createStore({ client: table.client, tableName: table.tableName });
});

afterEach(async () => {
  await table.close();
});

describe('SFTP user routes', () => {
  it('lists the users of the config to an admin', async () => {
    // Act
    const result = await api().handle(request('GET', '/sftp-users', bearer('admin')));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result).items.map((u: { name: string; source: string }) => `${u.name}:${u.source}`)).toEqual(['alice:config', 'demo:config']);
  });

  it.each([['scientist'], ['uploader']] as const)('refuses a %s token', async (role) => {
    // Act
    const result = await api().handle(post('/sftp-users', { name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] }, role));

    // Assess
    expect(result.statusCode).toBe(403);
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('adds a user and answers 201 with the user', async () => {
    // Prepare
    const key = ed25519Line('erin@lab');

    // Act
    const result = await api().handle(post('/sftp-users', { name: 'erin', datasets: ['readings'], publicKeys: [key] }));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(json(result)).toMatchObject({ name: 'erin', source: 'runtime', createdBy: 'local-admin', keys: [{ fingerprint: parsePublicKey(key).fingerprint }] });
  });

  it('refuses an invalid key with 400 and the reason', async () => {
    // Act
    const result = await api().handle(post('/sftp-users', { name: 'erin', datasets: ['readings'], publicKeys: ['ssh-dss AAAA'] }));

    // Assess
    expect(result.statusCode).toBe(400);
    expect(json(result).error.message).toMatch(/not a key type Transfer Family accepts/);
  });

  it('refuses an unknown dataset with 400, naming the known ones', async () => {
    // Act
    const result = await api().handle(post('/sftp-users', { name: 'erin', datasets: ['weather'], publicKeys: [ed25519Line()] }));

    // Assess
    expect(result.statusCode).toBe(400);
    expect(json(result).error.message).toBe('dataset "weather" is not configured; known datasets: readings, sites');
  });

  it('refuses to remove a config user with 409', async () => {
    // Act
    const result = await api().handle(request('DELETE', '/sftp-users/alice', bearer('admin')));

    // Assess
    expect(result.statusCode).toBe(409);
    expect(json(result).error.message).toMatch(/alice is a user of the config: it belongs to the stack/);
  });

  it('removes a run-time user', async () => {
    // Prepare
    await api().handle(post('/sftp-users', { name: 'erin', datasets: ['readings'], publicKeys: [ed25519Line()] }));

    // Act
    const result = await api().handle(request('DELETE', '/sftp-users/erin', bearer('admin')));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ name: 'erin', removed: true });
    expect(await store.getSftpUser('erin')).toBeUndefined();
  });

  it('adds a key and removes another by its fingerprint', async () => {
    // Prepare
    const old = ed25519Line('old');
    await api().handle(post('/sftp-users', { name: 'erin', datasets: ['readings'], publicKeys: [old] }));
    await api().handle(post('/sftp-users/erin/keys', { publicKey: ed25519Line('new') }));
    const fingerprint = encodeURIComponent(parsePublicKey(old).fingerprint);

    // Act
    const result = await api().handle(request('DELETE', `/sftp-users/erin/keys?fingerprint=${fingerprint}`, bearer('admin')));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result).keys.map((k: { comment: string }) => k.comment)).toEqual(['new']);
  });

  it('answers 409 "SFTP is not enabled in this stack" where the stack has no SFTP server', async () => {
    // Act
    const result = await api(disabledGateway()).handle(request('GET', '/sftp-users', bearer('admin')));

    // Assess
    expect(result.statusCode).toBe(409);
    expect(json(result).error).toMatchObject({ code: 'sftp_not_enabled', message: expect.stringMatching(/^SFTP is not enabled in this stack/) });
  });

  it('describes the routes in the OpenAPI document', async () => {
    // Act
    const document = json(await api().handle(request('GET', '/openapi.json')));

    // Assess
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/sftp-users', '/sftp-users/{name}', '/sftp-users/{name}/keys']));
  });
});
