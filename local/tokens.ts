import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenMap } from '#api/api';
import { LocalRuntimeError } from './errors.ts';
import type { BrowserTokens } from './http-adapter.ts';

/** The app roles of DESIGN.md "The API"; locally each has one bearer token. */
export const roles = ['admin', 'scientist', 'uploader'] as const;
/** One of {@link roles}. */
export type Role = (typeof roles)[number];

/** One bearer token per role, as kept in `<dataDir>/tokens.json` and listed in endpoints.json. */
export type RoleTokens = Record<Role, string>;

/** Cookie the `/?token=…` link sets in a browser. */
export const TOKEN_COOKIE = 'symbiont_token';

const TOKENS_FILE = 'tokens.json';

/**
 * The tokens of `<dataDir>/tokens.json`, minted at random on first start and kept, so that links,
 * scripts and the CLI keep working across restarts. The file is readable by its owner only.
 */
export function loadOrCreateTokens(dataDir: string): RoleTokens {
  const file = join(dataDir, TOKENS_FILE);
  let stored: Partial<Record<string, unknown>> = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<string, unknown>>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new LocalRuntimeError(`${file}: cannot read the API tokens (${(error as Error).message}); delete the file to mint new ones`, { cause: error });
    }
  }
  const tokens = {} as RoleTokens;
  let minted = false;
  for (const role of roles) {
    const value = stored[role];
    if (typeof value === 'string' && value.length >= 32) {
      tokens[role] = value;
    } else {
      tokens[role] = `${role}-${randomBytes(24).toString('base64url')}`;
      minted = true;
    }
  }
  if (minted) writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  return tokens;
}

/**
 * The token map the API's bearer-token authenticator takes: each token stands for its role, and
 * the uploader's is bound to `uploaderDatasets` (the config's, or every dataset).
 */
export function tokenMap(tokens: RoleTokens, uploaderDatasets: readonly string[]): TokenMap {
  return {
    [tokens.admin]: { role: 'admin', name: 'local-admin' },
    [tokens.scientist]: { role: 'scientist', name: 'local-scientist' },
    [tokens.uploader]: { role: 'uploader', name: 'local-uploader', datasets: [...uploaderDatasets] },
  };
}

/** The tokens a browser may carry in the {@link TOKEN_COOKIE} cookie (see the HTTP adapter). */
export function browserTokens(tokens: RoleTokens): BrowserTokens {
  const digests = roles.map((role) => digest(tokens[role]));
  return {
    cookie: TOKEN_COOKIE,
    isKnown(token) {
      const candidate = digest(token);
      // Every entry is compared, in constant time, so timing says nothing about a near miss.
      return digests.map((d) => timingSafeEqual(d, candidate)).includes(true);
    },
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
