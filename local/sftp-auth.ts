import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { SymbiontConfig } from '#config/schema';
import type { SftpUserRecord } from '#store/store';
import { SFTP_USER_NAME } from '#sftp/home';
import { log as logger } from './log.ts';
import type { UserKey } from './sftp-keys.ts';

// ssh2 is CommonJS without named exports Node can see: read it from the default export.
const { utils } = ssh2;

/**
 * Who may log in to the local SFTP server, and with which key. Public-key authentication only:
 * passwords and keyboard-interactive are refused, as Transfer Family's service-managed users do.
 */

/** An SFTP user: the dataset folders they see and the keys they log in with. */
export interface SftpAccount {
  readonly name: string;
  readonly datasets: readonly string[];
  readonly keys: readonly UserKey[];
}

/**
 * Where the server looks users up, at every login: users may change while it runs. The config's
 * `sftpUsers` ({@link configUserDirectory}) and the users added at run time (DESIGN.md "SFTP
 * user", kept in the table: {@link tableUserDirectory}), together ({@link combinedUserDirectory}).
 */
export interface SftpUserDirectory {
  find(name: string): Promise<SftpAccount | undefined>;
}

/** The users of the config, with the keys read by `loadConfiguredKeys`. */
export function configUserDirectory(config: Pick<SymbiontConfig, 'sftpUsers'>, keys: ReadonlyMap<string, readonly UserKey[]>): SftpUserDirectory {
  const accounts = new Map<string, SftpAccount>(
    Object.entries(config.sftpUsers).map(([name, spec]) => [name, { name, datasets: [...spec.datasets], keys: keys.get(name) ?? [] }]),
  );
  return { find: async (name) => accounts.get(name) };
}

/** What {@link tableUserDirectory} reads: the run-time users of the table. */
export interface SftpUserLookup {
  getSftpUser(name: string): Promise<SftpUserRecord | undefined>;
}

/**
 * The users added at run time, read from the table at every login: a user the API adds logs in at
 * once, and one it removes (or a key it removes) is refused from the next login on. `lookup` may
 * be a promise: the server starts before the table does, and logins wait for it.
 */
export function tableUserDirectory(lookup: SftpUserLookup | Promise<SftpUserLookup>): SftpUserDirectory {
  return {
    async find(name) {
      // A name that cannot be a user is not looked up (nor can it reach another item's key).
      if (!SFTP_USER_NAME.test(name)) return undefined;
      const user = await (await lookup).getSftpUser(name);
      if (!user) return undefined;
      const keys = user.keys.flatMap((stored): UserKey[] => {
        const key = utils.parseKey(stored.publicKey);
        if (key instanceof Error || key.isPrivateKey()) {
          logger.warn('a stored SFTP key does not parse; it is not accepted', { user: name, fingerprint: stored.fingerprint });
          return [];
        }
        return [{ key, source: `table (${stored.fingerprint})` }];
      });
      return { name: user.name, datasets: [...user.datasets], keys };
    },
  };
}

/**
 * Looks a name up in each directory in turn: the config's users first, since they belong to the
 * stack and the API refuses run-time users of the same name.
 */
export function combinedUserDirectory(...directories: readonly SftpUserDirectory[]): SftpUserDirectory {
  return {
    async find(name) {
      for (const directory of directories) {
        const account = await directory.find(name);
        if (account) return account;
      }
      return undefined;
    },
  };
}

/** The key a client offers, as ssh2 reports it. */
export interface OfferedKey {
  /** The key's algorithm name, e.g. `ssh-ed25519` (for RSA, the signature algorithm: `rsa-sha2-256`). */
  readonly algo: string;
  /** The key in SSH wire format. */
  readonly data: Buffer;
}

/** The proof of possession that comes with the second publickey request. */
export interface KeySignature {
  readonly blob: Buffer;
  readonly signature: Buffer;
  readonly hashAlgo?: string;
}

/** What to answer a publickey request. */
export type KeyDecision =
  /** The key is one of the user's but unsigned yet: the client may go on and sign with it. */
  | { readonly kind: 'acceptable'; readonly key: UserKey }
  /** The key is one of the user's and the signature over the session is valid. */
  | { readonly kind: 'authenticated'; readonly key: UserKey }
  | { readonly kind: 'refused'; readonly why: string };

/**
 * Checks a publickey request against the user's keys. The key is compared in constant time on its
 * wire form (which names its type, so an RSA key offered for `rsa-sha2-256` still matches), and a
 * signature is verified with the stored key — never with the key the client sent.
 */
export function checkPublicKey(account: SftpAccount, offered: OfferedKey, signature?: KeySignature): KeyDecision {
  const match = account.keys.find(({ key }) => sameBytes(key.getPublicSSH(), offered.data));
  if (!match) return { kind: 'refused', why: 'the key is not one of the user\'s' };
  if (!signature) return { kind: 'acceptable', key: match };
  if (match.key.verify(signature.blob, signature.signature, signature.hashAlgo) !== true) return { kind: 'refused', why: 'the signature does not verify' };
  return { kind: 'authenticated', key: match };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; comparing `a` with itself keeps the time the same.
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(a, a);
}
