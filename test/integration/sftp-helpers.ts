import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';
import type { Endpoints } from '#local/endpoints';
import { generateEd25519Pair } from '#local/sftp-keys';
import { callApi, exampleConfig, repoRoot, waitFor } from './local-helpers.ts';

/** Helpers of the SFTP integration tests: the real OpenSSH client against the local runtime. */

/** Whether OpenSSH's `sftp` is on PATH. */
export const sftpInstalled: boolean = (() => {
  const probe = spawnSync('sftp', ['-h'], { stdio: 'ignore' });
  return !(probe.error && (probe.error as NodeJS.ErrnoException).code === 'ENOENT');
})();

/** Why a test that needs OpenSSH's client did not run. */
export const SFTP_MISSING = "skipped: needs OpenSSH's `sftp` on PATH — CI installs Debian's openssh-client";

/** `describe`, or a skipped one whose name says that `sftp` is missing. */
export const describeWithSftp = sftpInstalled ? describe : (name: string, fn: () => void) => describe.skip(`${name} (${SFTP_MISSING})`, fn);

/** A key pair written for a test user (private key owner-only, as OpenSSH requires). */
export interface TestKey {
  readonly privateKeyPath: string;
  readonly publicLine: string;
}

/** Generates an ed25519 key pair into `dir`. */
export function makeKey(dir: string, name: string): TestKey {
  const pair = generateEd25519Pair(`${name}@test`);
  const privateKeyPath = join(dir, name);
  writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
  return { privateKeyPath, publicLine: pair.public.trim() };
}

/**
 * Writes a copy of the example config into `dir` with extra SFTP users. Paths the example gives
 * relative to its own folder are made absolute; the demo user's key file stays relative, so it
 * follows the test's data directory.
 */
export function writeConfig(dir: string, users: Record<string, { publicKeys: string[]; datasets: string[] }>): string {
  const config = JSON.parse(readFileSync(exampleConfig, 'utf8')) as {
    sftpUsers: Record<string, unknown>;
    repositories?: Record<string, { path?: string }>;
    templates?: Record<string, { notebook?: string }>;
  };
  Object.assign(config.sftpUsers, users);
  for (const repository of Object.values(config.repositories ?? {})) if (repository.path) repository.path = resolve(repoRoot, repository.path);
  for (const template of Object.values(config.templates ?? {})) if (template.notebook) template.notebook = resolve(repoRoot, template.notebook);
  const file = join(dir, 'symbiont.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** What an `sftp` run printed and how it ended. */
export interface SftpRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Who connects and how. */
export interface SftpLogin {
  readonly user: string;
  /** @default the demo user's private key */
  readonly privateKeyPath?: string;
  /** Options that replace the key options (e.g. password authentication). */
  readonly authOptions?: readonly string[];
  /** Working directory of the client (where `put` reads and `get` writes). */
  readonly cwd?: string;
}

/**
 * Runs OpenSSH's `sftp` in batch mode (`-b -`, the commands on stdin) against the local server, as
 * a person would, but without their ~/.ssh/config (`-F /dev/null`) so the test is the same anywhere.
 */
export function sftpBatch(endpoints: Endpoints, login: SftpLogin, commands: readonly string[]): Promise<SftpRun> {
  const auth = login.authOptions ?? ['-i', login.privateKeyPath ?? endpoints.sftp.privateKeyPath ?? '', '-o', 'IdentitiesOnly=yes'];
  const args = [
    '-F', '/dev/null',
    '-o', `UserKnownHostsFile=${endpoints.sftp.knownHostsPath}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=20',
    ...auth,
    '-P', String(endpoints.sftp.port),
    '-b', '-',
    `${login.user}@${endpoints.sftp.host}`,
  ];
  return runSftp(args, `${commands.join('\n')}\n`, login.cwd);
}

/** Runs `sftp` with `args`, writing `input` to its stdin. */
export function runSftp(args: readonly string[], input: string, cwd?: string): Promise<SftpRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sftp', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** An upload as `GET /uploads` lists it. */
export interface ListedUpload {
  readonly uploadId: string;
  readonly key: string;
  readonly status: string;
  readonly sender?: string;
  readonly version?: number;
  readonly reason?: string;
}

/** The uploads of `sender`, newest first. */
export async function uploadsOf(endpoints: Endpoints, sender: string): Promise<ListedUpload[]> {
  const response = await callApi(endpoints, `/uploads?sender=${encodeURIComponent(sender)}&limit=100`, endpoints.tokens.admin);
  if (!response.ok) throw new Error(`GET /uploads answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { items: ListedUpload[] }).items;
}

/** Waits until the upload of `key` has an outcome (anything but received/validating) and returns it. */
export function outcomeOf(endpoints: Endpoints, sender: string, key: string, timeoutMs = 30_000): Promise<ListedUpload> {
  return waitFor(
    `an outcome for ${key}`,
    async () => (await uploadsOf(endpoints, sender)).find((u) => u.key === key && !['received', 'validating'].includes(u.status)),
    timeoutMs,
  );
}

/**
 * Reads `/<folder>/<name>` over SFTP into `dir` (the `get` a person would type) once it exists,
 * and returns its text.
 */
export async function getWhenThere(endpoints: Endpoints, login: SftpLogin & { cwd: string }, remote: string, timeoutMs = 30_000): Promise<string> {
  const local = remote.split('/').at(-1)!;
  await waitFor(
    `${remote} over SFTP`,
    async () => ((await sftpBatch(endpoints, login, [`get ${remote} ${local}`])).code === 0 ? true : undefined),
    timeoutMs,
  );
  return readFileSync(join(login.cwd, local), 'utf8');
}
