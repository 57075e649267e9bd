import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sftpUserSchema } from '#config/schema';
import { Sftp } from '../../infra/constructs/sftp.ts';
import { Storage } from '../../infra/constructs/storage.ts';
import { ed25519Line } from '../unit/sftp-users-fixtures.ts';
import { cdkContext, logicalId, policyStatements, wildcardActions, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

/**
 * SFTP in AWS behind `sftp.enabled`: the Transfer Family server, one user per config user with
 * LOGICAL home directories and a role scoped to their folders, the shared run-time role, the
 * EventBridge rule that sends Transfer events to the ingest queue, and the API function's grants.
 */

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: unknown; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown };

let enabled: Synthesized;
let template: Template;

beforeAll(() => {
  enabled = synthesize({ 'sftp.enabled': 'true' });
  template = enabled.template;
});

/** The statements of the policy attached to the role whose logical id contains `hint`. */
function roleStatements(hint: string): Statement[] {
  const role = logicalId(template, 'AWS::IAM::Role', hint);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const landingArn = () => ({ 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', 'Landing'), 'Arn'] });
const serverId = () => ({ 'Fn::GetAtt': [logicalId(template, 'AWS::Transfer::Server', 'SftpServer'), 'ServerId'] });

describe('SFTP switched off (the default)', () => {
  it('creates no Transfer Family server, users or EventBridge rule', () => {
    // Act
    const { template: off } = synthesize();

    // Assess
    off.resourceCountIs('AWS::Transfer::Server', 0);
    off.resourceCountIs('AWS::Transfer::User', 0);
    off.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('the Transfer Family server', () => {
  it('serves SFTP only, with service-managed users on a public endpoint and the current security policy', () => {
    template.resourceCountIs('AWS::Transfer::Server', 1);
    template.hasResourceProperties('AWS::Transfer::Server', {
      Protocols: ['SFTP'],
      Domain: 'S3',
      EndpointType: 'PUBLIC',
      IdentityProviderType: 'SERVICE_MANAGED',
      SecurityPolicyName: 'TransferSecurityPolicy-2025-03',
    });
  });

  it('writes structured logs to a log group with a retention', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'SftpLogs');
    template.hasResourceProperties('AWS::Transfer::Server', { StructuredLogDestinations: [{ 'Fn::GetAtt': [logs, 'Arn'] }] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('gives the endpoint as a stack output', () => {
    const outputs = template.findOutputs('*');
    const endpoint = Object.entries(outputs).find(([id]) => id.startsWith('SftpEndpoint'))?.[1];
    expect(JSON.stringify(endpoint?.Value)).toContain('.server.transfer.');
    expect(JSON.stringify(endpoint?.Value)).toContain(JSON.stringify(serverId()));
  });
});

describe('users of the config', () => {
  it('makes one Transfer Family user per config user', () => {
    template.resourceCountIs('AWS::Transfer::User', 2);
    expect(Object.values(template.findResources('AWS::Transfer::User')).map((u) => u.Properties.UserName).sort()).toEqual(['alice', 'demo']);
  });

  it('maps each dataset to a folder of its own in landing, sftp/<user>/<dataset>, as LOGICAL home directories', () => {
    const landing = logicalId(template, 'AWS::S3::Bucket', 'Landing');
    const target = (user: string, dataset: string) => ({ 'Fn::Join': ['', ['/', { Ref: landing }, `/sftp/${user}/${dataset}`]] });
    template.hasResourceProperties('AWS::Transfer::User', {
      UserName: 'demo',
      HomeDirectoryType: 'LOGICAL',
      HomeDirectoryMappings: [
        { Entry: '/readings', Target: target('demo', 'readings') },
        { Entry: '/sites', Target: target('demo', 'sites') },
      ],
    });
  });

  it('deploys the keys the config gives', () => {
    template.hasResourceProperties('AWS::Transfer::User', {
      UserName: 'alice',
      SshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAING5TbAIJKykTMkimDlGwAWz51uONbtQUvSxASuY8tLb alice@lab'],
      ServerId: serverId(),
    });
  });

  it('lets a user write, read back and delete only in their own dataset folders', () => {
    const objects = roleStatements('SftpAliceRole').find((s) => s.Sid === 'OwnFilesOnly');
    expect(objects?.Resource).toEqual({ 'Fn::Join': ['', [landingArn(), '/sftp/alice/readings/*']] });
    expect([objects?.Action].flat().sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject']);
  });

  it('lets a user list only their own dataset folders', () => {
    const list = roleStatements('SftpAliceRole').find((s) => s.Sid === 'ListOwnFolders');
    expect(list).toMatchObject({ Action: 's3:ListBucket', Resource: landingArn(), Condition: { StringLike: { 's3:prefix': ['sftp/alice/readings', 'sftp/alice/readings/*'] } } });
  });

  it('lets only Transfer Family assume the user roles, for users of this server in this account', () => {
    const role = template.findResources('AWS::IAM::Role')[logicalId(template, 'AWS::IAM::Role', 'SftpAliceRole')]!;
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement as Statement[];
    expect(trust).toMatchObject({ Principal: { Service: 'transfer.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    expect(JSON.stringify(trust?.Condition?.ArnLike?.['aws:SourceArn'])).toContain(JSON.stringify(serverId()));
  });
});

describe('users added at run time', () => {
  it('share one role that reaches sftp/ of landing only (each session narrows it to the user)', () => {
    const objects = roleStatements('SftpRuntimeUserRole').find((s) => s.Sid === 'OwnFilesOnly');
    expect(objects?.Resource).toEqual({ 'Fn::Join': ['', [landingArn(), '/sftp/*']] });
  });

  it('are managed by the API function on this server only, passing the run-time role to Transfer Family only', () => {
    const statements = roleStatements('ApiHandlerRole');
    const manage = statements.find((s) => s.Sid === 'ManageRuntimeSftpUsers');
    expect([manage?.Action].flat().sort()).toEqual([
      'transfer:CreateUser',
      'transfer:DeleteSshPublicKey',
      'transfer:DeleteUser',
      'transfer:DescribeUser',
      'transfer:ImportSshPublicKey',
    ]);
    expect(JSON.stringify(manage?.Resource)).toContain(JSON.stringify(serverId()));
    const pass = statements.find((s) => s.Sid === 'PassRuntimeSftpUserRole');
    expect(pass).toMatchObject({
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'SftpRuntimeUserRole'), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'transfer.amazonaws.com' } },
    });
  });

  it('gives the API function the server id and the run-time role', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SFTP_SERVER_ID: serverId(),
          SFTP_USER_ROLE_ARN: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'SftpRuntimeUserRole'), 'Arn'] },
        }),
      },
    });
  });
});

describe('Transfer Family events', () => {
  it('sends upload completed, upload failed and rename completed events of this server to the ingest queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.transfer'],
        'detail-type': Match.arrayEquals(['SFTP Server File Upload Completed', 'SFTP Server File Upload Failed', 'SFTP Server File Rename Completed']),
        detail: { 'server-id': [serverId()] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'IngestQueue'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'IngestDeadLetterQueue'), 'Arn'] } },
        }),
      ],
    });
  });

  it('lets EventBridge send to the ingest queue for this rule only', () => {
    const rule = logicalId(template, 'AWS::Events::Rule', 'TransferEvents');
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(template, 'AWS::SQS::Queue', 'IngestQueue') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [rule, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('lets EventBridge use the queue key to encrypt what it sends', () => {
    const key = template.findResources('AWS::KMS::Key')[logicalId(template, 'AWS::KMS::Key', 'IngestQueueKey')]!;
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow' }),
    );
  });

  it('still announces only api/ uploads by S3 notification: sftp/ comes through the rule', () => {
    const notifications = Object.values(template.findResources('Custom::S3BucketNotifications'));
    const prefixes = notifications.flatMap((n) =>
      (n.Properties.NotificationConfiguration.QueueConfigurations as { Filter: { Key: { FilterRules: { Value: string }[] } } }[]).flatMap((q) => q.Filter.Key.FilterRules.map((r) => r.Value)),
    );
    expect(prefixes).toEqual(['api/']);
  });
});

