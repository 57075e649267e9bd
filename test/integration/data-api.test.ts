import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './local-helpers.ts';
import { startIngestRuntime, type IngestRuntime } from './ingest-helpers.ts';

/**
 * The Data API tried as a new user would, against the local runtime `npm start` boots, with the
 * README's commands: list datasets, upload with the CLI and see the outcome, download the latest
 * version with the CLI and with curl from a presigned URL, read it with pandas; and each role's
 * token allowed what its role allows and refused the rest.
 */

let ctx: IngestRuntime;
let work: string;

const run = promisify(execFile);
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const VALID = readFileSync(join(repoRoot, 'examples', 'data', 'readings-2025-01-06.csv'));
const INVALID = 'sensor_id,taken_at,temperature,status\nS0001,2025-01-06T00:00:00Z,hot,ok\nS0002,2025-01-06T00:00:00Z,4.1,sunny\n';

beforeAll(async () => {
  ctx = await startIngestRuntime({ label: 'data-api' });
  work = join(ctx.dataDir, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'readings-2025-01-06.csv'), VALID);
  writeFileSync(join(work, 'bad-readings.csv'), INVALID);
}, 120_000);

afterAll(async () => {
  await ctx?.stop();
});

type Role = 'admin' | 'scientist' | 'uploader';

