import {
  CreateUserCommand,
  DeleteSshPublicKeyCommand,
  DeleteUserCommand,
  DescribeUserCommand,
  ImportSshPublicKeyCommand,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  TransferClient,
} from '@aws-sdk/client-transfer';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidPublicKeyError, SftpKeyExistsError, SftpUserExistsError } from '#sftp/errors';
import { transferGateway } from '#sftp/gateway';
import { parsePublicKey } from '#sftp/public-keys';
import { createSftpUserServiceFromEnv } from '#sftp/users';
import { ed25519Line } from './sftp-users-fixtures.ts';

/**
 * Run-time SFTP users in AWS go through Transfer Family's API: CreateUser with the shared role,
 * LOGICAL home directories and the session policy; ImportSshPublicKey, DeleteSshPublicKey,
 * DeleteUser. The client is intercepted by aws-sdk-client-mock.
 */

const client = new TransferClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const transfer = mockClient(client);

const SERVER = 's-0a1b2c3d4e5f6a7b8';
const ROLE = 'arn:aws:iam::123456789012:role/Symbiont-dev-SftpRuntimeUserRole';
const BUCKET = 'symbiont-dev-storagelanding8a1b2c3d-1q2w3e4r5t6y';

const gateway = () => transferGateway({ client, serverId: SERVER, roleArn: ROLE, landingBucket: BUCKET, region: 'eu-west-1' });
/** A service exception as the SDK throws it (its constructor wants the wire fields; tests need the class and message). */
const serviceError = (type: new (opts: never) => Error, message: string) => new type({ message, Message: message, $metadata: {} } as never);

beforeEach(() => {
  transfer.reset();
  transfer.on(CreateUserCommand).resolves({ ServerId: SERVER, UserName: 'erin' });
  transfer.on(ImportSshPublicKeyCommand).resolves({ ServerId: SERVER, UserName: 'erin', SshPublicKeyId: 'key-0123456789abcdef0' });
  transfer.on(DeleteUserCommand).resolves({});
  transfer.on(DeleteSshPublicKeyCommand).resolves({});
});

