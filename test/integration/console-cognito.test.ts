import { createHash } from 'node:crypto';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { consoleAssets, consoleConfigFromEnv, type ConsoleAssets } from '#console/assets';
import { buildConsole } from '#console/build';
import { env } from '#shared/resources';
import { hasChromium, itWithChromium, launchChromium } from './console-helpers.ts';

/**
 * The console's AWS sign-in, in headless Chromium, with Cognito and the API played by the test
 * (page.route): the managed login with PKCE, the code traded for tokens, the identity pool's two
 * calls, then API calls signed with SigV4 using the temporary credentials — under the shell's own
 * Content-Security-Policy (not bypassed), so the endpoints it must reach are the ones it allows.
 */

const CONSOLE = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const LOGIN = 'https://symbiont-dev-123.auth.eu-west-1.amazoncognito.com';
const IDENTITY = 'https://cognito-identity.eu-west-1.amazonaws.com';
const settings = {
  AWS_REGION: 'eu-west-1',
  [env.consoleUserPoolId]: 'eu-west-1_pool',
  [env.consoleClientId]: 'client123',
  [env.consoleIdentityPoolId]: 'eu-west-1:pool-id',
  [env.consoleAuthDomain]: LOGIN,
};

let browser: Browser | undefined;
let assets: ConsoleAssets;

beforeAll(async () => {
  if (!hasChromium) return;
  assets = consoleAssets({ config: () => consoleConfigFromEnv(settings), load: buildConsole });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const cors = { 'access-control-allow-origin': CONSOLE, 'access-control-allow-headers': '*', 'access-control-allow-methods': 'POST' };
const base64Url = (bytes: Buffer) => bytes.toString('base64url');

describe('the console signing in through Cognito', () => {
  itWithChromium('signs in with PKCE, gets the group role’s credentials and signs every API call with SigV4', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const seen: { challenge?: string; verifier?: string; logins?: unknown; apiCalls: { path: string; authorization?: string; token?: string }[] } = { apiCalls: [] };

    // The API: the console's public routes, and data routes that insist on a signature.
    await page.route(`${CONSOLE}/**`, async (route: Route) => {
      const url = new URL(route.request().url());
      const headers = route.request().headers();
      if (url.pathname === '/') {
        const shell = await assets.shell();
        return route.fulfill({ status: 200, headers: { ...shell.headers, 'content-type': 'text/html' }, body: shell.html });
      }
      if (url.pathname === '/console/app.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: (await assets.file('app.js')).body });
      if (url.pathname === '/console/app.css') return route.fulfill({ status: 200, contentType: 'text/css', body: (await assets.file('app.css')).body });
      if (url.pathname === '/console/config.json') return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(assets.config()) });
      seen.apiCalls.push({ path: url.pathname, authorization: headers.authorization, token: headers['x-amz-security-token'] });
      if (!headers.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=ASIATEST/')) return route.fulfill({ status: 403, contentType: 'application/json', body: '{"message":"Forbidden"}' });
      if (url.pathname === '/me') return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ role: 'scientist', name: 'symbiont-dev-scientist' }) });
      if (url.pathname === '/datasets') return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items: [{ name: 'readings', format: 'csv', revision: 'f'.repeat(64), latestVersion: 3 }] }) });
      return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no route"}}' });
    });

    // Cognito's managed login: the authorize page sends the browser straight back with a code.
    await page.route(`${LOGIN}/**`, async (route: Route) => {
      const request = route.request();
      const url = new URL(request.url());
      if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
      if (url.pathname === '/oauth2/authorize') {
        expect(url.searchParams.get('client_id')).toBe('client123');
        expect(url.searchParams.get('redirect_uri')).toBe(`${CONSOLE}/`);
        expect(url.searchParams.get('code_challenge_method')).toBe('S256');
        seen.challenge = url.searchParams.get('code_challenge') ?? undefined;
        return route.fulfill({ status: 302, headers: { location: `${CONSOLE}/?code=the-code&state=${url.searchParams.get('state')}` } });
      }
      if (url.pathname === '/oauth2/token') {
        const form = new URLSearchParams(request.postData() ?? '');
        expect(form.get('grant_type')).toBe('authorization_code');
        expect(form.get('code')).toBe('the-code');
        seen.verifier = form.get('code_verifier') ?? undefined;
        const idToken = `e30.${base64Url(Buffer.from(JSON.stringify({ email: 'ada@example.org' })))}.sig`;
        return route.fulfill({ status: 200, headers: cors, contentType: 'application/json', body: JSON.stringify({ id_token: idToken, refresh_token: 'r', expires_in: 3600 }) });
      }
      return route.fulfill({ status: 404, headers: cors });
    });

    // The identity pool: GetId, then GetCredentialsForIdentity.
    await page.route(`${IDENTITY}/**`, async (route: Route) => {
      const request = route.request();
      if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
      const target = request.headers()['x-amz-target'];
      const body = JSON.parse(request.postData() ?? '{}') as { Logins?: unknown; IdentityPoolId?: string };
      seen.logins = body.Logins;
      if (target === 'AWSCognitoIdentityService.GetId') {
        expect(body.IdentityPoolId).toBe('eu-west-1:pool-id');
        return route.fulfill({ status: 200, headers: cors, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ IdentityId: 'eu-west-1:person' }) });
      }
      const credentials = { AccessKeyId: 'ASIATEST', SecretKey: 'secret', SessionToken: 'session-token', Expiration: Math.floor(Date.now() / 1000) + 3600 };
      return route.fulfill({ status: 200, headers: cors, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ IdentityId: 'eu-west-1:person', Credentials: credentials }) });
    });

    try {
      await page.goto(`${CONSOLE}/`);
      await page.getByRole('heading', { level: 1, name: 'Sign in to Symbiont' }).waitFor();
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
      await page.getByRole('link', { name: 'readings', exact: true }).waitFor();
      // Back at the plain console URL: no code left in the address bar.
      expect(page.url()).toBe(`${CONSOLE}/`);
      await expect(page.getByText('Signed in as').textContent()).resolves.toContain('ada@example.org');
      await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(1);
      // PKCE: the verifier sent with the code hashes to the challenge sent to the login page.
      expect(base64Url(createHash('sha256').update(seen.verifier ?? '').digest())).toBe(seen.challenge);
      expect(seen.logins).toEqual({ 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool': expect.stringMatching(/^e30\./) });
      // Every data call was signed for execute-api in the region, with the session token.
      expect(seen.apiCalls.map((c) => c.path)).toEqual(expect.arrayContaining(['/me', '/datasets']));
      for (const call of seen.apiCalls) {
        expect(call.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIATEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
        expect(call.token).toBe('session-token');
      }
    } finally {
      await context.close();
    }
  });
});
