/**
 * Errors the local runtime raises on purpose. They reach a person at a terminal, so each message
 * says what went wrong and what to change.
 */

/** The base of the local runtime's errors. */
export class LocalRuntimeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalRuntimeError';
  }
}

/** A port the runtime was told to use is taken by another program. */
export class PortInUseError extends LocalRuntimeError {
  constructor(
    readonly service: string,
    readonly port: number,
    /** How to choose another port: the config field, env variable and flag. */
    readonly remedy: string,
    options?: ErrorOptions,
  ) {
    super(`port ${port} (${service}) is already in use: ${remedy}, or stop the program that holds it`, options);
    this.name = 'PortInUseError';
  }
}

/** Another runtime is using the same data directory (its DynamoDB store cannot be opened twice). */
export class DataDirInUseError extends LocalRuntimeError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    options?: ErrorOptions,
  ) {
    super(`${dataDir} is in use by another Symbiont runtime (pid ${pid}): stop it, or choose another directory with --data-dir or SYMBIONT_DATA_DIR`, options);
    this.name = 'DataDirInUseError';
  }
}

/** A flag or environment variable the runtime cannot use. */
export class LocalSettingsError extends LocalRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalSettingsError';
  }
}

/** An SFTP user's public key that cannot be used (a key file missing or unreadable, a line that is no key). */
export class SftpKeyError extends LocalRuntimeError {
  constructor(
    readonly user: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`sftpUsers.${user}: ${message}`, options);
    this.name = 'SftpKeyError';
  }
}
