import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { removedSftpUserSchema, sftpUserListSchema, sftpUserSchema, type SftpUser } from '#api/schemas';
import { isFingerprint, parsePublicKey } from '#sftp/public-keys';
import type { CliIo, CommandModule, Session } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatFields, formatTable, formatTime, type Column } from '../output.ts';

/**
 * `symbiont sftp-users …` (admins): who may upload over SFTP. Users added here can log in at
 * once, without a deploy; users of the config are listed but changed only in the config.
 */
export const sftpUsersCommands: CommandModule = {
  register(program, context) {
    const users = program.command('sftp-users').description('SFTP users: list them; add and remove users and their keys at run time (admins).');

    users
      .command('list')
      .description('List the SFTP users: those of the config, then those added at run time.')
      .action(async (_options: unknown, command: Command) => listUsers(context.open(command)));

    users
      .command('show')
      .description('Show one SFTP user: datasets and key fingerprints.')
      .argument('<name>', 'user name')
      .action(async (name: string, _options: unknown, command: Command) => showUser(context.open(command), name));

    users
      .command('add')
      .description('Add an SFTP user who may upload to the given datasets; they can log in at once.')
      .argument('<name>', 'user name: 3 to 64 lower-case letters, digits, "-" and "_", starting with a letter')
      .requiredOption('--key <file>', 'their public key: a .pub file (or the key line itself); repeat for more keys', collect, [])
      .requiredOption('--datasets <names>', 'datasets they may upload to, comma-separated', list)
      .action(async (name: string, options: { key: string[]; datasets: string[] }, command: Command) =>
        addUser(context.open(command), name, options.datasets, options.key.flatMap((k) => readKeys(k, context.io))),
      );

    users
      .command('remove')
      .description('Remove an SFTP user added at run time; they cannot log in from then on (their files stay).')
      .argument('<name>', 'user name')
      .action(async (name: string, _options: unknown, command: Command) => removeUser(context.open(command), name));

    const keys = users.command('keys').description('The public keys of an SFTP user added at run time (to rotate: add the new key, then remove the old).');

    keys
      .command('add')
      .description('Add a public key to a user.')
      .argument('<name>', 'user name')
      .requiredOption('--key <file>', 'the public key: a .pub file (or the key line itself)')
      .action(async (name: string, options: { key: string }, command: Command) => {
        const lines = readKeys(options.key, context.io);
        if (lines.length !== 1) throw new UsageError(`${options.key} holds ${lines.length} keys; add one key at a time`);
        await addKey(context.open(command), name, lines[0]!);
      });

    keys
      .command('remove')
      .description('Remove a public key from a user, named by its fingerprint or by its .pub file.')
      .argument('<name>', 'user name')
      .option('--fingerprint <fingerprint>', 'the key fingerprint (SHA256:…), as `sftp-users show` prints it')
      .option('--key <file>', 'the .pub file of the key to remove')
      .action(async (name: string, options: { fingerprint?: string; key?: string }, command: Command) =>
        removeKey(context.open(command), name, fingerprintOf(options, context.io)),
      );
  },
};

const columns: readonly Column<SftpUser>[] = [
  { header: 'NAME', value: (u) => u.name },
  { header: 'SOURCE', value: (u) => u.source },
  { header: 'DATASETS', value: (u) => u.datasets.join(', ') },
  { header: 'KEYS', value: (u) => String(u.keys.length + (u.keyFiles?.length ?? 0)) },
  { header: 'ADDED', value: (u) => formatTime(u.createdAt) || '-' },
];

async function listUsers(session: Session): Promise<void> {
  const users = await session.client.get('/sftp-users', {}, sftpUserListSchema);
  if (session.json) return session.printJson(users);
  session.print(users.items.length === 0 ? 'No SFTP users.\n' : formatTable(columns, users.items));
}

