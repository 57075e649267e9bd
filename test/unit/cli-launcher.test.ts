import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockApi, tokens, type MockApi } from './cli-fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const launcher = join(root, 'cli/bin/symbiont.mjs');
const exec = promisify(execFile);

let elsewhere: string;

beforeAll(() => {
  elsewhere = mkdtempSync(join(tmpdir(), 'symbiont-launcher-'));
});

afterAll(() => {
  rmSync(elsewhere, { recursive: true, force: true });
});

/** Runs the real launcher in a directory outside the project, with only the given environment. */
async function symbiont(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(node, [launcher, ...args], {
      cwd: elsewhere,
      env: { PATH: process.env.PATH ?? '', HOME: elsewhere, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the symbiont launcher', () => {
  let api: MockApi;

  beforeAll(async () => {
    api = await startMockApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('lists uploads as JSON when run from another directory', async () => {
    const result = await symbiont(['uploads', 'list', '--json', '--api', api.url, '--token', tokens.admin]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items).toHaveLength(5);
  });

  it('exits 1 with the API’s message when the token is unknown', async () => {
    const result = await symbiont(['uploads', 'list', '--json', '--api', api.url, '--token', 't']);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('symbiont: unknown token\n');
  });
});

describe('SigV4 signing', () => {
  let api: MockApi;

  beforeAll(async () => {
    api = await startMockApi(() => ({ status: 200, body: { items: [] } }));
  });

  afterAll(async () => {
    await api.close();
  });

  it('signs for execute-api with static credentials from the environment when no token is given', async () => {
    const result = await symbiont(['uploads', 'list', '--api', api.url, '--region', 'eu-west-1'], {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      // Keep the provider chain away from the machine's own AWS files and metadata service.
      AWS_CONFIG_FILE: join(elsewhere, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(elsewhere, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });

    expect(result.code).toBe(0);
    expect(api.requests[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
  });
});
