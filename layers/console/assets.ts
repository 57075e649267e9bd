import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsoleConfig } from '#api/console-schemas';
import { endpointEnv } from '#shared/aws';
import { env } from '#shared/resources';

/**
 * What the API serves of the web console: the shell page at `/`, the bundle (`/console/app.js`,
 * `/console/app.css`) and how to sign in (`/console/config.json`). The bundle comes from a folder
 * beside the Lambda handler in AWS, from an in-memory esbuild build locally; both are read once.
 */

export const consoleFileNames = ['app.js', 'app.css'] as const;
export type ConsoleFileName = (typeof consoleFileNames)[number];
export type ConsoleFiles = Readonly<Record<ConsoleFileName, string>>;

/** One file of the console, with the hash that names its version. */
export interface ConsoleFile {
  readonly body: string;
  /** sha256 of the body (hex). */
  readonly sha256: string;
}

/** The console as the API serves it. */
export interface ConsoleAssets {
  /** How to sign in; throws when the deployment left it unset (the route then answers 503). */
  config(): ConsoleConfig;
  file(name: ConsoleFileName): Promise<ConsoleFile>;
  /** The shell page, naming the bundle's files by version so that a new deploy is never mixed with a cached one. */
  shell(): Promise<ConsoleShell>;
}

export interface ConsoleShell {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A console whose files `load` produces (once; a failed load is tried again on the next request). */
export function consoleAssets(options: {
  readonly config: ConsoleConfig | (() => ConsoleConfig);
  readonly load: () => Promise<ConsoleFiles>;
  /** Where the report page may frame rendered reports from. @default reportFrameOrigin() */
  readonly reportOrigin?: () => string | undefined;
}): ConsoleAssets {
  const reportOrigin = options.reportOrigin ?? (() => reportFrameOrigin());
  const config = typeof options.config === 'function' ? options.config : () => options.config as ConsoleConfig;
  let files: Promise<Record<ConsoleFileName, ConsoleFile>> | undefined;
  const loaded = () => {
    files ??= options.load().then(
      (raw) =>
        Object.fromEntries(
          consoleFileNames.map((name) => [name, { body: raw[name], sha256: createHash('sha256').update(raw[name]).digest('hex') }]),
        ) as Record<ConsoleFileName, ConsoleFile>,
      (error: unknown) => {
        files = undefined;
        throw error;
      },
    );
    return files;
  };
  return {
    config,
    file: async (name) => (await loaded())[name],
    async shell() {
      const all = await loaded();
      return { html: shellHtml(all), headers: shellHeaders(config(), reportOrigin()) };
    },
  };
}

/** The console files `npm run build:console` (or the API function's bundling) wrote into `dir`. */
export async function readConsoleDir(dir: string): Promise<ConsoleFiles> {
  const entries = await Promise.all(consoleFileNames.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const));
  return Object.fromEntries(entries) as ConsoleFiles;
}

/**
 * How the console signs in where the API runs in AWS: the Cognito ids the stack sets on the API
 * function. Without them (an API built without the identity construct) the console says so.
 */
export function consoleConfigFromEnv(source: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const region = source.AWS_REGION;
  const userPoolId = source[env.consoleUserPoolId];
  const clientId = source[env.consoleClientId];
  const identityPoolId = source[env.consoleIdentityPoolId];
  const domain = source[env.consoleAuthDomain];
  if (!region || !userPoolId || !clientId || !identityPoolId || !domain) {
    const missing = [
      ['AWS_REGION', region],
      [env.consoleUserPoolId, userPoolId],
      [env.consoleClientId, clientId],
      [env.consoleIdentityPoolId, identityPoolId],
      [env.consoleAuthDomain, domain],
    ]
      .filter(([, value]) => !value)
      .map(([name]) => name);
    throw new Error(`the console's sign-in is not configured: ${missing.join(', ')} not set on the API function`);
  }
  return { mode: 'cognito', region, userPoolId, clientId, identityPoolId, domain };
}

function shellHtml(files: Record<ConsoleFileName, ConsoleFile>): string {
  const version = (name: ConsoleFileName) => `console/${name}?v=${files[name].sha256.slice(0, 16)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Symbiont</title>
<link rel="stylesheet" href="${version('app.css')}">
<script type="module" src="${version('app.js')}"></script>
</head>
<body>
<div id="console"><noscript><p>The Symbiont console needs JavaScript. The same data is in the API: see <a href="docs">the API documentation</a>.</p></noscript></div>
</body>
</html>
`;
}

/**
 * Where presigned report URLs point, for the report page's frame: the local S3's origin when
 * `AWS_ENDPOINT_URL_S3` is set, else the data bucket's regional S3 host (the SDK presigns
 * virtual-hosted URLs there). Undefined when neither is known: no frame is allowed then.
 */
export function reportFrameOrigin(source: NodeJS.ProcessEnv = process.env): string | undefined {
  const endpoint = source[endpointEnv.s3];
  if (endpoint) return new URL(endpoint).origin;
  const bucket = source[env.dataBucket];
  const region = source.AWS_REGION;
  return bucket && region ? `https://${bucket}.s3.${region}.amazonaws.com` : undefined;
}

/**
 * The shell's Content-Security-Policy: its own script and stylesheet only; calls to this API and,
 * in AWS, to Cognito's sign-in and identity endpoints; frames from the data bucket only (a
 * rendered report, which the page also sandboxes). Downloads are navigations, which it allows.
 */
function shellHeaders(config: ConsoleConfig, reportOrigin: string | undefined): Record<string, string> {
  const connect = ["'self'"];
  if (config.mode === 'cognito') connect.push(new URL(config.domain).origin, `https://cognito-identity.${config.region}.amazonaws.com`);
  const frames = reportOrigin ? `frame-src ${reportOrigin}; ` : '';
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect.join(' ')}; ${frames}base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}