/** `symbiont …` as a person runs it (cli/bin/symbiont.mjs), with one role's token; never throws. */
async function symbiont(args: readonly string[], role: Role = 'admin'): Promise<{ code: number; stdout: string; stderr: string }> {
  const { endpoints } = ctx.runtime;
  const argv = [join(repoRoot, 'cli', 'bin', 'symbiont.mjs'), ...args, '--api', endpoints.api, '--token', endpoints.tokens[role]];
  try {
    const { stdout, stderr } = await run(process.execPath, argv, { cwd: work, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** The local API with one role's token (or none). */
function api(method: string, path: string, role?: Role, body?: unknown): Promise<Response> {
  const { endpoints } = ctx.runtime;
  return fetch(`${endpoints.api}${path}`, {
    method,
    headers: { ...(role ? { authorization: `Bearer ${endpoints.tokens[role]}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

const tool = (command: string, args: string[]): boolean => {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasCurl = tool('curl', ['--version']);
const hasPandas = tool('/usr/bin/python3', ['-c', 'import pandas']);
const itWithCurl = hasCurl ? it : (name: string, fn: () => Promise<void>) => it.skip(`${name} (skipped: needs curl — apt-get install curl)`, fn);
const itWithPandas = hasPandas
  ? it
  : (name: string, fn: () => Promise<void>) => it.skip(`${name} (skipped: needs Debian's /usr/bin/python3 with pandas — apt-get install python3-pandas)`, fn);

describe('as a new user, with the README’s commands', () => {
  it('lists the datasets', async () => {
    const { code, stdout } = await symbiont(['datasets', 'list']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^NAME\s+FORMAT\s+LATEST/);
    expect(stdout).toMatch(/\nreadings\s+csv\s+-/);
  });

  it('uploads a file with the CLI and sees it published', async () => {
    const { code, stdout } = await symbiont(['upload', 'readings', 'readings-2025-01-06.csv'], 'uploader');

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Published: readings v1\./);
    expect(stdout).toMatch(/sender\s+local-uploader/);
  }, 120_000);

  it('uploads a bad file and sees the quarantine report, with a non-zero exit code', async () => {
    const { code, stdout, stderr } = await symbiont(['upload', 'readings', 'bad-readings.csv']);

    expect(code).toBe(1);
    expect(stdout).toMatch(/^Quarantined/);
    expect(stdout).toMatch(/ROW\s+COLUMN\s+RULE\s+VALUE\s+MESSAGE/);
    expect(stdout).toMatch(/temperature\s+type\.number\s+"hot"/);
    expect(stderr).toMatch(/was quarantined/);
  }, 120_000);

  it('follows an upload by its slot', async () => {
    const sent = await symbiont(['upload', 'readings', 'readings-2025-01-06.csv', '--no-wait', '--json']);
    const { slotId } = JSON.parse(sent.stdout) as { slotId: string };

    const listed = await api('GET', `/uploads?slot=${slotId}`, 'scientist');

    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: { slotId: string; source: string }[] };
    // The file is sent; whether ingest has recorded it yet depends on the poller, but never another slot's.
    for (const item of items) expect(item).toMatchObject({ slotId, source: 'api' });
  }, 120_000);

  it('downloads the latest version with the CLI, checksum checked, under its version name', async () => {
    const { code, stdout } = await symbiont(['datasets', 'download', 'readings', 'latest', '--json'], 'scientist');

    expect(code).toBe(0);
    const saved = JSON.parse(stdout) as { path: string; sha256: string; version: number };
    expect(saved.path).toBe(join(work, 'readings-v1-readings-2025-01-06.csv'));
    expect(sha256(readFileSync(saved.path))).toBe(sha256(VALID));
    expect(readdirSync(work).filter((name) => name.includes('.partial'))).toEqual([]);
  }, 120_000);

  itWithCurl('downloads the latest version with curl from a presigned URL, saved under its Content-Disposition name', async () => {
    const answer = await api('GET', '/datasets/readings/versions/latest/download', 'scientist');
    const download = (await answer.json()) as { url: string; sha256: string; fileName: string };
    const dir = join(ctx.dataDir, 'curl');
    mkdirSync(dir);

    await run('curl', ['-sSfOJ', download.url], { cwd: dir });

    expect(readdirSync(dir)).toEqual([download.fileName]);
    expect(sha256(readFileSync(join(dir, download.fileName)))).toBe(download.sha256);
  });

  itWithPandas('reads the latest version with pandas.read_csv straight from its presigned URL', async () => {
    const { stdout: url } = await symbiont(['datasets', 'download', 'readings', '--url-only'], 'scientist');
    const script = 'import sys, pandas\nframe = pandas.read_csv(sys.argv[1])\nprint(len(frame), ",".join(frame.columns), frame["sensor_id"].iloc[0])';

    const { stdout } = await run('/usr/bin/python3', ['-c', script, url.trim()], { timeout: 60_000 });

    expect(stdout.trim()).toBe(`${VALID.toString().trimEnd().split('\n').length - 1} sensor_id,taken_at,temperature,status S0001`);
  }, 60_000);
});

describe('each role’s token, and what it may do', () => {
  it('refuses a caller without a token', async () => {
    expect((await api('GET', '/datasets')).status).toBe(401);
  });

  it('lets an uploader see only its bound datasets, and refuses downloads and uploads of the others', async () => {
    const listed = (await (await api('GET', '/datasets', 'uploader')).json()) as { items: { name: string }[] };
    const download = await api('GET', '/datasets/sites/versions/latest/download', 'uploader');
    const slot = await api('POST', '/datasets/sites/uploads', 'uploader', { file: 'sites.jsonl' });

    expect(listed.items.map((d) => d.name)).toEqual(['readings']);
    expect(download.status).toBe(403);
    expect(slot.status).toBe(403);
  });

  it('lets an uploader download the datasets it is bound to', async () => {
    expect((await api('GET', '/datasets/readings/versions/latest/download', 'uploader')).status).toBe(200);
  });

  it('refuses an uploader the uploads and slots of others', async () => {
    const opened = (await (await api('POST', '/datasets/readings/uploads', 'admin', { file: 'x.csv' })).json()) as { slotId: string };

    const others = await api('GET', '/uploads?sender=local-admin', 'uploader');
    const slot = await api('GET', `/uploads?slot=${opened.slotId}`, 'uploader');

    expect(others.status).toBe(403);
    expect(slot.status).toBe(403);
  });

  it('lets only an admin manage SFTP users', async () => {
    const user = { name: 'erin', datasets: ['readings'], publicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC8d7rT0K0mFzDBmQ2z3x8GqM8sQ8H3f9vYwQe1yq9pX erin@lab'] };

    const byUploader = await api('POST', '/sftp-users', 'uploader', user);
    const byScientist = await api('POST', '/sftp-users', 'scientist', user);
    const list = await api('GET', '/sftp-users', 'admin');

    expect(byUploader.status).toBe(403);
    expect(byScientist.status).toBe(403);
    expect(list.status).toBe(200);
  });

  it('lets a scientist and an admin open upload slots for any dataset', async () => {
    for (const role of ['scientist', 'admin'] as const) {
      const answer = await api('POST', '/datasets/sites/uploads', role, { file: 'sites.jsonl' });
      expect(answer.status).toBe(201);
    }
  });
});
