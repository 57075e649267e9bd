import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import type { SymbiontConfig } from '#config/schema';
import { SftpKeyError } from './errors.ts';
import { log as logger } from './log.ts';

// ssh2 is CommonJS without named exports Node can see: read it from the default export.
const { utils } = ssh2;

/**
 * The keys of the local SFTP server: its host key, the `known_hosts` file that lets OpenSSH trust
 * it in batch mode (LOCAL-STACK.md), and the users' public keys from the config — generating the
 * key pairs the runtime itself owns (the demo user's) on first start.
 */

/** The server's host key and where OpenSSH finds it. */
export interface HostKey {
  /** OpenSSH private key, for ssh2's `hostKeys`. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA…` */
  readonly publicLine: string;
}

/** One user's public key, parsed, and where it came from (for logs). */
export interface UserKey {
  readonly key: ParsedKey;
  readonly source: string;
}

/** A user key pair the runtime generated and keeps under the data directory. */
export interface OwnedKeyPair {
  readonly user: string;
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
}

/** The users' keys as the config gives them. */
export interface ConfiguredKeys {
  /** Public keys per user. */
  readonly keys: ReadonlyMap<string, readonly UserKey[]>;
  /** Key pairs the runtime owns (files under the data directory), whether made now or earlier. */
  readonly owned: readonly OwnedKeyPair[];
}

/** The folder under the data directory that holds the SFTP server's files. */
export function sftpDir(dataDir: string): string {
  return join(dataDir, 'sftp');
}

/** Reads the host key from `<dataDir>/sftp/host_ed25519`, generating it on first start. */
export function loadOrCreateHostKey(dataDir: string): HostKey {
  const file = join(sftpDir(dataDir), 'host_ed25519');
  if (!existsSync(file)) {
    generateKeyPair(file, 'symbiont-local-sftp-host');
    logger.info('generated the SFTP host key', { file });
  }
  const privateKey = readFileSync(file, 'utf8');
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new SftpKeyError('(host)', `${file} is not an OpenSSH private key: ${parsed.message}`, { cause: parsed });
  return { privateKey, publicLine: `${parsed.type} ${parsed.getPublicSSH().toString('base64')}` };
}

/**
 * Writes `<dataDir>/sftp/known_hosts` for the address clients use. Rewritten on every start: the
 * port may change (0 picks a free one), and OpenSSH matches `[host]:port`.
 */
export function writeKnownHosts(dataDir: string, host: string, port: number, hostKey: HostKey): string {
  const file = join(sftpDir(dataDir), 'known_hosts');
  const name = port === 22 ? host : `[${host}]:${port}`;
  writeAtomically(file, `${name} ${hostKey.publicLine}\n`, 0o644);
  return file;
}

/**
 * Reads every user's public keys: `publicKeys` lines and `publicKeyFiles` (relative to the config
 * file's folder). A key file under the config's data directory (`local.dataDir`, `.symbiont` by
 * default) belongs to the runtime: it is read from the data directory actually in use (tests and
 * `--data-dir` use another) and its key pair is generated when missing — that is how the demo user
 * gets a key. A key file elsewhere is the user's own and must exist.
 */
export function loadConfiguredKeys(config: Pick<SymbiontConfig, 'sftpUsers' | 'local'>, configDir: string, dataDir: string): ConfiguredKeys {
  const configuredDataDir = resolve(configDir, config.local.dataDir);
  const keys = new Map<string, UserKey[]>();
  const owned: OwnedKeyPair[] = [];
  for (const [user, spec] of Object.entries(config.sftpUsers)) {
    const userKeys: UserKey[] = [];
    spec.publicKeys.forEach((line, i) => userKeys.push(...parseKeyLines(user, line, `publicKeys[${i}]`)));
    for (const file of spec.publicKeyFiles) {
      const configured = resolve(configDir, file);
      const inDataDir = relative(configuredDataDir, configured);
      const runtimeOwned = inDataDir !== '' && !inDataDir.startsWith('..') && !isAbsolute(inDataDir);
      const path = runtimeOwned ? join(dataDir, inDataDir) : configured;
      if (runtimeOwned) {
        if (!path.endsWith('.pub')) throw new SftpKeyError(user, `public key file ${file} must end in .pub (its private key is the same name without it)`);
        const privateKeyPath = path.slice(0, -'.pub'.length);
        if (!existsSync(path)) {
          generateKeyPair(privateKeyPath, `${user}@symbiont-local`);
          logger.info('generated a key pair for an SFTP user', { user, privateKeyPath });
        }
        owned.push({ user, privateKeyPath, publicKeyPath: path });
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new SftpKeyError(user, `cannot read public key file ${file} (${path}): ${(error as Error).message}`, { cause: error });
      }
      userKeys.push(...parseKeyLines(user, text, file));
    }
    keys.set(user, userKeys);
  }
  return { keys, owned };
}

/** The keys in `text`: one OpenSSH public key per line; blank lines and `#` comments are skipped. */
function parseKeyLines(user: string, text: string, source: string): UserKey[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new SftpKeyError(user, `${source} holds no public key`);
  return lines.map((line) => {
    const key = utils.parseKey(line);
    if (key instanceof Error) throw new SftpKeyError(user, `${source} is not an OpenSSH public key: ${key.message}`, { cause: key });
    if (key.isPrivateKey()) throw new SftpKeyError(user, `${source} is a private key; give the public one`);
    return { key, source };
  });
}

/** Writes a new ed25519 key pair: the private key (owner-only, as OpenSSH requires) and `<file>.pub`. */
function generateKeyPair(privateKeyPath: string, comment: string): void {
  mkdirSync(dirname(privateKeyPath), { recursive: true });
  const pair = generateEd25519Pair(comment);
  // The private key first: a `.pub` without its private key would never be regenerated.
  writeAtomically(privateKeyPath, pair.private, 0o600);
  writeAtomically(`${privateKeyPath}.pub`, `${pair.public}\n`, 0o644);
}

/**
 * A new ed25519 key pair in OpenSSH format that ssh2 and OpenSSH both read back. ssh2's generator
 * drops a leading zero byte of the 32-byte public key (about one pair in 300), writing a key nobody
 * can parse, the generator included: such a pair is thrown away and another one drawn.
 */
export function generateEd25519Pair(comment?: string): { readonly private: string; readonly public: string } {
  for (let attempt = 1; ; attempt += 1) {
    const pair = utils.generateKeyPairSync('ed25519', comment === undefined ? {} : { comment });
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) return pair;
    if (attempt === 16) throw new SftpKeyError('(generated)', 'ssh2 generated 16 unreadable ed25519 key pairs in a row');
  }
}

function writeAtomically(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}
