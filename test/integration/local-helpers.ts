import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { localAwsEnv, type Endpoints } from '#local/endpoints';

/** Helpers shared by the local runtime's integration tests. */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The example config the runtime boots with in these tests. */
export const exampleConfig = join(repoRoot, 'symbiont.config.json');

/** Every port 0: each test file's runtime gets free ports of its own. */
export const freePorts = { api: 0, s3: 0, dynamodb: 0, sqs: 0, sftp: 0, stepfunctions: 0 } as const;

/** A fresh data directory; `remove()` deletes it. */
export function tempDataDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `symbiont-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The ports a runtime got, to restart it on the same ones. */
export function portsOf(endpoints: Endpoints) {
  const port = (url: string) => Number(new URL(url).port);
  return { api: port(endpoints.api), s3: port(endpoints.s3), dynamodb: port(endpoints.dynamodb), sqs: port(endpoints.sqs), sftp: endpoints.sftp.port, stepfunctions: port(endpoints.stepfunctions) };
}

/** Polls `probe` until it returns something other than `undefined`, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The `aws` command's version line, or `undefined` when the AWS CLI is not installed. */
export const awsCliVersion: string | undefined = (() => {
  try {
    return execFileSync('aws', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return undefined;
  }
})();

/** Why a test that needs the AWS CLI did not run. */
export const AWS_CLI_MISSING = 'skipped: needs the AWS CLI (`aws`) on PATH — CI installs Debian\'s awscli';

const run = promisify(execFile);

/**
 * Runs the AWS CLI against the local runtime, configured only through the environment
 * (endpoints.json's env.sh settings) and `--endpoint-url`, as a person would.
 */
export async function aws(endpoints: Endpoints, args: readonly string[], endpoint: 's3' | 'dynamodb'): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...localAwsEnv(endpoints), AWS_PAGER: '' };
  delete env.AWS_PROFILE;
  const { stdout } = await run('aws', ['--endpoint-url', endpoints[endpoint], ...args], { env, timeout: 60_000 });
  return stdout;
}

/** `fetch` the local API, with a token when given. */
export function callApi(endpoints: Endpoints, path: string, token?: string): Promise<Response> {
  return fetch(`${endpoints.api}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}
