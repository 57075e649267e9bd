import {
  CreateUserCommand,
  DeleteSshPublicKeyCommand,
  DeleteUserCommand,
  DescribeUserCommand,
  ImportSshPublicKeyCommand,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  type TransferClient,
} from '@aws-sdk/client-transfer';
import { logger } from '#shared/observability';
import type { StoredSftpKey } from '#store/sftp-users';
import { InvalidPublicKeyError, SftpKeyExistsError, SftpUserExistsError } from './errors.ts';
import { homeDirectoryMappings, partitionOf, runtimeUserSessionPolicy } from './home.ts';
import type { PublicKey } from './public-keys.ts';

/**
 * Where a run-time user must exist besides the table to log in. In AWS that is Transfer Family,
 * called through its API ({@link transferGateway}); locally the SFTP server reads the table at
 * every login, so there is nothing more to do ({@link localGateway}); and a stack deployed without
 * an SFTP server has nowhere to put users ({@link disabledGateway}).
 */
export interface SftpGateway {
  readonly kind: 'transfer' | 'local' | 'disabled';
  /** Creates the user with these keys; answers the id each key got, by fingerprint (none locally). */
  createUser(user: { readonly name: string; readonly datasets: readonly string[]; readonly keys: readonly PublicKey[] }): Promise<ReadonlyMap<string, string>>;
  /** Deletes the user; one already gone is fine. */
  deleteUser(name: string): Promise<void>;
  /** Adds a key; answers its id, when the gateway gives keys ids. */
  importKey(name: string, key: PublicKey): Promise<string | undefined>;
  /** Removes a key; one already gone is fine. */
  deleteKey(name: string, key: StoredSftpKey): Promise<void>;
}

/** Locally: the table is all there is. */
export function localGateway(): SftpGateway {
  return {
    kind: 'local',
    createUser: async () => new Map(),
    deleteUser: async () => undefined,
    importKey: async () => undefined,
    deleteKey: async () => undefined,
  };
}

/** A stack without an SFTP server: the service refuses before it gets here. */
export function disabledGateway(): SftpGateway {
  const never = async (): Promise<never> => {
    throw new Error('SFTP is not enabled in this stack');
  };
  return { kind: 'disabled', createUser: never, deleteUser: never, importKey: never, deleteKey: never };
}

export interface TransferGatewayOptions {
  readonly client: TransferClient;
  /** The Transfer Family server (`s-…`). */
  readonly serverId: string;
  /** The one role every run-time user gets; their session policy scopes it down to their folder. */
  readonly roleArn: string;
  /** The landing bucket the users' folders are in. */
  readonly landingBucket: string;
  /** For ARNs in the session policy. @default from `AWS_REGION` */
  readonly region?: string;
}

/**
 * Run-time users in Transfer Family: CreateUser with the shared run-time role, LOGICAL home
 * directories (one folder per dataset) and the session policy that scopes the role to the user's
 * folder; keys through ImportSshPublicKey and DeleteSshPublicKey. Users declared in the stack are
 * never touched here (deleting them through the API would make the stack drift).
 */
export function transferGateway(options: TransferGatewayOptions): SftpGateway {
  const { client, serverId } = options;
  const sessionPolicy = runtimeUserSessionPolicy(options.landingBucket, partitionOf(options.region ?? process.env.AWS_REGION ?? 'us-east-1'));

  async function importKey(name: string, key: PublicKey): Promise<string> {
    try {
      const { SshPublicKeyId } = await client.send(new ImportSshPublicKeyCommand({ ServerId: serverId, UserName: name, SshPublicKeyBody: key.line }));
      return SshPublicKeyId!;
    } catch (error) {
      if (error instanceof ResourceExistsException) throw new SftpKeyExistsError(`the key ${key.fingerprint} is one of ${name}'s already`, { name, fingerprint: key.fingerprint }, { cause: error });
      if (error instanceof InvalidRequestException) throw new InvalidPublicKeyError(`Transfer Family refused the key ${key.fingerprint}: ${error.message}`, { fingerprint: key.fingerprint }, { cause: error });
      throw error;
    }
  }

  async function deleteUser(name: string): Promise<void> {
    try {
      await client.send(new DeleteUserCommand({ ServerId: serverId, UserName: name }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  return {
    kind: 'transfer',
    async createUser(user) {
      try {
        await client.send(
          new CreateUserCommand({
            ServerId: serverId,
            UserName: user.name,
            Role: options.roleArn,
            HomeDirectoryType: 'LOGICAL',
            HomeDirectoryMappings: homeDirectoryMappings(options.landingBucket, user.name, user.datasets).map((m) => ({ Entry: m.entry, Target: m.target })),
            Policy: sessionPolicy,
          }),
        );
      } catch (error) {
        if (error instanceof ResourceExistsException) {
          throw new SftpUserExistsError(
            `Transfer Family already has a user ${user.name} that Symbiont did not record (a leftover, or made by hand); delete it there first (aws transfer delete-user --server-id ${serverId} --user-name ${user.name})`,
            { name: user.name },
            { cause: error },
          );
        }
        throw error;
      }
      const ids = new Map<string, string>();
      try {
        for (const key of user.keys) ids.set(key.fingerprint, await importKey(user.name, key));
      } catch (error) {
        // A user half made (some keys missing) is worse than none: take it away and say why.
        await deleteUser(user.name).catch((cleanup: unknown) => logger.error('could not delete a half-created Transfer Family user', { name: user.name, error: cleanup as Error }));
        throw error;
      }
      return ids;
    },
    deleteUser,
    importKey,
    async deleteKey(name, key) {
      const keyId = key.transferKeyId ?? (await findKeyId(client, serverId, name, key.publicKey));
      if (keyId === undefined) return;
      try {
        await client.send(new DeleteSshPublicKeyCommand({ ServerId: serverId, UserName: name, SshPublicKeyId: keyId }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    },
  };
}

/** The Transfer Family id of a key known only by its line (recorded before its import answered). */
async function findKeyId(client: TransferClient, serverId: string, name: string, line: string): Promise<string | undefined> {
  const body = (text: string) => text.trim().split(/\s+/).slice(0, 2).join(' ');
  try {
    const { User } = await client.send(new DescribeUserCommand({ ServerId: serverId, UserName: name }));
    return User?.SshPublicKeys?.find((k) => body(k.SshPublicKeyBody ?? '') === body(line))?.SshPublicKeyId;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
