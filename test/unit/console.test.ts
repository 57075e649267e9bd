import { describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { consoleAssets, consoleConfigFromEnv, reportFrameOrigin, type ConsoleFiles } from '#console/assets';
import { env } from '#shared/resources';
import { href, parseRoute } from '../../console/route.ts';
import { bearer, config, json, localAuthenticator, MemoryUploads, request } from './api-fixtures.ts';

/** The console's routes (shell, bundle, sign-in settings, GET /me), its AWS settings and its hash routes. */

const files: ConsoleFiles = { 'app.js': 'console.log("console")', 'app.css': 'body{margin:0}' };

function consoleApi(options: { config?: Parameters<typeof consoleAssets>[0]['config']; load?: () => Promise<ConsoleFiles>; reportOrigin?: () => string | undefined } = {}) {
  return createApi({
    store: new MemoryUploads(),
    config,
    authenticator: localAuthenticator,
    console: consoleAssets({ config: options.config ?? { mode: 'local' }, load: options.load ?? (async () => files), ...(options.reportOrigin ? { reportOrigin: options.reportOrigin } : {}) }),
  });
}

const cognito = {
  AWS_REGION: 'eu-west-1',
  [env.consoleUserPoolId]: 'eu-west-1_abc',
  [env.consoleClientId]: 'client123',
  [env.consoleIdentityPoolId]: 'eu-west-1:1111-2222',
  [env.consoleAuthDomain]: 'https://symbiont-dev-123.auth.eu-west-1.amazoncognito.com',
};

describe('the console routes', () => {
  it('serves the shell at / without credentials, naming the bundle by its hash, under a strict CSP', async () => {
    const result = await consoleApi().handle(request('GET', '/'));

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(result.body).toMatch(/<script type="module" src="console\/app\.js\?v=[0-9a-f]{16}"><\/script>/);
    expect(result.body).toMatch(/<link rel="stylesheet" href="console\/app\.css\?v=[0-9a-f]{16}">/);
    expect(result.body).not.toMatch(/https?:\/\//);
    expect(result.headers['content-security-policy']).toContain("script-src 'self'");
    expect(result.headers['content-security-policy']).toContain("connect-src 'self';");
    expect(result.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('lets the console reach Cognito in AWS, and nothing else', async () => {
    const result = await consoleApi({ config: () => consoleConfigFromEnv(cognito) }).handle(request('GET', '/'));

    expect(result.headers['content-security-policy']).toContain(
      "connect-src 'self' https://symbiont-dev-123.auth.eu-west-1.amazoncognito.com https://cognito-identity.eu-west-1.amazonaws.com;",
    );
  });

  it('lets the report page frame the data bucket, and nothing else: the local S3 locally, the bucket’s regional host in AWS', async () => {
    const local = await consoleApi({ reportOrigin: () => reportFrameOrigin({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' }) }).handle(request('GET', '/'));
    const aws = await consoleApi({ reportOrigin: () => reportFrameOrigin({ AWS_REGION: 'eu-west-1', [env.dataBucket]: 'symbiont-dev-data' }) }).handle(request('GET', '/'));
    const unknown = await consoleApi({ reportOrigin: () => reportFrameOrigin({}) }).handle(request('GET', '/'));

    expect(local.headers['content-security-policy']).toContain('; frame-src http://127.0.0.1:4569;');
    expect(aws.headers['content-security-policy']).toContain('; frame-src https://symbiont-dev-data.s3.eu-west-1.amazonaws.com;');
    expect(unknown.headers['content-security-policy']).not.toContain('frame-src');
    expect(unknown.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('serves the script and the stylesheet with their types, cached for good (the shell names them by hash)', async () => {
    const api = consoleApi();

    const script = await api.handle(request('GET', '/console/app.js'));
    const style = await api.handle(request('GET', '/console/app.css'));

    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe(files['app.js']);
    expect(script.headers['cache-control']).toContain('immutable');
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(style.body).toBe(files['app.css']);
  });

  it('builds the bundle once, and again after a failed build', async () => {
    let builds = 0;
    const api = consoleApi({
      load: async () => {
        builds += 1;
        if (builds === 1) throw new Error('esbuild failed');
        return files;
      },
    });

    expect((await api.handle(request('GET', '/console/app.js'))).statusCode).toBe(500);
    expect((await api.handle(request('GET', '/console/app.js'))).statusCode).toBe(200);
    expect((await api.handle(request('GET', '/console/app.css'))).statusCode).toBe(200);
    expect(builds).toBe(2);
  });

  it('tells the console to use the session cookie locally', async () => {
    const result = await consoleApi().handle(request('GET', '/console/config.json'));

    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ mode: 'local' });
  });

  it('tells the console the Cognito ids the stack set, in AWS', async () => {
    const result = await consoleApi({ config: () => consoleConfigFromEnv(cognito) }).handle(request('GET', '/console/config.json'));

    expect(json(result)).toEqual({
      mode: 'cognito',
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_abc',
      clientId: 'client123',
      identityPoolId: 'eu-west-1:1111-2222',
      domain: 'https://symbiont-dev-123.auth.eu-west-1.amazoncognito.com',
    });
  });

  it('refuses to hand out sign-in settings the stack left unset, naming them', async () => {
    const result = await consoleApi({ config: () => consoleConfigFromEnv({ AWS_REGION: 'eu-west-1' }) }).handle(request('GET', '/console/config.json'));

    // A 5xx says nothing about internals to the caller; the log names the variables.
    expect(result.statusCode).toBeGreaterThanOrEqual(500);
    expect(() => consoleConfigFromEnv({ AWS_REGION: 'eu-west-1' })).toThrow(
      `${env.consoleUserPoolId}, ${env.consoleClientId}, ${env.consoleIdentityPoolId}, ${env.consoleAuthDomain} not set on the API function`,
    );
  });

  it('has no bundle to serve in an API built without the console, and sends / to the docs', async () => {
    const api = createApi({ store: new MemoryUploads(), config, authenticator: localAuthenticator });

    expect((await api.handle(request('GET', '/console/app.js'))).statusCode).toBeGreaterThanOrEqual(500);
    const home = await api.handle(request('GET', '/'));
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe('docs');
  });

  it('tells each caller its role and name on GET /me, and an uploader its datasets', async () => {
    const api = consoleApi();

    expect(json(await api.handle(request('GET', '/me', bearer('admin'))))).toEqual({ role: 'admin', name: 'local-admin' });
    expect(json(await api.handle(request('GET', '/me', bearer('uploader'))))).toEqual({ role: 'uploader', name: 'field-team', datasets: ['readings'] });
    expect((await api.handle(request('GET', '/me'))).statusCode).toBe(401);
  });
});

describe('the console hash routes', () => {
  it('reads every page from the hash', () => {
    expect(parseRoute('')).toEqual({ page: 'datasets' });
    expect(parseRoute('#/datasets')).toEqual({ page: 'datasets' });
    expect(parseRoute('#/datasets/readings')).toEqual({ page: 'dataset', name: 'readings' });
    expect(parseRoute('#/datasets/readings/versions/3')).toEqual({ page: 'version', name: 'readings', version: '3' });
    expect(parseRoute('#/uploads?status=quarantined&source=sftp&bogus=1')).toEqual({ page: 'uploads', filters: { status: 'quarantined', source: 'sftp' } });
    expect(parseRoute('#/uploads/01JH2QK7W3M9XG5V8RZB4TNC6D')).toEqual({ page: 'upload', id: '01JH2QK7W3M9XG5V8RZB4TNC6D' });
    expect(parseRoute('#/uploads?limit=5')).toEqual({ page: 'uploads', filters: { limit: '5' } });
    expect(parseRoute('#/uploads?limit=500')).toEqual({ page: 'uploads', filters: {} });
    expect(parseRoute('#/sftp-users')).toEqual({ page: 'sftp-users' });
    expect(parseRoute('#/datasets/readings/versions/3/extra')).toEqual({ page: 'not-found', path: '/datasets/readings/versions/3/extra' });
  });

  it('writes links that read back as the same page', () => {
    expect(parseRoute(href.version('a b', 2))).toEqual({ page: 'version', name: 'a b', version: '2' });
    expect(parseRoute(href.uploads({ dataset: 'readings', status: 'rejected' }))).toEqual({ page: 'uploads', filters: { dataset: 'readings', status: 'rejected' } });
    expect(href.uploads({})).toBe('#/uploads');
  });
});
