import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { standInValue } from '../../infra/stand-in.ts';

/**
 * The bundles `cdk synth` stages are what Lambda runs: these tests load them the way the runtime
 * does (ESM, the config file beside the handler) so a bundling mistake fails here, not at deploy.
 */
const root = join(import.meta.dirname, '..', '..');
const cdkOut = join(root, 'cdk.out');
const templateFile = join(cdkOut, 'Symbiont-dev.template.json');

type FunctionResource = { Type: string; Metadata?: Record<string, string>; Properties: { Environment?: { Variables: Record<string, unknown> } } };

function bundleOf(logicalIdPrefix: string): { dir: string; variables: Record<string, unknown> } {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, FunctionResource> };
  const [, fn] = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(logicalIdPrefix))!;
  return { dir: join(cdkOut, fn.Metadata!['aws:asset:path']!), variables: fn.Properties.Environment?.Variables ?? {} };
}

/** Runs a snippet in a fresh Node process inside the bundle folder, with the function's env. */
async function inBundle(logicalIdPrefix: string, script: string): Promise<string> {
  const { dir, variables } = bundleOf(logicalIdPrefix);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'ERROR' };
  // A value CloudFormation builds (Ref, GetAtt, Join) gets a stand-in of the same shape: a Join's
  // literal parts kept (JSON stays JSON), each reference a placeholder.
  for (const [name, value] of Object.entries(variables)) env[name] = standInValue(value);
  env.SYMBIONT_CONFIG = join(dir, 'symbiont.config.json');
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env });
  return stdout;
}

beforeAll(async () => {
  if (!existsSync(templateFile)) await promisify(execFile)('npm', ['run', 'synth'], { cwd: root });
}, 180_000);

describe('function bundles', () => {
  it('ships the config file beside every handler', () => {
    for (const prefix of ['IngestIngestUpload', 'ApiHandler']) {
      expect(existsSync(join(bundleOf(prefix).dir, 'symbiont.config.json'))).toBe(true);
    }
  });

  it('loads the api bundle and answers GET /health', async () => {
    const event = readFileSync(join(root, 'events/apigw/get-health.json'), 'utf8');
    const out = await inBundle(
      'ApiHandler',
      `const { handler } = await import('./index.mjs');
       const result = await handler(${event}, { functionName: 'api', awsRequestId: 'r1', getRemainingTimeInMillis: () => 1000 });
       process.stdout.write(JSON.stringify(result));`,
    );
    const result = JSON.parse(out) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });

  it('ships the web console beside the api handler and serves it: shell, script, and Cognito sign-in settings', async () => {
    const { dir } = bundleOf('ApiHandler');
    const script = readFileSync(join(dir, 'console', 'app.js'), 'utf8');
    expect(readFileSync(join(dir, 'console', 'app.css'), 'utf8').length).toBeGreaterThan(0);
    const health = JSON.parse(readFileSync(join(root, 'events/apigw/get-health.json'), 'utf8')) as { rawPath: string; requestContext: { http: { path: string } } };
    const at = (path: string) => ({ ...health, rawPath: path, requestContext: { ...health.requestContext, http: { ...health.requestContext.http, path } } });
    const out = await inBundle(
      'ApiHandler',
      `const { handler } = await import('./index.mjs');
       const context = { functionName: 'api', awsRequestId: 'r1', getRemainingTimeInMillis: () => 1000 };
       const answers = [];
       for (const event of ${JSON.stringify([at('/'), at('/console/app.js'), at('/console/config.json')])}) answers.push(await handler(event, context));
       process.stdout.write(JSON.stringify(answers));`,
    );
    const [shell, js, config] = JSON.parse(out) as { statusCode: number; body: string; headers: Record<string, string> }[];
    expect(shell!.statusCode).toBe(200);
    expect(shell!.body).toMatch(/src="console\/app\.js\?v=[0-9a-f]{16}"/);
    expect(shell!.headers['content-security-policy']).toContain('https://cognito-identity.');
    expect(js!.statusCode).toBe(200);
    expect(js!.body).toBe(script);
    expect(config!.statusCode).toBe(200);
    expect(JSON.parse(config!.body)).toMatchObject({ mode: 'cognito', region: 'eu-west-1', userPoolId: 'from-template', clientId: 'from-template', identityPoolId: 'from-template' });
    expect(JSON.parse(config!.body).domain).toMatch(/^https:\/\/.*\.auth\..*amazoncognito\.com$/);
  });

  it('loads the ingest bundle and skips an S3 test event without touching AWS', async () => {
    const event = readFileSync(join(root, 'events/s3/test-event.json'), 'utf8');
    const out = await inBundle(
      'IngestIngestUpload',
      `const { handler } = await import('./index.mjs');
       const result = await handler(${event}, { functionName: 'ingest', awsRequestId: 'r1', getRemainingTimeInMillis: () => 1000 });
       process.stdout.write(JSON.stringify(result));`,
    );
    expect(JSON.parse(out)).toEqual({ batchItemFailures: [] });
  });
});
