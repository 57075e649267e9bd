import { BadRequestError, NotFoundError, SymbiontError } from '#shared/errors';
import type { FieldProblem } from './schemas.ts';

/** A request whose path parameters, query or body do not match the route's schemas. */
export class InvalidRequestError extends BadRequestError {
  override name = 'InvalidRequestError';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(`invalid request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
}

/** No route has this path. */
export class RouteNotFoundError extends NotFoundError {
  override name = 'RouteNotFoundError';
}

/** A route has this path, but not for this method; `allow` lists the methods it has. */
export class MethodNotAllowedError extends SymbiontError {
  override readonly status = 405;
  override readonly code = 'method_not_allowed';
  override name = 'MethodNotAllowedError';
  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message, { allow });
  }
}

/** An upload id that names no upload. */
export class UploadNotFoundError extends NotFoundError {
  override name = 'UploadNotFoundError';
}

/** A slot id that names no upload slot. */
export class SlotNotFoundError extends NotFoundError {
  override name = 'SlotNotFoundError';
}

/** A dataset name that the config does not define. */
export class DatasetNotFoundError extends NotFoundError {
  override name = 'DatasetNotFoundError';
}

/** A dataset version that is not published (never was, or is still being published). */
export class VersionNotFoundError extends NotFoundError {
  override name = 'VersionNotFoundError';
}

/** A route's handler answered with something its response schema rejects: our bug, a 500. */
export class InvalidResponseError extends SymbiontError {
  override name = 'InvalidResponseError';
}

/** A route whose capability this API was built without (evaluations, in tests that leave them out). */
export class CapabilityUnavailableError extends SymbiontError {
  override readonly status = 503;
  override readonly code = 'unavailable';
  override name = 'CapabilityUnavailableError';
}
