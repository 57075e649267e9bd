import { BadRequestError, NotFoundError } from '#shared/errors';

/** A queue name that is not one of the stack's queues. */
export class UnknownQueueError extends NotFoundError {
  override name = 'UnknownQueueError';
}

/** A limit or count out of range in a dead-letter request. */
export class InvalidDeadLetterRequestError extends BadRequestError {
  override name = 'InvalidDeadLetterRequestError';
}
