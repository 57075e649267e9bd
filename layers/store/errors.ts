import { BadRequestError, ConflictError, SymbiontError } from '#shared/errors';

/** A key part that cannot go into a table key (empty, or holding the `#` separator). */
export class InvalidKeyPartError extends BadRequestError {
  override name = 'InvalidKeyPartError';
}

/** A listing cursor this store did not hand out, or one handed out for another listing. */
export class InvalidCursorError extends BadRequestError {
  override name = 'InvalidCursorError';
}

/** A listing limit outside what a page may hold. */
export class InvalidLimitError extends BadRequestError {
  override name = 'InvalidLimitError';
}

/** An item that is created once (an upload) already exists. */
export class AlreadyExistsError extends ConflictError {
  override name = 'AlreadyExistsError';
}

/** A status change whose expected current status is not the stored one. */
export class StatusConflictError extends ConflictError {
  override name = 'StatusConflictError';
}

/** A status change the upload life cycle does not allow (a programming error, not bad input). */
export class IllegalTransitionError extends SymbiontError {
  override name = 'IllegalTransitionError';
}

/** A stored item that does not match its schema: the table holds something this code did not write. */
export class CorruptItemError extends SymbiontError {
  override name = 'CorruptItemError';
}

/**
 * Another upload's attempt is publishing the same bytes and its lease has not run out. Not a
 * failure of this upload: retried later, it matches the version the other one published, or
 * takes over from a holder that died.
 */
export class ContentClaimBusyError extends ConflictError {
  override name = 'ContentClaimBusyError';
}

/** Another attempt took over the content claim this attempt held; this one stops writing. */
export class ContentClaimLostError extends ConflictError {
  override name = 'ContentClaimLostError';
}

/** No version number could be allocated: the dataset's items kept changing under the allocator. */
export class VersionAllocationError extends SymbiontError {
  override name = 'VersionAllocationError';
}
