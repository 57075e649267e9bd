import { BadRequestError, ConflictError, NotFoundError, SymbiontError } from '#shared/errors';

/** Base of the errors SFTP user management raises on purpose. */
export class SftpUserError extends SymbiontError {
  override name = 'SftpUserError';
}

/**
 * SFTP users are managed in a stack deployed without an SFTP server (`sftp.enabled` off): there is
 * no Transfer Family server to add them to.
 */
export class SftpNotEnabledError extends SymbiontError {
  override readonly status = 409;
  override readonly code = 'sftp_not_enabled';
  override name = 'SftpNotEnabledError';
  constructor() {
    super('SFTP is not enabled in this stack; deploy it with sftp.enabled (cdk deploy -c sftp.enabled=true) to manage SFTP users');
  }
}

/** Text that is not one OpenSSH public key line of a type Transfer Family accepts. */
export class InvalidPublicKeyError extends BadRequestError {
  override name = 'InvalidPublicKeyError';
}

/** A user name that cannot be an SFTP user name (Transfer Family's rules and ours). */
export class InvalidSftpUserNameError extends BadRequestError {
  override name = 'InvalidSftpUserNameError';
}

/** A dataset the config does not define. */
export class UnknownSftpDatasetError extends BadRequestError {
  override name = 'UnknownSftpDatasetError';
}

/** No SFTP user has this name. */
export class SftpUserNotFoundError extends NotFoundError {
  override name = 'SftpUserNotFoundError';
}

/** The user has no key with this fingerprint. */
export class SftpKeyNotFoundError extends NotFoundError {
  override name = 'SftpKeyNotFoundError';
}

/** A user of this name exists already (in the config, the table or Transfer Family). */
export class SftpUserExistsError extends ConflictError {
  override name = 'SftpUserExistsError';
}

/** The key is one of the user's already. */
export class SftpKeyExistsError extends ConflictError {
  override name = 'SftpKeyExistsError';
}

/** A change to a user of the config, which belongs to the stack and changes only with a deploy. */
export class ConfigSftpUserError extends ConflictError {
  override name = 'ConfigSftpUserError';
}

/** A change that would leave a user without any key, so nobody could log in as them. */
export class LastSftpKeyError extends ConflictError {
  override name = 'LastSftpKeyError';
}
