import type { z } from 'zod';
import { SymbiontError } from '#shared/errors';
import { logger } from '#shared/observability';
import { CapabilityUnavailableError, MethodNotAllowedError } from './errors.ts';
import type { ApiResult } from './route.ts';
import type { ErrorResponse, FieldProblem } from './schemas.ts';

/**
 * The one place where errors become HTTP answers: `{"error": {"code", "message", "details"}}`.
 * A {@link SymbiontError} with a 4xx status carries its message and details to the caller, and so
 * does a capability this API was built without (503: it says which, nothing internal); any other
 * error — another 5xx SymbiontError included — is logged and answered with a message that says
 * nothing of internals, only the request id to look it up by.
 */
export function errorResponse(error: unknown, requestId: string): ApiResult {
  if ((error instanceof SymbiontError && error.status < 500) || error instanceof CapabilityUnavailableError) {
    const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {};
    return errorResult(error.status, { code: error.code, message: error.message, details: error.details }, headers);
  }
  logger.error('request failed with an internal error', { requestId, error: error as Error });
  return errorResult(500, {
    code: 'internal',
    message: `internal error; the request id is ${requestId}`,
    details: { requestId },
  });
}

function errorResult(status: number, error: ErrorResponse['error'], headers: Record<string, string> = {}): ApiResult {
  const body: ErrorResponse = { error: error.details === undefined ? { code: error.code, message: error.message } : error };
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Where in the request a value came from; the first part of each problem's `field`. */
export type RequestPart = 'params' | 'query' | 'body';

/**
 * Lists each bad field of a failed parse as `{ field: 'query.limit', message: 'expected a number ≤ 100' }`.
 * Pass {@link describeIssue} as the parse's error map so that the messages read like these.
 */
export function fieldProblems(error: z.ZodError, part: RequestPart): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const at = [part, ...issue.path.map(String)];
    // One problem per unknown key, so each is named where it is.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: `unknown ${part === 'body' ? 'field' : 'parameter'}` }));
    }
    return [{ field: at.join('.'), message: issue.message }];
  });
}

/**
 * A zod error map that words issues for API callers. Messages written into a schema
 * (`.regex(re, 'expected an upload id')`) take precedence over it, as zod gives schema-level
 * messages priority over per-parse ones.
 */
export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${article(issue.expected)}`;
    case 'too_big':
      return bound(issue.origin, issue.inclusive ? '≤' : '<', issue.maximum, 'at most');
    case 'too_small':
      return bound(issue.origin, issue.inclusive ? '≥' : '>', issue.minimum, 'at least');
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `does not match ${issue.pattern ?? 'the expected pattern'}` : `expected ${article(issue.format)}`;
    default:
      return undefined;
  }
}

function bound(origin: string, comparison: string, limit: number | bigint, words: string): string {
  switch (origin) {
    case 'number':
    case 'int':
    case 'bigint':
      return `expected a number ${comparison} ${limit}`;
    case 'string':
      return `expected ${words} ${limit} character${limit === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return `expected ${words} ${limit} item${limit === 1 ? '' : 's'}`;
    default:
      return `expected a value ${comparison} ${limit}`;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'nan') return 'NaN';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
