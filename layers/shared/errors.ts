/**
 * The base of every error Symbiont raises on purpose. `status` is the HTTP status the API maps it
 * to (in one place, the router); `code` is stable and machine-readable; `details` says where.
 */
export class SymbiontError extends Error {
  readonly status: number = 500;
  readonly code: string = 'internal';
  constructor(
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SymbiontError';
  }
}

export class BadRequestError extends SymbiontError {
  override readonly status = 400;
  override readonly code = 'bad_request';
  override name = 'BadRequestError';
}

export class UnauthorizedError extends SymbiontError {
  override readonly status = 401;
  override readonly code = 'unauthorized';
  override name = 'UnauthorizedError';
}

export class ForbiddenError extends SymbiontError {
  override readonly status = 403;
  override readonly code = 'forbidden';
  override name = 'ForbiddenError';
}

export class NotFoundError extends SymbiontError {
  override readonly status = 404;
  override readonly code = 'not_found';
  override name = 'NotFoundError';
}

export class ConflictError extends SymbiontError {
  override readonly status = 409;
  override readonly code = 'conflict';
  override name = 'ConflictError';
}