async function showUser(session: Session, name: string): Promise<void> {
  printUser(session, await session.client.get(`/sftp-users/${encodeURIComponent(name)}`, {}, sftpUserSchema));
}

async function addUser(session: Session, name: string, datasets: string[], publicKeys: string[]): Promise<void> {
  const user = await session.client.post('/sftp-users', { name, datasets, publicKeys }, sftpUserSchema);
  printUser(session, user);
  if (!session.json) session.note(`${user.name} can log in now and sees the folders ${user.datasets.map((d) => `/${d}`).join(', ')}.`);
}

async function removeUser(session: Session, name: string): Promise<void> {
  const removed = await session.client.delete(`/sftp-users/${encodeURIComponent(name)}`, {}, removedSftpUserSchema);
  if (session.json) return session.printJson(removed);
  session.print(`Removed SFTP user ${removed.name}; they cannot log in any more. Their files stay in landing.\n`);
}

async function addKey(session: Session, name: string, publicKey: string): Promise<void> {
  printUser(session, await session.client.post(`/sftp-users/${encodeURIComponent(name)}/keys`, { publicKey }, sftpUserSchema));
}

async function removeKey(session: Session, name: string, fingerprint: string): Promise<void> {
  printUser(session, await session.client.delete(`/sftp-users/${encodeURIComponent(name)}/keys`, { fingerprint }, sftpUserSchema));
}

const keyColumns: readonly Column<SftpUser['keys'][number]>[] = [
  { header: 'FINGERPRINT', value: (k) => k.fingerprint },
  { header: 'TYPE', value: (k) => k.type },
  { header: 'COMMENT', value: (k) => k.comment ?? '' },
  { header: 'ADDED', value: (k) => formatTime(k.addedAt) },
];

function printUser(session: Session, user: SftpUser): void {
  if (session.json) return session.printJson(user);
  session.print(
    formatFields([
      ['user', user.name],
      ['source', user.source === 'config' ? 'config (deployed with the stack; change it in symbiont.config.json)' : 'added at run time'],
      ['datasets', user.datasets.join(', ')],
      ['key files', user.keyFiles?.join(', ')],
      ['added', user.createdAt ? `${formatTime(user.createdAt)}${user.createdBy ? ` by ${user.createdBy}` : ''}` : undefined],
    ]),
  );
  if (user.keys.length > 0) session.print(`\n${formatTable(keyColumns, user.keys)}`);
}

/**
 * The public key lines a `--key` value stands for: the line itself, or the lines of a file
 * (`~` is the home folder). A private key is refused here, before anything is sent.
 */
function readKeys(value: string, io: CliIo): string[] {
  if (/^(ssh-|ecdsa-)/.test(value.trim())) return [value.trim()];
  const path = value.startsWith('~/') ? resolve(io.env.HOME ?? homedir(), value.slice(2)) : isAbsolute(value) ? value : resolve(io.cwd, value);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the key file ${value}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (/PRIVATE KEY/.test(text)) throw new UsageError(`${value} is a private key; give the public one (${value}.pub), and keep the private key to yourself`);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new UsageError(`${value} holds no public key`);
  return lines;
}

function fingerprintOf(options: { fingerprint?: string; key?: string }, io: CliIo): string {
  if ((options.fingerprint === undefined) === (options.key === undefined)) throw new UsageError('give either --fingerprint or --key');
  if (options.fingerprint !== undefined) {
    if (!isFingerprint(options.fingerprint)) throw new UsageError(`"${options.fingerprint}" is not a key fingerprint (SHA256:…, as \`symbiont sftp-users show\` prints it)`);
    return options.fingerprint;
  }
  const lines = readKeys(options.key!, io);
  if (lines.length !== 1) throw new UsageError(`${options.key} holds ${lines.length} keys; name one with --fingerprint`);
  try {
    return parsePublicKey(lines[0]!).fingerprint;
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function list(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('give at least one dataset.');
  return names;
}
