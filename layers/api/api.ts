import type { SymbiontConfig } from '#config/schema';
import type { Authenticator } from './auth.ts';
import type { ApiStore, Route } from './route.ts';
import { createRouter, type Router } from './router.ts';
import type { EvaluationService } from '#evaluation/service';
import { commitRoutes } from './routes/commits.ts';
import { evaluationRoutes } from './routes/evaluations.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { metaRoutes } from './routes/meta.ts';
import { sftpUserRoutes } from './routes/sftp-users.ts';
import type { SftpUserService } from '#sftp/users';
import type { ReportService } from '#reports/service';
import { reportRoutes } from './routes/reports.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import type { GithubWebhook } from '#evaluation/github-webhook';

/**
 * Every route of the HTTP API. A new capability adds its route module here; the router, the
 * OpenAPI document and the stack's API Gateway routes (public or IAM) are all built from this list.
 */
export const apiRoutes: readonly Route[] = [...metaRoutes, ...uploadRoutes, ...datasetRoutes, ...commitRoutes, ...evaluationRoutes, ...sftpUserRoutes, ...reportRoutes, ...webhookRoutes];

/** What the API is built from: the same in Lambda and in the local runtime. */
export interface CreateApiOptions {
  readonly store: ApiStore;
  readonly config: SymbiontConfig;
  /** Report templates and reports (`createReportService`); their routes answer 503 without it. */
  readonly reports?: ReportService;
  /** IAM in AWS ({@link iamAuthenticator}), bearer tokens locally ({@link bearerTokenAuthenticator}). */
  readonly authenticator: Authenticator;
  /** Commits and evaluations (`createEvaluationService`); their routes answer 503 without it. */
  readonly evaluations?: EvaluationService;
  /** SFTP users at run time: Transfer Family in AWS, the table locally; their routes answer 409 without it. */
  readonly sftpUsers?: SftpUserService;
  /** The GitHub webhook (`createGithubWebhookFromEnv`); its route answers 503 without it. */
  readonly githubWebhook?: GithubWebhook;
  /** @default {@link apiRoutes} */
  readonly routes?: readonly Route[];
}

/**
 * The API as the Lambda handler and the local runtime serve it: the same routes and router, with
 * the store, config and authenticator each of them builds.
 */
export function createApi(options: CreateApiOptions): Router {
  return createRouter({
    routes: options.routes ?? apiRoutes,
    deps: { store: options.store, config: options.config, ...(options.reports ? { reports: options.reports } : {}), ...(options.evaluations ? { evaluations: options.evaluations } : {}), ...(options.sftpUsers ? { sftpUsers: options.sftpUsers } : {}), ...(options.githubWebhook ? { githubWebhook: options.githubWebhook } : {}) },
    authenticator: options.authenticator,
  });
}

export { bearerTokenAuthenticator, iamAuthenticator, parseRoleMap, type Authenticator, type TokenMap, type RoleMap } from './auth.ts';
export type { ApiEvent, ApiResult, Caller } from './route.ts';
export type { Router } from './router.ts';
