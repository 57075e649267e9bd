import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import ssh2, { type AuthContext, type Connection, type SFTPWrapper, type Server } from 'ssh2';
import { TRANSFER_FAILED_METADATA } from '#ingest/arrivals';
import { neverIngested } from '#ingest/landing-keys';
import { log as logger } from './log.ts';
import type { AnnouncedArrival, LandingArrival } from './s3-bridge.ts';
import { settledHead } from './s3-bridge.ts';
import { checkPublicKey, type SftpAccount, type SftpUserDirectory } from './sftp-auth.ts';
import type { HostKey } from './sftp-keys.ts';
import { printable, resolveSftpPath, type DatasetPath, type FilePath, type RootPath, type SftpPath } from './sftp-paths.ts';
import { ObjectReader, StreamingUpload, WriteOrderError } from './sftp-transfers.ts';

/**
 * The local stand-in for Transfer Family (DESIGN.md "Where it runs"): an SSH server that speaks
 * only SFTP, logs users in with their public keys only, shows each one a folder per dataset they
 * may use and keeps the files in the landing bucket under `sftp/<user>/<dataset>/`.
 *
 * It is an adapter: it stores bytes and announces arrivals — through the S3 bridge's own
 * {@link LandingArrival} announcement, so the ingest handler gets the same S3 event as for `api/`
 * — and decides nothing about them. A file is announced when the client closes it after writing
 * (the CLOSE is answered once it is), or when a file is renamed to a name that is ingested
 * (WinSCP writes `x.filepart` and renames it). A transfer that ends without CLOSE (the connection
 * dropped) is kept as it arrived and announced with {@link TRANSFER_FAILED_METADATA} set, for the
 * ingest side to record as `rejected` without validating it.
 */

// ssh2 is CommonJS without named exports Node can see: read it from the default export.
const { Server: SshServer, utils } = ssh2;
const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** The {@link TRANSFER_FAILED_METADATA} value when the connection ended before the client closed the file. */
export const TRANSFER_INTERRUPTED = 'interrupted';

/** Failed authentication attempts a connection may make before it is dropped (OpenSSH's MaxAuthTries). */
const MAX_AUTH_FAILURES = 6;

/** What the SFTP server needs. */
export interface SftpServerOptions {
  readonly landingBucket: string;
  readonly hostKey: HostKey;
  readonly users: SftpUserDirectory;
  /** Announces an arrival to the ingest queue: the S3 bridge's {@link S3Bridge.announce}. */
  readonly announce: (arrival: LandingArrival) => Promise<AnnouncedArrival>;
  /** Multipart part size of uploads to S3. @default 8 MiB */
  readonly partSize?: number;
}

/** The SFTP server of the local runtime. */
export interface LocalSftpServer {
  /** The ssh2 server, to listen on a port. */
  readonly server: Server;
  /** Starts serving file requests with this S3 client; sessions opened before wait for it. */
  connect(s3: S3Client): void;
  /** Drops every connection (open uploads are kept as interrupted and announced), then stops listening; safe to call twice. */
  stop(): Promise<void>;
}