describe('standing rules with SFTP on', () => {
  it('grants no wildcard actions to any role', () => {
    expect(wildcardActions(policyStatements(template))).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with every finding fixed or acknowledged', () => {
    expect(unacknowledgedFindings(enabled.app)).toEqual([]);
  });
});

describe('key files of config users', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'symbiont-sftp-keys-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A stack with just storage and the SFTP construct, for users given here. */
  function sftpStack(users: Record<string, unknown>): { stack: Stack; template: () => Template } {
    const stack = new Stack(new App({ context: cdkContext() }), 'SftpOnly');
    const parsed = Object.fromEntries(Object.entries(users).map(([name, spec]) => [name, sftpUserSchema.parse(spec)]));
    new Sftp(stack, 'Sftp', { storage: new Storage(stack, 'Storage'), users: parsed, configDir: dir });
    return { stack, template: () => Template.fromStack(stack) };
  }

  it('deploys the keys of a key file that exists', () => {
    // Prepare
    const line = ed25519Line('frank@lab');
    writeFileSync(join(dir, 'frank.pub'), `# frank's laptop\n${line}\n`);

    // Act
    const { template: frank } = sftpStack({ frank: { publicKeyFiles: ['frank.pub'], datasets: ['readings'] } });

    // Assess
    frank().hasResourceProperties('AWS::Transfer::User', { UserName: 'frank', SshPublicKeys: [line] });
  });

  it('skips a key file that does not exist (the local demo key) with a warning, without failing the synth', () => {
    // Act
    const { stack } = sftpStack({ demo: { publicKeyFiles: ['.symbiont/sftp/demo_ed25519.pub'], datasets: ['readings'] } });

    // Assess
    Annotations.fromStack(stack).hasWarning('/SftpOnly/Sftp', Match.stringLikeRegexp('public key file .symbiont/sftp/demo_ed25519.pub does not exist'));
  });

  it('fails the synth for a key file holding something that is not a public key, naming user and file', () => {
    // Prepare
    writeFileSync(join(dir, 'broken.pub'), 'ssh-ed25519 AAAA\n');

    // Act
    const build = () => sftpStack({ grace: { publicKeyFiles: ['broken.pub'], datasets: ['readings'] } });

    // Assess
    expect(build).toThrow(/sftpUsers\.grace: broken\.pub: invalid public key/);
  });

  it('fails the synth for a user name Transfer Family refuses', () => {
    // Act
    const build = () => sftpStack({ al: { publicKeys: [ed25519Line()], datasets: ['readings'] } });

    // Assess
    expect(build).toThrow(/sftpUsers\.al: .* cannot be an SFTP user name/);
  });
});
