import { z } from 'zod';
import type { ConsoleAssets } from '#console/assets';
import { CapabilityUnavailableError } from '../errors.ts';
import { defineRoute, Reply, type ApiDependencies, type Route } from '../route.ts';
import { consoleAssetSchema, consoleConfigSchema, meSchema } from '../console-schemas.ts';

/**
 * The web console: its shell at `/`, its bundle and sign-in settings under `/console/`, all public
 * (they hold no data: every datum comes from the data routes, with the caller's credentials), and
 * `GET /me`, which tells the console who the API takes the caller for.
 */
export const consoleRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/',
    operationId: 'getConsole',
    summary: 'The web console (datasets, versions, uploads and their reports, SFTP users).',
    description: 'An API built without the console sends a browser to /docs instead.',
    tags: ['console'],
    access: 'public',
    response: { description: 'The console page.', schema: consoleAssetSchema, contentType: 'text/html' },
    handle: async (_input, { deps }) => {
      // Relative, so that it also works under a named API Gateway stage.
      if (!deps.console) return new Reply('', 302, { location: 'docs', 'cache-control': 'no-store' });
      const shell = await deps.console.shell();
      return new Reply(shell.html, 200, shell.headers);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/console/app.js',
    operationId: 'getConsoleScript',
    summary: "The console's script (one bundle).",
    tags: ['console'],
    access: 'public',
    response: { description: 'The script.', schema: consoleAssetSchema, contentType: 'text/javascript' },
    errors: [503],
    handle: async (_input, { deps }) => asset(assets(deps), 'app.js'),
  }),
  defineRoute({
    method: 'get',
    path: '/console/app.css',
    operationId: 'getConsoleStyle',
    summary: "The console's stylesheet.",
    tags: ['console'],
    access: 'public',
    response: { description: 'The stylesheet.', schema: consoleAssetSchema, contentType: 'text/css' },
    errors: [503],
    handle: async (_input, { deps }) => asset(assets(deps), 'app.css'),
  }),
  defineRoute({
    method: 'get',
    path: '/console/config.json',
    operationId: 'getConsoleConfig',
    summary: 'How the console signs in here: the local session cookie, or Cognito (user pool, app client, identity pool, login domain).',
    tags: ['console'],
    access: 'public',
    response: { description: 'The sign-in settings.', schema: consoleConfigSchema },
    errors: [503],
    handle: (_input, { deps }) => {
      let config;
      try {
        config = assets(deps).config();
      } catch (error) {
        if (error instanceof CapabilityUnavailableError) throw error;
        throw new CapabilityUnavailableError(`the console cannot sign in here: ${(error as Error).message}`, undefined, { cause: error });
      }
      return new Reply(config, 200, { 'cache-control': 'no-cache' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/me',
    operationId: 'getMe',
    summary: 'Who the API takes the caller for: role, name and, for an uploader, its datasets.',
    tags: ['console'],
    access: ['admin', 'scientist', 'uploader'],
    response: { description: 'The caller.', schema: meSchema },
    handle: (_input, { caller }) => ({ role: caller.role, name: caller.name, ...(caller.datasets ? { datasets: [...caller.datasets] } : {}) }),
  }),
];

function assets(deps: ApiDependencies): ConsoleAssets {
  if (!deps.console) throw new CapabilityUnavailableError('the web console is not served by this API');
  return deps.console;
}

async function asset(console: ConsoleAssets, name: 'app.js' | 'app.css'): Promise<Reply<z.input<typeof consoleAssetSchema>>> {
  const file = await console.file(name);
  // The shell names each file with its hash (?v=…), so a cached copy is always the right one.
  return new Reply(file.body, 200, { 'cache-control': 'public, max-age=31536000, immutable', etag: `"${file.sha256.slice(0, 32)}"`, 'x-content-type-options': 'nosniff' });
}