/** Creates the server; listen with `listen(server.server, port, 'sftp')` from `./net.ts`. */
export function createSftpServer(options: SftpServerOptions): LocalSftpServer {
  let connectS3!: (s3: S3Client) => void;
  const s3Ready = new Promise<S3Client>((resolve) => (connectS3 = resolve));
  const clients = new Set<Connection>();
  const finishing = new Set<Promise<unknown>>();
  const track = (promise: Promise<unknown>) => {
    finishing.add(promise);
    void promise.finally(() => finishing.delete(promise));
  };
  let stopping: Promise<void> | undefined;

  const server: Server = new SshServer(
    {
      hostKeys: [options.hostKey.privateKey],
      ident: 'Symbiont',
      // AES-GCM only: the client's order decides, and OpenSSH lists chacha20-poly1305 and AES-CTR
      // first, which ssh2 (without its native addon) runs at half GCM's speed. Every maintained
      // client (OpenSSH, WinSCP, FileZilla, Cyberduck) speaks AES-GCM.
      algorithms: { cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] },
    },
    (client, info) => {
      if (stopping) return void client.end();
      clients.add(client);
      const ip = info.ip.startsWith('::ffff:') ? info.ip.slice('::ffff:'.length) : info.ip;
      let account: SftpAccount | undefined;
      let failures = 0;
      client.on('error', (error) => logger.debug('SFTP connection error', { ip, user: account?.name, error }));
      client.on('close', () => clients.delete(client));
      client.on('authentication', (ctx) => {
        void authenticate(ctx).then(
          (decision) => {
            if (decision) {
              // Only a verified signature logs in; an unsigned query just hears that the key would do.
              if (decision.authenticated) account = decision.account;
              return ctx.accept();
            }
            if (ctx.method !== 'none') failures += 1;
            ctx.reject(['publickey']);
            if (failures >= MAX_AUTH_FAILURES) client.end();
          },
          (error: unknown) => {
            logger.error('SFTP authentication failed', { ip, user: ctx.username, error: error as Error });
            ctx.reject(['publickey']);
          },
        );
      });
      client.on('ready', () => {
        const user = account!;
        logger.info('SFTP user logged in', { user: user.name, ip });
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('sftp', (acceptSftp) => {
            const sftp = acceptSftp();
            const done = serveSftp(sftp, { user, ip, s3: s3Ready, landingBucket: options.landingBucket, announce: options.announce, partSize: options.partSize });
            track(done);
          });
          const refuse = (what: string) => (_accept: unknown, reject?: () => void) => {
            logger.warn('SFTP request refused', { user: user.name, op: what, why: 'only SFTP is served' });
            reject?.();
          };
          session.on('shell', refuse('shell'));
          session.on('exec', refuse('exec'));
        });
      });

      async function authenticate(ctx: AuthContext): Promise<{ account: SftpAccount; authenticated: boolean } | undefined> {
        if (ctx.method === 'none') return undefined;
        const refused = (why: string) => {
          logger.warn('SFTP login refused', { user: printable(ctx.username), method: ctx.method, ip, why });
          return undefined;
        };
        if (ctx.method !== 'publickey') return refused(`${ctx.method} authentication is not accepted; log in with a key`);
        const found = await options.users.find(ctx.username);
        if (!found) return refused('no such user');
        const signature = ctx.signature && ctx.blob ? { blob: ctx.blob, signature: ctx.signature, hashAlgo: ctx.hashAlgo } : undefined;
        const decision = checkPublicKey(found, ctx.key, signature);
        if (decision.kind === 'refused') return refused(decision.why);
        return { account: found, authenticated: decision.kind === 'authenticated' };
      }
    },
  );
  server.on('error', (error: Error) => logger.error('SFTP server error', { error }));

  return {
    server,
    connect: (s3) => connectS3(s3),
    stop() {
      stopping ??= (async () => {
        for (const client of clients) client.end();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...finishing]);
        // ssh2's close waits for connections; those ended above close on their own.
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      })();
      return stopping;
    },
  };
}

/** One SFTP session's user and what it stores to. */
interface SessionContext {
  readonly user: SftpAccount;
  readonly ip: string;
  readonly s3: Promise<S3Client>;
  readonly landingBucket: string;
  readonly announce: (arrival: LandingArrival) => Promise<AnnouncedArrival>;
  readonly partSize?: number;
}

type OpenFile =
  | { readonly kind: 'write'; readonly path: FilePath; readonly upload: StreamingUpload; error?: Error; closing?: boolean }
  | { readonly kind: 'read'; readonly path: FilePath; readonly reader: ObjectReader }
  | { readonly kind: 'dir'; readonly path: RootPath | DatasetPath; readonly pages: AsyncIterator<DirEntry[]> };

interface DirEntry {
  readonly filename: string;
  readonly longname: string;
  readonly attrs: FileAttributes;
}

interface FileAttributes {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
}

/** SFTP status codes, as ssh2 numbers them. */
type Status = (typeof STATUS_CODE)[keyof typeof STATUS_CODE];

