/**
 * Why the `symbiont` command stops. Each kind has its exit code, so that scripts can tell a
 * refusal by the API from a typo on the command line from an API they cannot reach.
 */

export const ExitCode = {
  ok: 0,
  /** The API answered with an error (4xx/5xx); its message is on stderr. */
  apiError: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The API cannot be reached, or nothing says where it is or how to sign in. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The base of the CLI's errors: a message for stderr and the exit code that goes with it. */
export class CliError extends Error {
  readonly exitCode: ExitCode = ExitCode.apiError;
  override name = 'CliError';
}

/** A bad command line (an invalid option value, a malformed URL). */
export class UsageError extends CliError {
  override readonly exitCode = ExitCode.usage;
  override name = 'UsageError';
}

/** Nothing says which API to call or how to sign requests. */
export class NotConfiguredError extends CliError {
  override readonly exitCode = ExitCode.unreachable;
  override name = 'NotConfiguredError';
}

/** The API did not answer: refused connection, unknown host, timeout. */
export class UnreachableError extends CliError {
  override readonly exitCode = ExitCode.unreachable;
  override name = 'UnreachableError';
}

/** The API answered with an error; `code`, `message` and `details` are its own. */
export class ApiError extends CliError {
  override readonly exitCode = ExitCode.apiError;
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
