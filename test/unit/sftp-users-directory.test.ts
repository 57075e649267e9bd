import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import type { SftpUserRecord } from '#store/store';
import { parsePublicKey } from '#sftp/public-keys';
import { checkPublicKey, combinedUserDirectory, configUserDirectory, tableUserDirectory, type SftpUserLookup } from '../../local/sftp-auth.ts';
import { ed25519Line } from './sftp-users-fixtures.ts';

/**
 * The local SFTP server finds run-time users in the table at every login, so a user the API adds
 * logs in at once and a removed one cannot; config users come first.
 */

const { utils } = ssh2;

function record(name: string, lines: readonly string[]): SftpUserRecord {
  return {
    name,
    datasets: ['readings'],
    keys: lines.map((line) => ({ fingerprint: parsePublicKey(line).fingerprint, publicKey: line, addedAt: '2025-01-20T09:00:00.000Z' })),
    revision: 1,
    createdAt: '2025-01-20T09:00:00.000Z',
    updatedAt: '2025-01-20T09:00:00.000Z',
  };
}

/** A table of users that records the names it was asked for. */
function table(users: SftpUserRecord[]): SftpUserLookup & { asked: string[]; users: SftpUserRecord[] } {
  const asked: string[] = [];
  return { asked, users, getSftpUser: async (name) => (asked.push(name), users.find((u) => u.name === name)) };
}

describe('the table of run-time SFTP users, as the local server sees it', () => {
  it('finds a run-time user with their datasets and a key that matches what the client offers', async () => {
    // Prepare
    const line = ed25519Line();
    const directory = tableUserDirectory(table([record('erin', [line])]));
    const offered = utils.parseKey(line) as ssh2.ParsedKey;

    // Act
    const account = await directory.find('erin');

    // Assess
    expect(account?.datasets).toEqual(['readings']);
    expect(checkPublicKey(account!, { algo: 'ssh-ed25519', data: offered.getPublicSSH() }).kind).toBe('acceptable');
  });

  it('finds nobody once the user is removed from the table', async () => {
    // Prepare
    const users = table([record('erin', [ed25519Line()])]);
    const directory = tableUserDirectory(users);
    users.users.splice(0);

    // Act
    const account = await directory.find('erin');

    // Assess
    expect(account).toBeUndefined();
  });

  it('does not look up a name that cannot be a user', async () => {
    // Prepare
    const users = table([]);

    // Act
    const account = await tableUserDirectory(users).find('SFTPUSER#x');

    // Assess
    expect(account).toBeUndefined();
    expect(users.asked).toEqual([]);
  });

  it('leaves out a stored key that does not parse, keeping the others', async () => {
    // Prepare
    const good = ed25519Line('good');
    const user = record('erin', [good]);
    user.keys.push({ fingerprint: 'SHA256:broken', publicKey: 'ssh-ed25519 AAAA', addedAt: user.createdAt });

    // Act
    const account = await tableUserDirectory(table([user])).find('erin');

    // Assess
    expect(account?.keys.map((k) => k.source)).toEqual([`table (${parsePublicKey(good).fingerprint})`]);
  });

  it('waits for the table when logins come before it is ready', async () => {
    // Prepare
    let ready!: (lookup: SftpUserLookup) => void;
    const directory = tableUserDirectory(new Promise<SftpUserLookup>((resolve) => (ready = resolve)));
    const pending = directory.find('erin');

    // Act
    ready(table([record('erin', [ed25519Line()])]));

    // Assess
    expect((await pending)?.name).toBe('erin');
  });

  it('answers with the config user when the config and the table both name a user', async () => {
    // Prepare
    const configKey = utils.parseKey(ed25519Line('config')) as ssh2.ParsedKey;
    const fromConfig = configUserDirectory({ sftpUsers: { erin: { publicKeys: [], publicKeyFiles: [], datasets: ['sites'] } } }, new Map([['erin', [{ key: configKey, source: 'config' }]]]));
    const directory = combinedUserDirectory(fromConfig, tableUserDirectory(table([record('erin', [ed25519Line()])])));

    // Act
    const account = await directory.find('erin');

    // Assess
    expect(account?.datasets).toEqual(['sites']);
  });
});
