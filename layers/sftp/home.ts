import { landing } from '#shared/resources';
import { InvalidSftpUserNameError } from './errors.ts';

/**
 * What an SFTP user sees and may touch, in one place for the stack (config users) and the API
 * (run-time users): LOGICAL home directories (LOCAL-STACK.md) with one folder per dataset,
 * `/<dataset>` → `landing sftp/<user>/<dataset>/`, the same layout the local SFTP server shows and
 * the ingest handler reads (DESIGN.md "Storage"). The result file ingest writes beside an upload
 * (`<file>.result.txt`) lands in the same folder, so the user sees it there.
 */

/**
 * SFTP user names: what the config allows for names, within Transfer Family's user-name rules
 * (3 to 100 characters of letters, digits, `_`, `-`, `.`, `@`).
 */
export const SFTP_USER_NAME = /^[a-z][a-z0-9_-]{2,63}$/;

/** Checks a name against {@link SFTP_USER_NAME}, or throws saying what a name may be. */
export function checkSftpUserName(name: string): string {
  if (!SFTP_USER_NAME.test(name)) {
    throw new InvalidSftpUserNameError(
      `"${name.slice(0, 80)}" cannot be an SFTP user name: use 3 to 64 lower-case letters, digits, "-" and "_", starting with a letter`,
      { name },
    );
  }
  return name;
}

/** The landing prefix of one user's folder for one dataset, without a trailing slash: `sftp/alice/readings`. */
export function sftpFolderPrefix(user: string, dataset: string): string {
  return `${landing.sftpPrefix}${user}/${dataset}`;
}

/** One entry of a LOGICAL home directory: the path the user sees and the `/<bucket>/<prefix>` behind it. */
export interface HomeDirectoryMapping {
  readonly entry: string;
  readonly target: string;
}

/** The user's home: one folder per dataset, nothing else (no way up into other users' folders). */
export function homeDirectoryMappings(bucket: string, user: string, datasets: readonly string[]): HomeDirectoryMapping[] {
  return datasets.map((dataset) => ({ entry: `/${dataset}`, target: `/${bucket}/${sftpFolderPrefix(user, dataset)}` }));
}

/** The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs built outside CloudFormation. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** What an SFTP user may do with their own files: write, read back (result files too), rename and delete. */
export const sftpUserObjectActions = ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:AbortMultipartUpload'] as const;

/**
 * The session policy of every run-time user (CreateUser's `Policy`): the shared run-time role may
 * reach all of `sftp/`, and this narrows each session to `sftp/<its user>/` through Transfer
 * Family's `${transfer:UserName}` variable, so adding a user changes no IAM policy.
 */
export function runtimeUserSessionPolicy(bucket: string, partition = 'aws'): string {
  const own = `${landing.sftpPrefix}\${transfer:UserName}/*`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListOwnFolders',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:${partition}:s3:::${bucket}`,
        // The user's own folder by name as well: a client that checks a folder lists it without the slash.
        Condition: { StringLike: { 's3:prefix': [`${landing.sftpPrefix}\${transfer:UserName}`, own] } },
      },
      {
        Sid: 'OwnFilesOnly',
        Effect: 'Allow',
        Action: [...sftpUserObjectActions],
        Resource: `arn:${partition}:s3:::${bucket}/${own}`,
      },
    ],
  });
}