describe('run-time SFTP users in Transfer Family', () => {
  it('creates the user on the server with the shared run-time role and LOGICAL home directories, one folder per dataset', async () => {
    // Act
    await gateway().createUser({ name: 'erin', datasets: ['readings', 'sites'], keys: [parsePublicKey(ed25519Line())] });

    // Assess
    expect(transfer.commandCalls(CreateUserCommand)[0]?.args[0].input).toMatchObject({
      ServerId: SERVER,
      UserName: 'erin',
      Role: ROLE,
      HomeDirectoryType: 'LOGICAL',
      HomeDirectoryMappings: [
        { Entry: '/readings', Target: `/${BUCKET}/sftp/erin/readings` },
        { Entry: '/sites', Target: `/${BUCKET}/sftp/erin/sites` },
      ],
    });
  });

  it('scopes the shared role to the user\'s own folder with a session policy on ${transfer:UserName}', async () => {
    // Act
    await gateway().createUser({ name: 'erin', datasets: ['readings'], keys: [parsePublicKey(ed25519Line())] });

    // Assess
    const policy = JSON.parse(String(transfer.commandCalls(CreateUserCommand)[0]?.args[0].input.Policy)) as { Statement: { Action: unknown; Resource: unknown; Condition?: unknown }[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${BUCKET}`,
        Condition: { StringLike: { 's3:prefix': ['sftp/${transfer:UserName}', 'sftp/${transfer:UserName}/*'] } },
      }),
      expect.objectContaining({ Resource: `arn:aws:s3:::${BUCKET}/sftp/\${transfer:UserName}/*`, Action: expect.arrayContaining(['s3:PutObject', 's3:GetObject']) }),
    ]);
  });

  it('imports each key and answers the id Transfer Family gave it', async () => {
    // Prepare
    const key = parsePublicKey(ed25519Line());

    // Act
    const ids = await gateway().createUser({ name: 'erin', datasets: ['readings'], keys: [key] });

    // Assess
    expect(transfer.commandCalls(ImportSshPublicKeyCommand)[0]?.args[0].input).toEqual({ ServerId: SERVER, UserName: 'erin', SshPublicKeyBody: key.line });
    expect(ids.get(key.fingerprint)).toBe('key-0123456789abcdef0');
  });

  it('deletes the half-made user when a key is refused, and says why', async () => {
    // Prepare
    transfer.on(ImportSshPublicKeyCommand).rejects(serviceError(InvalidRequestException, 'Unsupported or invalid SSH public key format'));

    // Act
    const create = gateway().createUser({ name: 'erin', datasets: ['readings'], keys: [parsePublicKey(ed25519Line())] });

    // Assess
    await expect(create).rejects.toThrow(InvalidPublicKeyError);
    await expect(create).rejects.toThrow(/Transfer Family refused the key .*Unsupported/);
    expect(transfer.commandCalls(DeleteUserCommand)[0]?.args[0].input).toEqual({ ServerId: SERVER, UserName: 'erin' });
  });

  it('reports a user Transfer Family has but the table does not, with the command that deletes it', async () => {
    // Prepare
    transfer.on(CreateUserCommand).rejects(serviceError(ResourceExistsException, 'User already exists'));

    // Act
    const create = gateway().createUser({ name: 'erin', datasets: ['readings'], keys: [] });

    // Assess
    await expect(create).rejects.toThrow(SftpUserExistsError);
    await expect(create).rejects.toThrow(`aws transfer delete-user --server-id ${SERVER} --user-name erin`);
  });

  it('imports a key added later', async () => {
    // Prepare
    const key = parsePublicKey(ed25519Line());

    // Act
    const id = await gateway().importKey('erin', key);

    // Assess
    expect(id).toBe('key-0123456789abcdef0');
    expect(transfer.commandCalls(ImportSshPublicKeyCommand)).toHaveLength(1);
  });

  it('reports a key Transfer Family has already as a conflict', async () => {
    // Prepare
    transfer.on(ImportSshPublicKeyCommand).rejects(serviceError(ResourceExistsException, 'Key already exists'));

    // Act
    const imported = gateway().importKey('erin', parsePublicKey(ed25519Line()));

    // Assess
    await expect(imported).rejects.toThrow(SftpKeyExistsError);
  });

  it('deletes a key by the id it was imported with', async () => {
    // Act
    await gateway().deleteKey('erin', { fingerprint: 'SHA256:x', publicKey: ed25519Line(), transferKeyId: 'key-0123456789abcdef0', addedAt: '2025-01-20T09:00:00.000Z' });

    // Assess
    expect(transfer.commandCalls(DeleteSshPublicKeyCommand)[0]?.args[0].input).toEqual({ ServerId: SERVER, UserName: 'erin', SshPublicKeyId: 'key-0123456789abcdef0' });
  });

  it('finds the id of a key recorded without one with DescribeUser, then deletes it', async () => {
    // Prepare
    const line = ed25519Line('no-id');
    transfer.on(DescribeUserCommand).resolves({
      ServerId: SERVER,
      User: { Arn: 'arn', UserName: 'erin', SshPublicKeys: [{ SshPublicKeyBody: line.split(' ').slice(0, 2).join(' '), SshPublicKeyId: 'key-found', DateImported: new Date() }] },
    });

    // Act
    await gateway().deleteKey('erin', { fingerprint: 'SHA256:x', publicKey: line, addedAt: '2025-01-20T09:00:00.000Z' });

    // Assess
    expect(transfer.commandCalls(DeleteSshPublicKeyCommand)[0]?.args[0].input.SshPublicKeyId).toBe('key-found');
  });

  it('deletes the user, and takes a user already gone as deleted', async () => {
    // Prepare
    transfer.on(DeleteUserCommand).rejects(serviceError(ResourceNotFoundException, 'Unknown user'));

    // Act
    const deleted = gateway().deleteUser('erin');

    // Assess
    await expect(deleted).resolves.toBeUndefined();
    expect(transfer.commandCalls(DeleteUserCommand)[0]?.args[0].input).toEqual({ ServerId: SERVER, UserName: 'erin' });
  });
});

describe('the API function\'s SFTP user service', () => {
  const store = { createSftpUser: async () => undefined, getSftpUser: async () => undefined, listSftpUsers: async () => [], replaceSftpUserKeys: async () => undefined, deleteSftpUser: async () => true } as never;
  const config = { sftpUsers: {}, datasets: {} };

  it('manages users in Transfer Family when the server id and role are set', () => {
    // Act
    const service = createSftpUserServiceFromEnv(store, config, { SFTP_SERVER_ID: SERVER, SFTP_USER_ROLE_ARN: ROLE, LANDING_BUCKET: BUCKET, AWS_REGION: 'eu-west-1' });

    // Assess
    expect(service.enabled).toBe(true);
  });

  it('refuses every operation when the stack has no SFTP server', async () => {
    // Act
    const service = createSftpUserServiceFromEnv(store, config, { LANDING_BUCKET: BUCKET });

    // Assess
    expect(service.enabled).toBe(false);
    await expect(service.list()).rejects.toThrow('SFTP is not enabled in this stack');
  });
});
