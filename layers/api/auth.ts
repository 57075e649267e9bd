import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ForbiddenError, SymbiontError, UnauthorizedError } from '#shared/errors';
import type { ApiEvent, Caller, Route } from './route.ts';
import { appRoles } from './schemas.ts';

/**
 * Who is calling. In AWS API Gateway has already checked the SigV4 signature and hands over the
 * IAM principal; locally the caller presents a bearer token. Either way the router gets a
 * {@link Caller} (an app role, a name, an uploader's datasets) and checks the route's roles itself.
 */
export interface Authenticator {
  /**
   * Resolves the caller of a non-public route. Throws {@link UnauthorizedError} when credentials
   * are missing or unknown, {@link ForbiddenError} when they belong to no Symbiont role.
   */
  authenticate(event: ApiEvent): Caller | Promise<Caller>;
}

/** A bad `ROLE_MAP` or token map: a deployment mistake, reported with the field at fault. */
export class AuthSettingsError extends SymbiontError {
  override name = 'AuthSettingsError';
}

// Empty is allowed: an uploader bound to no dataset yet may call nothing that needs one.
const datasetList = z.array(z.string().min(1));

const uploaderNeedsDatasets = {
  message: 'an uploader needs "datasets", the datasets it may upload to and read',
  path: ['datasets'],
};

/** What one IAM role stands for. */
const roleGrantSchema = z
  .strictObject({
    role: z.enum(appRoles),
    /** Name recorded as sender and shown in logs. @default the IAM role name */
    name: z.string().min(1).optional(),
    datasets: datasetList.optional(),
  })
  .refine((grant) => grant.role !== 'uploader' || grant.datasets !== undefined, uploaderNeedsDatasets);

/** What one local token stands for. */
const tokenGrantSchema = z
  .strictObject({ role: z.enum(appRoles), name: z.string().min(1), datasets: datasetList.optional() })
  .refine((grant) => grant.role !== 'uploader' || grant.datasets !== undefined, uploaderNeedsDatasets);

/**
 * `ROLE_MAP`: IAM role name → app role. `"symbiont-dev-admin": "admin"` or, with a name or an
 * uploader's datasets, `"symbiont-dev-uploader": { "role": "uploader", "datasets": ["readings"] }`.
 */
export const roleMapSchema = z.record(
  z.string().regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM role name'),
  z.union([z.enum(['admin', 'scientist']).transform((role) => ({ role })), roleGrantSchema]),
);
/** A parsed `ROLE_MAP`: IAM role name → what the role stands for. */
export type RoleMap = z.output<typeof roleMapSchema>;

/** Local bearer tokens: token → the caller it stands for. */
export type TokenMap = Readonly<Record<string, z.input<typeof tokenGrantSchema>>>;

/** Tokens shorter than this are refused: they would be guessable. */
export const MIN_TOKEN_LENGTH = 16;

/** Parses `ROLE_MAP` (a JSON string from the environment) or throws naming the bad entry. */
export function parseRoleMap(json: string): RoleMap {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new AuthSettingsError(`ROLE_MAP is not valid JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  const result = roleMapSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `ROLE_MAP.${issue.path.join('.')}: ${issueMessage(issue)}`);
    throw new AuthSettingsError(`invalid ROLE_MAP: ${problems.join('; ')}`, problems);
  }
  return result.data;
}

// arn:aws:sts::123456789012:assumed-role/RoleName/session — partitions aws, aws-cn, aws-us-gov.
const ASSUMED_ROLE_ARN = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

/**
 * Resolves callers from the IAM authorizer context API Gateway adds after checking the signature.
 * Only assumed roles map to app roles (people and the console arrive through roles: SSO, Cognito
 * identity pools); the name is the map's `name` or the role name, never the session name, because
 * a caller picks its own session name and an uploader's name decides which uploads it may read.
 */
export function iamAuthenticator(roleMap: RoleMap): Authenticator {
  return {
    authenticate(event) {
      const arn = event.requestContext.authorizer?.iam?.userArn;
      if (!arn) throw new UnauthorizedError('missing credentials: sign the request with AWS Signature Version 4');
      const match = ASSUMED_ROLE_ARN.exec(arn);
      const roleName = match?.[2];
      const grant = roleName === undefined ? undefined : roleMap[roleName];
      if (roleName === undefined || grant === undefined) {
        throw new ForbiddenError(`the IAM principal ${arn} has no Symbiont role; call through one of the stack's roles`);
      }
      return toCaller(grant, roleName);
    },
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Resolves callers from `Authorization: Bearer <token>` (the local runtime: one token per role,
 * all in `.symbiont/endpoints.json`). Tokens are compared by their SHA-256 so that lookup time
 * says nothing about how much of a guess was right.
 */
export function bearerTokenAuthenticator(tokens: TokenMap): Authenticator {
  // Problems name the entry by position and name, never by its token.
  const problems: string[] = [];
  const byHash = new Map<string, Caller>();
  Object.entries(tokens).forEach(([token, grant], i) => {
    const label = `token #${i + 1} (${grant?.name ?? 'unnamed'})`;
    if (token.length < MIN_TOKEN_LENGTH) problems.push(`${label}: tokens must be at least ${MIN_TOKEN_LENGTH} characters`);
    const parsed = tokenGrantSchema.safeParse(grant);
    if (parsed.success) byHash.set(sha256(token), toCaller(parsed.data, parsed.data.name));
    else problems.push(...parsed.error.issues.map((issue) => `${label}.${issue.path.join('.')}: ${issue.message}`));
  });
  if (problems.length > 0) throw new AuthSettingsError(`invalid token map: ${problems.join('; ')}`, problems);
  return {
    authenticate(event) {
      const header = headerValue(event, 'authorization');
      if (header === undefined) throw new UnauthorizedError('missing credentials: send "Authorization: Bearer <token>"');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match?.[1]) throw new UnauthorizedError('malformed Authorization header: expected "Bearer <token>"');
      const caller = byHash.get(sha256(match[1]));
      if (!caller) throw new UnauthorizedError('unknown token');
      return caller;
    },
  };
}

/** Throws a {@link ForbiddenError} naming the roles a route needs when the caller has none of them. */
export function authorize(route: Route, caller: Caller): void {
  if (route.access === 'public' || route.access.includes(caller.role)) return;
  const needed = route.access.length === 1 ? `role ${route.access[0]}` : `one of the roles ${route.access.join(', ')}`;
  throw new ForbiddenError(`${route.method.toUpperCase()} ${route.path} needs ${needed}; ${caller.name} has role ${caller.role}`, {
    required: route.access,
    role: caller.role,
  });
}

function toCaller(grant: { role: Caller['role']; name?: string; datasets?: readonly string[] }, fallbackName: string): Caller {
  return {
    role: grant.role,
    name: grant.name ?? fallbackName,
    ...(grant.role === 'uploader' ? { datasets: grant.datasets ?? [] } : {}),
  };
}

function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join(', ') : issue.message;
}

/** Header names arrive lower-cased from API Gateway; the local adapter may differ. */
export function headerValue(event: ApiEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