/** A request answered with a status; the message goes to the client (OpenSSH prints it). */
class Refusal extends Error {
  constructor(
    readonly status: Status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves one SFTP session. Resolves when the session is over and every upload it left open has
 * been stored and announced as interrupted.
 */
function serveSftp(sftp: SFTPWrapper, context: SessionContext): Promise<void> {
  const { user } = context;
  const files = new Map<number, OpenFile>();
  let nextHandle = 0;
  const started = Math.floor(Date.now() / 1000);
  const folderAttributes: FileAttributes = { mode: 0o40755, uid: 0, gid: 0, size: 0, atime: started, mtime: started };

  /** Reads a path, or logs and throws the refusal. */
  const resolve = (op: string, clientPath: string): SftpPath => {
    const path = resolveSftpPath(user.name, user.datasets, clientPath);
    if (path.kind === 'refused') throw deny(op, clientPath, path.why);
    return path;
  };
  const deny = (op: string, clientPath: string, why: string): Refusal => {
    logger.warn('SFTP request refused', { user: user.name, op, path: printable(clientPath), why });
    return new Refusal(STATUS_CODE.PERMISSION_DENIED, 'Permission denied');
  };
  const filePath = (op: string, clientPath: string): FilePath => {
    const path = resolve(op, clientPath);
    if (path.kind !== 'file') throw deny(op, clientPath, 'dataset folders and the root are fixed');
    return path;
  };
  const writablePath = (op: string, clientPath: string): FilePath => {
    const path = filePath(op, clientPath);
    if (path.name.toLowerCase().endsWith('.result.txt')) throw deny(op, clientPath, 'files ending in .result.txt are written by Symbiont');
    return path;
  };
  const handleOf = (buffer: Buffer): [number, OpenFile] => {
    const id = buffer.length === 4 ? buffer.readUInt32BE(0) : -1;
    const file = files.get(id);
    if (!file) throw new Refusal(STATUS_CODE.FAILURE, 'invalid handle');
    return [id, file];
  };
  const newHandle = (file: OpenFile): Buffer => {
    const id = nextHandle++;
    files.set(id, file);
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(id, 0);
    return handle;
  };

  /** Runs a request and answers its failure: a refusal as itself, anything else as FAILURE (and logged). */
  const answer = (op: string, reqId: number, work: () => Promise<void> | void) => {
    void (async () => {
      try {
        await work();
      } catch (error) {
        if (error instanceof Refusal) return send(() => sftp.status(reqId, error.status, error.message));
        if (error instanceof WriteOrderError) {
          logger.warn('SFTP request refused', { user: user.name, op, why: error.message });
          return send(() => sftp.status(reqId, STATUS_CODE.FAILURE, error.message));
        }
        logger.error('SFTP request failed', { user: user.name, op, error: error as Error });
        send(() => sftp.status(reqId, STATUS_CODE.FAILURE, 'the request failed on the server; try again'));
      }
    })();
  };
  /** A reply to a session that may have ended meanwhile (a dropped connection answers nothing). */
  const send = (reply: () => void) => {
    try {
      reply();
    } catch (error) {
      logger.debug('SFTP reply not sent: the session has ended', { user: user.name, error: error as Error });
    }
  };
  const ok = (reqId: number) => send(() => sftp.status(reqId, STATUS_CODE.OK));

  const attributesOf = async (path: SftpPath): Promise<FileAttributes> => {
    if (path.kind !== 'file') return folderAttributes;
    const s3 = await context.s3;
    const head = await s3.send(new HeadObjectCommand({ Bucket: context.landingBucket, Key: path.key })).catch(notFound);
    return fileAttributes(head.ContentLength ?? 0, head.LastModified);
  };

  /** Stores what arrived and, for a name that is ingested, announces it. */
  const store = async (file: Extract<OpenFile, { kind: 'write' }>, interrupted: boolean): Promise<void> => {
    const stored = await file.upload.finish();
    const s3 = await context.s3;
    const ingested = neverIngested(file.path.key) === undefined;
    if (!ingested) {
      // Not announced, but renamed soon: the bytes must be on disk before a copy reads them.
      await settledHead(s3, context.landingBucket, file.path.key, stored.bytes);
      logger.info('SFTP file stored, not announced (its name is never ingested)', { user: user.name, key: file.path.key, bytes: stored.bytes, interrupted });
      return;
    }
    const arrival = await context.announce({
      key: file.path.key,
      eventName: `ObjectCreated:${stored.createdBy}`,
      eTag: stored.eTag,
      sourceIp: context.ip,
      expectedSize: stored.bytes,
      ...(interrupted ? { metadata: { [TRANSFER_FAILED_METADATA]: TRANSFER_INTERRUPTED } } : {}),
    });
    const fields = { user: user.name, key: file.path.key, bytes: stored.bytes, arrivalKey: arrival.arrivalKey };
    if (interrupted) logger.warn('SFTP upload interrupted; kept and announced as interrupted', fields);
    else logger.info('SFTP upload stored and announced', fields);
  };

  sftp.on('REALPATH', (reqId, clientPath) =>
    answer('realpath', reqId, () => {
      const path = resolve('realpath', clientPath);
      send(() => sftp.name(reqId, [{ filename: path.path, longname: path.path, attrs: {} as FileAttributes }]));
    }),
  );

  const stat = (op: string) => (reqId: number, clientPath: string) =>
    answer(op, reqId, async () => {
      const attrs = await attributesOf(resolve(op, clientPath));
      send(() => sftp.attrs(reqId, attrs));
    });
  sftp.on('STAT', stat('stat'));
  sftp.on('LSTAT', stat('lstat'));

  sftp.on('OPEN', (reqId, clientPath, flags) =>
    answer('open', reqId, async () => {
      const writing = (flags & OPEN_MODE.WRITE) !== 0;
      const reading = (flags & OPEN_MODE.READ) !== 0;
      if (writing && reading) throw new Refusal(STATUS_CODE.OP_UNSUPPORTED, 'a file is opened either to read or to write');
      if (!writing) {
        const path = filePath('open', clientPath);
        const s3 = await context.s3;
        const head = await s3.send(new HeadObjectCommand({ Bucket: context.landingBucket, Key: path.key })).catch(notFound);
        const reader = new ObjectReader(s3, context.landingBucket, path.key, head.ContentLength ?? 0);
        return send(() => sftp.handle(reqId, newHandle({ kind: 'read', path, reader })));
      }
      const path = writablePath('open', clientPath);
      if (flags & OPEN_MODE.APPEND) throw new Refusal(STATUS_CODE.OP_UNSUPPORTED, 'appending is not supported; send the whole file');
      const s3 = await context.s3;
      if (flags & OPEN_MODE.EXCL) {
        const exists = await s3.send(new HeadObjectCommand({ Bucket: context.landingBucket, Key: path.key })).then(() => true, () => false);
        if (exists) throw new Refusal(STATUS_CODE.FAILURE, 'the file exists');
      }
      const upload = new StreamingUpload({ s3, bucket: context.landingBucket, key: path.key, partSize: context.partSize });
      logger.info('SFTP upload started', { user: user.name, key: path.key });
      send(() => sftp.handle(reqId, newHandle({ kind: 'write', path, upload })));
    }),
  );

  sftp.on('WRITE', (reqId, handle, offset, data) =>
    answer('write', reqId, async () => {
      const [, file] = handleOf(handle);
      if (file.kind !== 'write') throw new Refusal(STATUS_CODE.PERMISSION_DENIED, 'the file is not open for writing');
      try {
        await file.upload.write(offset, data);
      } catch (error) {
        file.error ??= error as Error;
        throw error;
      }
      ok(reqId);
    }),
  );

  sftp.on('READ', (reqId, handle, offset, length) =>
    answer('read', reqId, async () => {
      const [, file] = handleOf(handle);
      if (file.kind !== 'read') throw new Refusal(STATUS_CODE.PERMISSION_DENIED, 'the file is not open for reading');
      const data = await file.reader.read(offset, length);
      send(() => (data ? sftp.data(reqId, data) : sftp.status(reqId, STATUS_CODE.EOF)));
    }),
  );

  sftp.on('FSTAT', (reqId, handle) =>
    answer('fstat', reqId, () => {
      const [, file] = handleOf(handle);
      const now = Math.floor(Date.now() / 1000);
      const attrs =
        file.kind === 'write' ? fileAttributes(file.upload.bytes, new Date(now * 1000)) : file.kind === 'read' ? fileAttributes(file.reader.size, undefined) : folderAttributes;
      send(() => sftp.attrs(reqId, attrs));
    }),
  );

  // S3 keeps no modes or times; clients that set them after an upload (WinSCP does) get OK.
  sftp.on('FSETSTAT', (reqId, handle) =>
    answer('fsetstat', reqId, () => {
      const [, file] = handleOf(handle);
      if (file.kind === 'dir') throw new Refusal(STATUS_CODE.PERMISSION_DENIED, 'Permission denied');
      ok(reqId);
    }),
  );
  sftp.on('SETSTAT', (reqId, clientPath) =>
    answer('setstat', reqId, async () => {
      const path = filePath('setstat', clientPath);
      await attributesOf(path);
      ok(reqId);
    }),
  );

  sftp.on('CLOSE', (reqId, handle) =>
    answer('close', reqId, async () => {
      const [id, file] = handleOf(handle);
      if (file.kind === 'read') file.reader.close();
      if (file.kind !== 'write') {
        files.delete(id);
        return ok(reqId);
      }
      file.closing = true;
      try {
        // A write the server could not take leaves the file incomplete: kept and announced as interrupted.
        const incomplete = file.error !== undefined || file.upload.hasGap;
        await store(file, incomplete);
        if (incomplete) throw new Refusal(STATUS_CODE.FAILURE, 'the file did not arrive whole; send it again');
      } finally {
        files.delete(id);
      }
      ok(reqId);
    }),
  );

  sftp.on('OPENDIR', (reqId, clientPath) =>
    answer('opendir', reqId, async () => {
      const path = resolve('opendir', clientPath);
      if (path.kind === 'file') {
        await attributesOf(path);
        throw new Refusal(STATUS_CODE.FAILURE, 'not a folder');
      }
      const s3 = await context.s3;
      const pages = path.kind === 'root' ? rootListing(user, folderAttributes) : datasetListing(s3, context.landingBucket, path, user.name);
      send(() => sftp.handle(reqId, newHandle({ kind: 'dir', path, pages })));
    }),
  );

  sftp.on('READDIR', (reqId, handle) =>
    answer('readdir', reqId, async () => {
      const [, file] = handleOf(handle);
      if (file.kind !== 'dir') throw new Refusal(STATUS_CODE.FAILURE, 'not a folder');
      const page = await file.pages.next();
      send(() => (page.done ? sftp.status(reqId, STATUS_CODE.EOF) : sftp.name(reqId, page.value)));
    }),
  );

  sftp.on('REMOVE', (reqId, clientPath) =>
    answer('remove', reqId, async () => {
      const path = filePath('remove', clientPath);
      const s3 = await context.s3;
      await s3.send(new HeadObjectCommand({ Bucket: context.landingBucket, Key: path.key })).catch(notFound);
      await s3.send(new DeleteObjectCommand({ Bucket: context.landingBucket, Key: path.key }));
      logger.info('SFTP file removed', { user: user.name, key: path.key });
      ok(reqId);
    }),
  );

  sftp.on('RENAME', (reqId, fromPath, toPath) =>
    answer('rename', reqId, async () => {
      const from = filePath('rename', fromPath);
      const to = writablePath('rename', toPath);
      const s3 = await context.s3;
      const head = await s3.send(new HeadObjectCommand({ Bucket: context.landingBucket, Key: from.key })).catch(notFound);
      if (from.key === to.key) return ok(reqId);
      // Like posix-rename: an existing file of that name is replaced (S3 has no other way).
      const copied = await s3.send(
        new CopyObjectCommand({
          Bucket: context.landingBucket,
          Key: to.key,
          // s3rver reads the copy source with decodeURI: encodeURI is its exact inverse.
          CopySource: encodeURI(`${context.landingBucket}/${from.key}`),
        }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: context.landingBucket, Key: from.key }));
      logger.info('SFTP file renamed', { user: user.name, from: from.key, to: to.key });
      if (neverIngested(to.key) === undefined) {
        await context.announce({
          key: to.key,
          eventName: 'ObjectCreated:Copy',
          eTag: copied.CopyObjectResult?.ETag?.replace(/^"(.*)"$/, '$1'),
          sourceIp: context.ip,
          expectedSize: head.ContentLength,
        });
      }
      ok(reqId);
    }),
  );

  const fixed = (op: string) => (reqId: number, clientPath: string) =>
    answer(op, reqId, () => {
      throw deny(op, clientPath, resolveSftpPath(user.name, user.datasets, clientPath).kind === 'refused' ? 'outside the user\'s folders' : 'dataset folders are fixed');
    });
  sftp.on('MKDIR', fixed('mkdir'));
  sftp.on('RMDIR', fixed('rmdir'));
  sftp.on('READLINK', (reqId, clientPath) => answer('readlink', reqId, () => {
    throw deny('readlink', clientPath, 'there are no links');
  }));
  sftp.on('SYMLINK', (reqId, linkPath, targetPath) => answer('symlink', reqId, () => {
    throw deny('symlink', `${linkPath} -> ${targetPath}`, 'links are not allowed');
  }));

  return new Promise<void>((resolveSession) => {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const open = [...files.values()];
      files.clear();
      const leftovers = open.map(async (file) => {
        if (file.kind === 'read') return file.reader.close();
        if (file.kind !== 'write' || file.closing) return;
        try {
          await store(file, true);
        } catch (error) {
          logger.error('SFTP upload interrupted and could not be kept', { user: user.name, key: file.path.key, error: error as Error });
        }
      });
      void Promise.allSettled(leftovers).then(() => resolveSession());
    };
    // ssh2 leaves ending our side to us (LOCAL-STACK.md).
    sftp.on('end', () => {
      sftp.end();
      end();
    });
    sftp.on('close', end);
  });
}

