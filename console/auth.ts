/**
 * Signing in to the console in AWS, with no SDK: Cognito's managed login (authorization code with
 * PKCE) gives an id token; the identity pool trades it for the temporary credentials of the
 * person's group role (admin, scientist or uploader), which sign every API call. Tokens live in
 * sessionStorage only: closing the tab signs out.
 */

/** What `/console/config.json` says in AWS. */
export interface CognitoConfig {
  readonly mode: 'cognito';
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly identityPoolId: string;
  /** The managed login domain, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domain: string;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** A signed-in person: credentials on demand, and the way out. */
export interface CognitoSession {
  readonly region: string;
  readonly email?: string;
  credentials(): Promise<Credentials>;
  signOut(): void;
}

const VERIFIER = 'symbiont.pkce';
const TOKENS = 'symbiont.tokens';

interface Tokens {
  readonly idToken: string;
  readonly refreshToken?: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** Where Cognito sends the browser back: this page, without query or fragment. */
function redirectUri(): string {
  return `${location.origin}${location.pathname}`;
}

/**
 * The session of the person signed in, finishing a sign-in the browser just came back from;
 * `undefined` when nobody is signed in (call {@link signIn}).
 */
export async function restoreSession(config: CognitoConfig): Promise<CognitoSession | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    const expected = sessionStorage.getItem(VERIFIER);
    sessionStorage.removeItem(VERIFIER);
    const [verifier, state] = (expected ?? '').split(' ');
    // Back to the plain console URL, keeping the page the person was on.
    history.replaceState(null, '', `${redirectUri()}${location.hash}`);
    if (!verifier || state !== params.get('state')) throw new Error('The sign-in answer does not match the sign-in this tab started. Sign in again.');
    saveTokens(await tokenRequest(config, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri() }));
  }
  let tokens = loadTokens();
  if (!tokens) return undefined;
  if (tokens.expiresAt - Date.now() < 60_000) {
    if (!tokens.refreshToken) return undefined;
    try {
      const refreshed = await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
      tokens = { ...refreshed, refreshToken: refreshed.refreshToken ?? tokens.refreshToken };
      saveTokens(tokens);
    } catch {
      sessionStorage.removeItem(TOKENS);
      return undefined;
    }
  }
  const idToken = tokens.idToken;
  const email = (JSON.parse(base64UrlDecode(idToken.split('.')[1] ?? '')) as { email?: string }).email;
  let cached: Credentials | undefined;
  return {
    region: config.region,
    ...(email ? { email } : {}),
    async credentials() {
      if (cached && cached.expiresAt - Date.now() > 60_000) return cached;
      cached = await identityCredentials(config, idToken);
      return cached;
    },
    signOut() {
      sessionStorage.removeItem(TOKENS);
      const url = new URL('/logout', config.domain);
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('logout_uri', redirectUri());
      location.assign(url.toString());
    },
  };
}

/** Sends the browser to Cognito's managed login; it comes back to this page with a code. */
export async function signIn(config: CognitoConfig): Promise<void> {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(VERIFIER, `${verifier} ${state}`);
  const challenge = base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const url = new URL('/oauth2/authorize', config.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

async function tokenRequest(config: CognitoConfig, form: Record<string, string>): Promise<Tokens> {
  const response = await fetch(new URL('/oauth2/token', config.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.clientId, ...form }).toString(),
  });
  const body = (await response.json()) as { id_token?: string; refresh_token?: string; expires_in?: number; error?: string };
  if (!response.ok || !body.id_token) throw new Error(`Cognito refused the sign-in (${body.error ?? response.status}). Sign in again.`);
  return { idToken: body.id_token, ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}), expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
}

/** The identity pool's two calls: which identity this token is, then that identity's credentials. */
async function identityCredentials(config: CognitoConfig, idToken: string): Promise<Credentials> {
  const logins = { [`cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`]: idToken };
  const call = async <T>(action: string, body: unknown): Promise<T> => {
    const response = await fetch(`https://cognito-identity.${config.region}.amazonaws.com/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${action}` },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as T & { message?: string; __type?: string };
    if (!response.ok) {
      throw new Error(`The identity pool refused ${action}: ${answer.message ?? answer.__type ?? response.status}. Is your account in one of the groups admin, scientist or uploader?`);
    }
    return answer;
  };
  const { IdentityId } = await call<{ IdentityId: string }>('GetId', { IdentityPoolId: config.identityPoolId, Logins: logins });
  const { Credentials } = await call<{ Credentials: { AccessKeyId: string; SecretKey: string; SessionToken: string; Expiration: number } }>(
    'GetCredentialsForIdentity',
    { IdentityId, Logins: logins },
  );
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretKey,
    sessionToken: Credentials.SessionToken,
    expiresAt: Credentials.Expiration * 1000,
  };
}

function saveTokens(tokens: Tokens): void {
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
}

function loadTokens(): Tokens | undefined {
  try {
    const tokens = JSON.parse(sessionStorage.getItem(TOKENS) ?? 'null') as Tokens | null;
    return tokens?.idToken ? tokens : undefined;
  } catch {
    return undefined;
  }
}

function randomString(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecode(text: string): string {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
}
