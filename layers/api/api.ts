import type { Authenticator } from './auth.ts';
import type { ApiDependencies, Route } from './route.ts';
import { createRouter, type Router } from './router.ts';
import { commitRoutes } from './routes/commits.ts';
import { evaluationRoutes } from './routes/evaluations.ts';
import { trendRoutes } from './routes/trends.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { metaRoutes } from './routes/meta.ts';
import { consoleRoutes } from './routes/console.ts';
import { sftpUserRoutes } from './routes/sftp-users.ts';
import { reportRoutes } from './routes/reports.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';

/**
 * Every route of the HTTP API. A new capability adds its route module here; the router, the
 * OpenAPI document and the stack's API Gateway routes (public or IAM) are all built from this list.
 */
export const apiRoutes: readonly Route[] = [...metaRoutes, ...consoleRoutes, ...uploadRoutes, ...datasetRoutes, ...commitRoutes, ...evaluationRoutes, ...trendRoutes, ...sftpUserRoutes, ...reportRoutes, ...webhookRoutes, ...deadLetterRoutes];

/**
 * What the API is built from: the same in Lambda and in the local runtime. Each capability's
 * service is optional (see {@link ApiDependencies}); its routes answer 503 (SFTP users: 409) without it.
 */
export interface CreateApiOptions extends ApiDependencies {
  /** IAM in AWS ({@link iamAuthenticator}), bearer tokens locally ({@link bearerTokenAuthenticator}). */
  readonly authenticator: Authenticator;
  /** @default {@link apiRoutes} */
  readonly routes?: readonly Route[];
}

/**
 * The API as the Lambda handler and the local runtime serve it: the same routes and router, with
 * the store, config, services and authenticator each of them builds.
 */
export function createApi(options: CreateApiOptions): Router {
  const { routes = apiRoutes, authenticator, ...deps } = options;
  return createRouter({ routes, deps, authenticator });
}

export { bearerTokenAuthenticator, iamAuthenticator, parseRoleMap, type Authenticator, type TokenMap, type RoleMap } from './auth.ts';
export type { ApiEvent, ApiResult, Caller } from './route.ts';
export type { Router } from './router.ts';
