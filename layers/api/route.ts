import type { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import type { z } from 'zod';
import type { SymbiontConfig } from '#config/schema';
import type { ConsoleAssets } from '#console/assets';
import type { EvaluationService } from '#evaluation/service';
import type { GithubWebhook } from '#evaluation/github-webhook';
import type { DeadLetterService } from '#operations/dead-letters';
import type { ReportService } from '#reports/service';
import type { SftpUserService } from '#sftp/users';
import type { DataAccess } from './data-access.ts';
import type { AppRole } from './schemas.ts';
import type { UploadReader } from './upload-reader.ts';
import type { VersionReader } from './version-reader.ts';

/**
 * How a route is declared. Each route is declared once — method, path template, request schemas,
 * response schema, who may call it — and both the router and the OpenAPI document are built from
 * the same list, so they cannot disagree.
 */

/**
 * An HTTP API (payload format 2.0) event, with or without an IAM authorizer context. Both
 * `APIGatewayProxyEventV2` and `APIGatewayProxyEventV2WithIAMAuthorizer` are assignable to it, and
 * so is what the local HTTP adapter builds.
 */
export type ApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & {
    authorizer?: { iam?: { userArn?: string | null; accountId?: string | null; callerId?: string | null } | null } | null;
  }
>;

/** An HTTP API (payload format 2.0) answer, always with status, headers and a string body. */
export type ApiResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

/** Who is calling, as the authenticator resolved it. */
export interface Caller {
  readonly role: AppRole;
  /** Stable name: recorded as the sender of what an uploader sends, shown in logs. */
  readonly name: string;
  /** The datasets an uploader is bound to; absent for admins and scientists. */
  readonly datasets?: readonly string[];
}

/** What the routes need of the store; later route modules add their interfaces here. */
export type ApiStore = UploadReader & VersionReader;

/** What the route handlers may use; built once per process and injected, never imported. */
export interface ApiDependencies {
  /** The table, seen through the reads and writes the routes need. */
  readonly store: ApiStore;
  readonly config: SymbiontConfig;
  /** Report templates and reports; absent where the API is built without them (their routes then answer 503). */
  readonly reports?: ReportService;
  /** Presigned downloads and upload slots; absent where the API is built without them (their routes then answer 503). */
  readonly data?: DataAccess;
  /** SFTP users at run time; absent where the API is built without them (its routes then answer 409). */
  readonly sftpUsers?: SftpUserService;
  /** Commits, evaluation requests and evaluations; absent where the API is built without them (some tests). */
  readonly evaluations?: EvaluationService;
  /** The GitHub webhook; absent where the API is built without it (its route then answers 503). */
  readonly githubWebhook?: GithubWebhook;
  /** The work queues' DLQs; absent where the API is built without them (their routes then answer 503). */
  readonly deadLetters?: DeadLetterService;
  /** The web console's shell and bundle; absent where the API is built without it (`/` then redirects to /docs). */
  readonly console?: ConsoleAssets;
}

/** The generated OpenAPI 3.1 document (typed through the generator, whose types package is its own). */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** Methods a route may answer, lower-case as OpenAPI writes them. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `public`: no credentials needed. Otherwise the roles that may call the route. */
export type Access = 'public' | readonly AppRole[];

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a route handler gets besides its parsed input. */
export interface RouteContext<A extends Access> {
  /** The authenticated caller; public routes have none. */
  readonly caller: A extends 'public' ? undefined : Caller;
  readonly deps: ApiDependencies;
  /** The OpenAPI document of the router serving this request. */
  readonly openapi: () => OpenApiDocument;
  readonly requestId: string;
  /**
   * The request as sent, for a route that must see the exact bytes (a webhook verifying its HMAC):
   * headers with lower-case names, and the body decoded from base64 when API Gateway encoded it.
   */
  readonly raw: { readonly headers: Readonly<Record<string, string | undefined>>; body(): Buffer };
}

/**
 * A reply other than "200 with the response schema": another status, extra headers. Handlers
 * return the body alone in the common case.
 */
export class Reply<T> {
  constructor(
    readonly body: T,
    readonly status?: number,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

/** One route: what it answers, who may call it, what it takes and gives, and the handler. */
export interface RouteSpec<
  A extends Access,
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType,
> {
  readonly method: HttpMethod;
  /** OpenAPI path template: `/uploads/{id}`. Parameter names must be the keys of `request.params`. */
  readonly path: string;
  /** Unique, camelCase; the OpenAPI operationId. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly access: A;
  readonly request?: { readonly params?: P; readonly query?: Q; readonly body?: B };
  readonly response: {
    /** @default 200 */
    readonly status?: number;
    readonly description: string;
    readonly schema: R;
    /** @default 'application/json' */
    readonly contentType?: 'application/json' | 'text/html' | 'text/javascript' | 'text/css';
  };
  /** Error statuses worth documenting besides the ones every route may give (400, 401, 403, 500). */
  readonly errors?: readonly number[];
  readonly handle: (
    input: { readonly params: Parsed<P>; readonly query: Parsed<Q>; readonly body: Parsed<B> },
    context: RouteContext<A>,
  ) => Promise<z.input<R> | Reply<z.input<R>>> | z.input<R> | Reply<z.input<R>>;
}

/** A declared route, its generics erased so that routes of different shapes fit in one list. */
export type Route = RouteSpec<Access, z.ZodObject | undefined, z.ZodObject | undefined, z.ZodType | undefined, z.ZodType>;

/**
 * Declares a route. The generics tie the handler's input to the request schemas and its result
 * to the response schema; the returned value is the erased {@link Route} the lists hold.
 */
export function defineRoute<
  A extends Access,
  R extends z.ZodType,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<A, P, Q, B, R>): Route {
  return spec as unknown as Route;
}
