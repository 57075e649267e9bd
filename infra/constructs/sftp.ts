import { Annotations, Aws, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as transfer from 'aws-cdk-lib/aws-transfer';
import { Construct } from 'constructs';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SftpUserSpec } from '#config/schema';
import { env, landing } from '#shared/resources';
import { checkSftpUserName, homeDirectoryMappings, sftpFolderPrefix, sftpUserObjectActions } from '#sftp/home';
import { parsePublicKey } from '#sftp/public-keys';
import type { SymbiontFunction } from './function.ts';
import { acknowledge, arnWildcardFinding } from './nag.ts';
import type { Storage } from './storage.ts';

export interface SftpProps {
  /** The landing bucket the users' folders are in. */
  readonly storage: Storage;
  /** The users of the config: each becomes a Transfer Family user of the stack. */
  readonly users: Readonly<Record<string, SftpUserSpec>>;
  /** The config file's folder: `publicKeyFiles` are relative to it. */
  readonly configDir: string;
  /** Transfer Family security policy. @default 'TransferSecurityPolicy-2025-03' */
  readonly securityPolicyName?: string;
  /** How long the server's structured logs are kept. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * SFTP in AWS (DESIGN.md "Where it runs"): a Transfer Family SFTP server with service-managed
 * users, public-key login only, the current security policy and structured logs. Each user of the
 * config is a Transfer Family user with LOGICAL home directories — one folder per dataset, mapped
 * to `landing sftp/<user>/<dataset>/` — and a role of their own that may list, write and read back
 * only those folders. Users added at run time share one role whose session policy (set by the API
 * with CreateUser) scopes it to `sftp/${transfer:UserName}/`, so adding a user changes no IAM.
 *
 * Transfer Family has L1 constructs only; users declared here drift if deleted through the API,
 * which is why the API refuses to touch them.
 */
export class Sftp extends Construct {
  public readonly server: transfer.CfnServer;
  public readonly logGroup: logs.LogGroup;
  /** The role every run-time user gets (scoped down per user by their session policy). */
  public readonly runtimeUserRole: iam.Role;
  /** The Transfer Family users of the config, by name. */
  public readonly users: ReadonlyMap<string, transfer.CfnUser>;
  /** `<server id>.server.transfer.<region>.amazonaws.com`. */
  public readonly endpoint: string;
  private readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: SftpProps) {
    super(scope, id);
    const bucket = props.storage.landingBucket;
    this.bucket = bucket;
    for (const name of Object.keys(props.users)) {
      try {
        checkSftpUserName(name);
      } catch (error) {
        throw new Error(`sftpUsers.${name}: ${(error as Error).message} (Transfer Family user names are at least 3 characters)`, { cause: error });
      }
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.server = new transfer.CfnServer(this, 'Server', {
      protocols: ['SFTP'],
      domain: 'S3',
      endpointType: 'PUBLIC',
      identityProviderType: 'SERVICE_MANAGED',
      securityPolicyName: props.securityPolicyName ?? 'TransferSecurityPolicy-2025-03',
      // Structured (JSON) logs go straight to the group; no logging role is needed for them.
      structuredLogDestinations: [this.logGroup.logGroupArn],
      s3StorageOptions: { directoryListingOptimization: 'ENABLED' },
    });
    const serverId = this.server.attrServerId;
    this.endpoint = `${serverId}.server.transfer.${Aws.REGION}.${Aws.URL_SUFFIX}`;

    this.runtimeUserRole = this.userRole('RuntimeUserRole', 'SFTP users added at run time (each scoped to sftp/<user>/ by a session policy)', [`${bucket.bucketArn}/${landing.sftpPrefix}*`], [`${landing.sftpPrefix}*`]);
    acknowledge(
      this.runtimeUserRole,
      'Run-time users share this role; the session policy CreateUser sets scopes each one to sftp/${transfer:UserName}/*, so users are added without IAM changes.',
      arnWildcardFinding(bucket, `/${landing.sftpPrefix}*`),
    );

    const users = new Map<string, transfer.CfnUser>();
    for (const [name, spec] of Object.entries(props.users)) {
      const folders = spec.datasets.map((dataset) => sftpFolderPrefix(name, dataset));
      const role = this.userRole(
        `${pascal(name)}Role`,
        `SFTP user ${name} of the config`,
        folders.map((folder) => `${bucket.bucketArn}/${folder}/*`),
        // The folder itself too: a client that checks the folder lists its name without the slash.
        folders.flatMap((folder) => [folder, `${folder}/*`]),
      );
      acknowledge(
        role,
        `SFTP user ${name} names their own files inside their dataset folders, so object grants end in /*; the prefixes are theirs alone.`,
        ...folders.map((folder) => arnWildcardFinding(bucket, `/${folder}/*`)),
      );
      users.set(
        name,
        new transfer.CfnUser(this, `${pascal(name)}User`, {
          serverId,
          userName: name,
          role: role.roleArn,
          homeDirectoryType: 'LOGICAL',
          homeDirectoryMappings: homeDirectoryMappings(bucket.bucketName, name, spec.datasets),
          sshPublicKeys: this.publicKeys(name, spec, props.configDir),
        }),
      );
    }
    this.users = users;

    new CfnOutput(this, 'Endpoint', { value: this.endpoint, description: 'SFTP endpoint: sftp <user>@<this>' });
    new CfnOutput(this, 'ServerId', { value: serverId, description: 'Transfer Family server id' });
    new CfnOutput(this, 'LogGroupName', { value: this.logGroup.logGroupName, description: 'Structured logs of the SFTP server' });
  }

  /**
   * Lets the API function manage run-time users: Transfer Family calls on this server's users, the
   * run-time role passed to Transfer Family only, and the table writes of the user records.
   */
  grantUserManagement(handler: SymbiontFunction, storage: Storage): void {
    const fn = handler.function;
    fn.addEnvironment(env.sftpServerId, this.server.attrServerId);
    fn.addEnvironment(env.sftpUserRoleArn, this.runtimeUserRole.roleArn);
    const userArns = `arn:${Aws.PARTITION}:transfer:${Aws.REGION}:${Aws.ACCOUNT_ID}:user/${this.server.attrServerId}/*`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageRuntimeSftpUsers',
        actions: ['transfer:CreateUser', 'transfer:DeleteUser', 'transfer:DescribeUser', 'transfer:ImportSshPublicKey', 'transfer:DeleteSshPublicKey'],
        resources: [userArns],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassRuntimeSftpUserRole',
        actions: ['iam:PassRole'],
        resources: [this.runtimeUserRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'transfer.amazonaws.com' } },
      }),
    );
    storage.grantTable(fn, 'PutItem', 'UpdateItem', 'DeleteItem');
    acknowledge(
      handler.role,
      'Run-time SFTP users are named by admins at run time; the grant covers the users of this one server only.',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:transfer:<AWS::Region>:<AWS::AccountId>:user/<${Stack.of(this).getLogicalId(this.server)}.ServerId>/*]`,
    );
  }

  /**
   * A role Transfer Family assumes for users of this server only, allowed to list `prefixes` and
   * to write, read back, rename and delete objects in `objects`.
   */
  private userRole(id: string, description: string, objects: string[], prefixes: string[]): iam.Role {
    const role = new iam.Role(this, id, {
      description: `Symbiont: ${description}`,
      // Confused-deputy guard: only this account's Transfer Family, for users of this server.
      assumedBy: new iam.ServicePrincipal('transfer.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:transfer:${Aws.REGION}:${Aws.ACCOUNT_ID}:user/${this.server.attrServerId}/*` },
        },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListOwnFolders',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes } },
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'OwnFilesOnly', actions: [...sftpUserObjectActions], resources: objects }));
    return role;
  }

  /**
   * The user's keys: `publicKeys`, and the keys in `publicKeyFiles` that exist. A file that does not
   * exist at synth (the local demo user's key, generated by `npm start`) is skipped with a warning,
   * never failing the synth; a file that exists must hold valid keys.
   */
  private publicKeys(name: string, spec: SftpUserSpec, configDir: string): string[] {
    const keys = spec.publicKeys.map((line, i) => checkedKey(name, line, `publicKeys[${i}]`));
    for (const file of spec.publicKeyFiles) {
      const path = resolve(configDir, file);
      if (!existsSync(path)) {
        Annotations.of(this).addWarningV2(
          'symbiont:sftpKeyFileMissing',
          `SFTP user ${name}: public key file ${file} does not exist (${path}); the user is deployed without its keys`,
        );
        continue;
      }
      const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
      keys.push(...lines.map((line) => checkedKey(name, line, file)));
    }
    if (keys.length === 0) {
      Annotations.of(this).addWarningV2('symbiont:sftpUserWithoutKeys', `SFTP user ${name} has no public key at synth: nobody can log in as ${name} until one is deployed`);
    }
    return keys;
  }
}

function checkedKey(user: string, line: string, source: string): string {
  try {
    return parsePublicKey(line).line;
  } catch (error) {
    throw new Error(`sftpUsers.${user}: ${source}: ${(error as Error).message}`, { cause: error });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|[-_])([a-z0-9])/g, (_m, _sep: string, c: string) => c.toUpperCase());
}
