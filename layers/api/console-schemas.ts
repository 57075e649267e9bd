import { z } from 'zod';
import { appRoles } from './schemas.ts';

/**
 * The shapes of the console's own routes (`/`, `/console/*`, `/me`). Kept beside schemas.ts, which
 * the data routes share, the way report-schemas.ts is; the OpenAPI document lists them all.
 */

/** `GET /me`: who the API takes the caller for. */
export const meSchema = z
  .object({
    role: z.enum(appRoles),
    name: z.string().openapi({ example: 'local-admin', description: 'Recorded as the sender of what this caller uploads.' }),
    datasets: z.array(z.string()).optional().openapi({ description: 'An uploader: the datasets it is bound to.' }),
  })
  .openapi('Me');
export type Me = z.infer<typeof meSchema>;

/** `GET /console/config.json`: how the console signs in where it is served. */
export const consoleConfigSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('local').openapi({ description: 'The local runtime: the session cookie set by the banner link signs calls.' }) }),
    z.object({
      mode: z.literal('cognito').openapi({ description: 'AWS: Cognito managed login, then SigV4 with the identity pool credentials.' }),
      region: z.string(),
      userPoolId: z.string(),
      clientId: z.string(),
      identityPoolId: z.string(),
      domain: z.string().openapi({ description: 'The managed login domain (https://<prefix>.auth.<region>.amazoncognito.com).' }),
    }),
  ])
  .openapi('ConsoleConfig');
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** `GET /`, `/console/app.js`, `/console/app.css`: the console's shell and its bundle, as text. */
export const consoleAssetSchema = z.string().openapi({ description: 'A file of the web console.' });
