import { describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import { consoleAssets, consoleConfigFromEnv, reportFrameOrigin, type ConsoleFiles } from '#console/assets';
import { env } from '#shared/resources';
import { band, commitPairs, comparePair, duration, filterProblem, parametersText, percent, progress, score, signed, verdictText } from '../../console/evaluation-view.ts';
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

describe('the evaluation pages, before they draw', () => {
  it('writes parameters by name, scores to four significant digits and changes with their sign', () => {
    expect(parametersText({ window: 3, alpha: 0.1 })).toBe('alpha=0.1, window=3');
    expect(parametersText({})).toBe('—');
    expect(score(0.123456)).toBe('0.1235');
    expect(score(1234.5)).toBe('1235');
    expect(score(2)).toBe('2');
    expect(score(undefined)).toBe('—');
    expect(signed(0.05)).toBe('+0.05');
    expect(signed(-1.5)).toBe('−1.5');
    expect(signed(0)).toBe('±0');
    expect(percent(0.125)).toBe('+12.5 %');
    expect(percent(-0.02)).toBe('−2 %');
    expect(band(1, 0.02)).toBe('0.98 – 1.02');
    expect(band(undefined, 0.02)).toBe('—');
    expect(verdictText('no-baseline')).toBe('No baseline');
    expect(duration(1500)).toBe('1.5 s');
    expect(duration(125_000)).toBe('2 min 5 s');
  });

  it('refuses, before asking the API, a commit without its repository, a short sha and a pipeline that is no name', () => {
    const sha = '9c1e5b0e4f2d8a7b6c5d4e3f2a1b0c9d8e7f6a5b';
    expect(filterProblem({ pipeline: 'forecast', repository: 'model', commit: sha })).toBeUndefined();
    expect(filterProblem({ commit: sha })).toMatch(/repository and a commit together/);
    expect(filterProblem({ repository: 'model' })).toMatch(/repository and a commit together/);
    expect(filterProblem({ repository: 'model', commit: '9c1e5b0' })).toMatch(/full sha/);
    expect(filterProblem({ pipeline: 'Forecast!' })).toMatch(/pipeline name/);
  });

  it('counts a request as settled by its done, failed and cancelled points, and active while queued or running', () => {
    expect(progress({ total: 10, done: 4, failed: 1, cancelled: 0, status: 'running' })).toEqual({ settled: 5, total: 10, percent: 50, active: true });
    expect(progress({ total: 3, done: 1, failed: 0, cancelled: 2, status: 'cancelled' })).toEqual({ settled: 3, total: 3, percent: 100, active: false });
    expect(progress({ total: 0, done: 0, failed: 0, cancelled: 0, status: 'queued' })).toMatchObject({ percent: 100, active: true });
  });

  it('judges the newer of two ticked evaluations against the older, whatever order they were ticked in', () => {
    const older = '01JD8X5Q3ZC9W8M2V7K4T6R1YB';
    const newer = '01JD8X6A0000000000000000AA';
    expect(comparePair([older, newer])).toEqual({ head: newer, base: older });
    expect(comparePair([newer, older])).toEqual({ head: newer, base: older });
    expect(comparePair([older])).toBeUndefined();
  });

  it('writes a commit set as repository@short sha, by repository, and links the pages it names', () => {
    expect(commitPairs({ model: '9c1e5b0e4f2d', features: '3f2a1b0c9d8e' }).map((c) => `${c.repository}@${c.short}`)).toEqual(['features@3f2a1b0', 'model@9c1e5b0']);
    expect(parseRoute(href.evaluations({ pipeline: 'forecast', status: 'succeeded' }))).toEqual({ page: 'evaluations', filters: { pipeline: 'forecast', status: 'succeeded' } });
    expect(parseRoute(href.compare('01JD8X6A0000000000000000AA', '01JD8X5Q3ZC9W8M2V7K4T6R1YB'))).toEqual({ page: 'compare', head: '01JD8X6A0000000000000000AA', base: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' });
    expect(parseRoute(href.request('01JD8X5Q3ZC9W8M2V7K4T6R1YB'))).toEqual({ page: 'request', id: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' });
  });
});
