import { SymbiontError } from '#shared/errors';

/**
 * Errors the validation layer raises on purpose. A bad *file* is never one of them: it is a
 * verdict in the {@link ValidationReport}. These are the cases where no verdict can be given.
 */
export class ValidationError extends SymbiontError {
  override name = 'ValidationError';
}

/**
 * Reading the input failed (a network error from S3, a closed SFTP stream). The file may be fine,
 * so this is not a verdict: the caller retries, and the message ends in the DLQ if it keeps failing.
 */
export class InputReadError extends ValidationError {
  override name = 'InputReadError';
}

/** A dataset spec the validator cannot use; the config schema should have refused it already. */
export class UnusableSpecError extends ValidationError {
  override name = 'UnusableSpecError';
}

/**
 * The unique-key index outgrew what it can address (4 GiB of key bytes). Reported instead of
 * silently giving up exactness; a file this size needs the two-pass key check.
 */
export class KeyIndexCapacityError extends ValidationError {
  override name = 'KeyIndexCapacityError';
}