/** A HeadObject 404 as the client's "no such file"; anything else stays an error. */
function notFound(error: unknown): never {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  if (status === 404 || name === 'NotFound' || name === 'NoSuchKey') throw new Refusal(STATUS_CODE.NO_SUCH_FILE, 'No such file');
  throw error;
}

function fileAttributes(size: number, modified: Date | undefined): FileAttributes {
  const time = Math.floor((modified ?? new Date()).getTime() / 1000);
  return { mode: 0o100644, uid: 0, gid: 0, size, atime: time, mtime: time };
}

/** The root folder: one entry per dataset of the user, in one page. */
async function* rootListing(user: SftpAccount, attrs: FileAttributes): AsyncGenerator<DirEntry[]> {
  yield [...user.datasets].sort().map((dataset) => ({ filename: dataset, longname: longname(dataset, attrs, user.name), attrs }));
}

/** A dataset folder: the user's objects directly under its prefix, one page per ListObjectsV2 call. */
async function* datasetListing(s3: S3Client, bucket: string, path: DatasetPath, owner: string): AsyncGenerator<DirEntry[]> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: path.prefix, Delimiter: '/', ContinuationToken: token }));
    const entries: DirEntry[] = [];
    for (const object of page.Contents ?? []) {
      const name = object.Key?.slice(path.prefix.length) ?? '';
      // Only what the user could name over SFTP (objects put there by other means may not be).
      if (name === '' || resolveSftpPath(owner, [path.dataset], `/${path.dataset}/${name}`).kind !== 'file') continue;
      const attrs = fileAttributes(object.Size ?? 0, object.LastModified);
      entries.push({ filename: name, longname: longname(name, attrs, owner), attrs });
    }
    if (entries.length > 0) yield entries;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An `ls -l` line, as OpenSSH's server writes it (`ls -l` in the client prints it as is). */
function longname(name: string, attrs: FileAttributes, owner: string): string {
  const folder = (attrs.mode & 0o170000) === 0o040000;
  const when = new Date(attrs.mtime * 1000);
  const recent = Math.abs(Date.now() - when.getTime()) < 182 * 24 * 3600 * 1000;
  const day = `${months[when.getMonth()]} ${String(when.getDate()).padStart(2)}`;
  const time = recent ? `${String(when.getHours()).padStart(2, '0')}:${String(when.getMinutes()).padStart(2, '0')}` : ` ${when.getFullYear()}`;
  const mode = folder ? 'drwxr-xr-x' : '-rw-r--r--';
  return `${mode}    1 ${owner.padEnd(8)} ${owner.padEnd(8)} ${String(attrs.size).padStart(8)} ${day} ${time} ${name}`;
}
