import { BadRequestError, ConflictError, NotFoundError, SymbiontError, UnauthorizedError } from '#shared/errors';

/**
 * The errors of continuous evaluation. The names of those thrown inside the state machine's tasks
 * are what its Retry and Catch match on (Step Functions reads a task's error name), so they are
 * part of the definition's contract: {@link TransientTaskError} is retried, the rest are caught and
 * recorded as a `failed` evaluation.
 */
export class EvaluationError extends SymbiontError {
  override name = 'EvaluationError';
}

/** A request that cannot be planned as asked (unknown pipeline, a repository without a head…). */
export class InvalidEvaluationRequestError extends BadRequestError {
  override name = 'InvalidEvaluationRequestError';
}

/** A short sha that matches no recorded commit, or several. */
export class UnknownCommitError extends BadRequestError {
  override name = 'UnknownCommitError';
}

/** A request asks for more than one request may hold. */
export class RequestTooLargeError extends BadRequestError {
  override name = 'RequestTooLargeError';
}

/** A rerun asked by a role that may not rerun. */
export class RerunNotAllowedError extends ConflictError {
  override name = 'RerunNotAllowedError';
}

/** A point reached after its request was cancelled: recorded as cancelled, not run. */
export class RequestCancelledError extends EvaluationError {
  override name = 'RequestCancelledError';
}

export class EvaluationNotFoundError extends NotFoundError {
  override name = 'EvaluationNotFoundError';
}

export class RequestNotFoundError extends NotFoundError {
  override name = 'RequestNotFoundError';
}

/** A queue message that is not an evaluation message: it goes to the DLQ to be read. */
export class InvalidEvaluationMessageError extends EvaluationError {
  override name = 'InvalidEvaluationMessageError';
}

/** A task payload the state machine should never send: the definition and the tasks disagree. */
export class InvalidTaskInputError extends EvaluationError {
  override name = 'InvalidTaskInputError';
}

/**
 * Something that may work when tried again (a throttled or unreachable service). The state
 * machine retries tasks that fail with it.
 */
export class TransientTaskError extends EvaluationError {
  override name = 'TransientTaskError';
}

/** A stage command that exited non-zero, could not start, or produced no usable output. */
export class StageFailedError extends EvaluationError {
  override name = 'StageFailedError';
}

/** A stage command that ran past its `timeoutSeconds` and was stopped. */
export class StageTimeoutError extends EvaluationError {
  override name = 'StageTimeoutError';
}

/** The last stage's `metrics.json` is missing, not JSON, or not an object of numbers. */
export class InvalidMetricsError extends EvaluationError {
  override name = 'InvalidMetricsError';
}

/** Where the stage runner is not this process (AWS, until stages run on ECS): RunStage cannot run here. */
export class StageRunnerUnavailableError extends EvaluationError {
  override name = 'StageRunnerUnavailableError';
}

/** One part of a request could not be evaluated (its execution fails with this, after recording why). */
export class EvaluationPartFailedError extends EvaluationError {
  override name = 'EvaluationPartFailedError';
}

/** A webhook delivery without a valid `X-Hub-Signature-256` (missing, malformed or wrong): 401. */
export class WebhookSignatureError extends UnauthorizedError {
  override name = 'WebhookSignatureError';
}

/** A webhook delivery whose body is not a GitHub event payload. */
export class InvalidWebhookPayloadError extends BadRequestError {
  override name = 'InvalidWebhookPayloadError';
}

/** The webhook has no secret to verify deliveries with (the config's `webhooks.githubSecret` locally): 503. */
export class WebhookNotConfiguredError extends SymbiontError {
  override readonly status = 503;
  override readonly code = 'unavailable';
  override name = 'WebhookNotConfiguredError';
}
