import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { policyStatements, synthesize, wildcardActions, type Synthesized } from './helpers.ts';

/**
 * Least privilege in the synthesized stack, tried on every resource of a kind rather than on the
 * ones known today: no wildcard actions; a wildcard resource only where it is acknowledged with a
 * reason; KMS at rest on every bucket, queue and table; TLS-only bucket and queue policies; public
 * access blocked on every bucket; data retained unless retainData=false.
 */

let synthesized: Synthesized;
let template: Template;
let disposable: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
  disposable = synthesize({ retainData: 'false', stage: 'scratch' }).template;
});

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const resources = (of: Template, type: string) => Object.entries(of.findResources(type) as Record<string, Resource>);
const ids = (of: Template, type: string) => Object.keys(of.findResources(type));

/** The bucket server access logs go to: S3 cannot deliver them to a KMS-encrypted bucket. */
const accessLogBucket = (id: string) => id.startsWith('StorageAccessLogs');

/** Every construct under `scope`, depth first. */
function constructs(scope: IConstruct): IConstruct[] {
  return [scope, ...scope.node.children.flatMap(constructs)];
}

/** The reason acknowledged for `ruleId` on `construct` or one of its ancestors, as cdk-nag looks it up. */
function acknowledgedReason(construct: IConstruct, ruleId: string): string | undefined {
  for (let current: IConstruct | undefined = construct; current; current = current.node.scope) {
    for (const entry of current.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (id.replace(/^annotation::/i, '') === ruleId) return reason;
      }
    }
  }
  return undefined;
}

/** cdk-nag's IAM5 findings (wildcard actions and resources) of every role and policy under `scope`, with the reason acknowledged for each. */
function wildcardFindings(scope: IConstruct): { path: string; finding: string; reason: string | undefined }[] {
  return constructs(scope)
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && (c instanceof iam.CfnPolicy || c instanceof iam.CfnRole || c instanceof iam.CfnManagedPolicy))
    .flatMap((node) => {
      const result = rules.iam.IAMNoWildcardPermissions(node);
      const findings = Array.isArray(result) ? (result as string[]) : [];
      return findings.map((finding) => ({ path: node.node.path, finding, reason: acknowledgedReason(node, `AwsSolutions-IAM5[${finding}]`) }));
    });
}

describe('IAM', () => {
  it('grants no wildcard action to any role', () => {
    // Act
    const actions = wildcardActions(policyStatements(template));

    // Assess
    expect(actions).toEqual([]);
  });

  it('has a wildcard resource only where it is acknowledged with a reason', () => {
    // Act
    const findings = wildcardFindings(synthesized.stack);

    // Assess: the list is not empty (the rule sees the stack's wildcards), and each one is explained.
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter((f) => !f.finding.startsWith('Resource::'))).toEqual([]);
    expect(findings.filter((f) => f.reason === undefined || f.reason.trim().length < 20)).toEqual([]);
  });

  it('finds an unacknowledged wildcard resource (the check above can fail)', () => {
    // Prepare
    const stack = new Stack(undefined, 'Careless');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::some-bucket/*'] }));

    // Act
    const findings = wildcardFindings(stack);

    // Assess
    expect(findings).toEqual([expect.objectContaining({ finding: 'Resource::arn:aws:s3:::some-bucket/*', reason: undefined })]);
  });
});

describe('encryption at rest', () => {
  it('encrypts every bucket with KMS, but the access-log bucket (S3 cannot log into a KMS bucket)', () => {
    // Act
    const algorithms = resources(template, 'AWS::S3::Bucket').map(([id, bucket]) => [
      id,
      bucket.Properties?.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm,
    ]);

    // Assess
    expect(algorithms.length).toBeGreaterThanOrEqual(3);
    for (const [id, algorithm] of algorithms) expect([id, algorithm]).toEqual([id, accessLogBucket(id as string) ? 'AES256' : 'aws:kms']);
  });

  it('encrypts every queue and dead-letter queue with a customer managed KMS key', () => {
    // Act
    const queues = resources(template, 'AWS::SQS::Queue');

    // Assess
    expect(queues.length).toBeGreaterThanOrEqual(8);
    for (const [id, queue] of queues) {
      expect([id, queue.Properties?.KmsMasterKeyId]).toEqual([id, { 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] }]);
    }
  });

  it('encrypts every table with KMS', () => {
    // Act
    const tables = [...resources(template, 'AWS::DynamoDB::GlobalTable'), ...resources(template, 'AWS::DynamoDB::Table')];

    // Assess
    expect(tables.length).toBeGreaterThanOrEqual(1);
    for (const [id, table] of tables) expect([id, table.Properties?.SSESpecification]).toEqual([id, expect.objectContaining({ SSEEnabled: true, SSEType: 'KMS' })]);
  });

  it('rotates every customer managed key', () => {
    // Act
    const keys = resources(template, 'AWS::KMS::Key');

    // Assess
    expect(keys.length).toBeGreaterThan(0);
    for (const [id, key] of keys) expect([id, key.Properties?.EnableKeyRotation]).toEqual([id, true]);
  });
});

describe('TLS only and no public access', () => {
  const tlsDeny = (action: string) =>
    expect.objectContaining({ Effect: 'Deny', Action: action, Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });

  it('denies every request without TLS on every bucket, the bucket and its objects', () => {
    // Prepare
    const policies = resources(template, 'AWS::S3::BucketPolicy');

    // Act
    const unguarded = ids(template, 'AWS::S3::Bucket').filter((bucket) => {
      const policy = policies.find(([, p]) => p.Properties?.Bucket?.Ref === bucket)?.[1];
      const deny = (policy?.Properties?.PolicyDocument.Statement as Record<string, any>[] | undefined)?.find((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      return !deny || JSON.stringify(deny.Resource) !== JSON.stringify([{ 'Fn::GetAtt': [bucket, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] }]);
    });

    // Assess
    expect(unguarded).toEqual([]);
    for (const [, policy] of policies) expect(policy.Properties?.PolicyDocument.Statement).toContainEqual(tlsDeny('s3:*'));
  });

  it('denies every request without TLS on every queue', () => {
    // Prepare
    const policies = resources(template, 'AWS::SQS::QueuePolicy');

    // Act
    const unguarded = ids(template, 'AWS::SQS::Queue').filter(
      (queue) =>
        !policies.some(
          ([, p]) =>
            (p.Properties?.Queues as { Ref: string }[]).some((q) => q.Ref === queue) &&
            (p.Properties?.PolicyDocument.Statement as Record<string, any>[]).some(
              (s) => s.Effect === 'Deny' && s.Action === 'sqs:*' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false' && s.Resource?.['Fn::GetAtt']?.[0] === queue,
            ),
        ),
    );

    // Assess
    expect(ids(template, 'AWS::SQS::Queue').length).toBeGreaterThan(0);
    expect(unguarded).toEqual([]);
  });

  it('blocks public access on every bucket', () => {
    // Act
    const blocks = resources(template, 'AWS::S3::Bucket').map(([id, bucket]) => [id, bucket.Properties?.PublicAccessBlockConfiguration]);

    // Assess
    for (const block of blocks) {
      expect(block).toEqual([block[0], { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }]);
    }
  });
});

describe('data kept', () => {
  const dataTypes = ['AWS::S3::Bucket', 'AWS::DynamoDB::GlobalTable', 'AWS::KMS::Key'];
  const policiesOf = (of: Template) =>
    dataTypes.flatMap((type) => resources(of, type).map(([id, r]) => [id, r.DeletionPolicy, r.UpdateReplacePolicy] as const));

  it('retains every bucket, table and key by default', () => {
    // Act
    const kept = policiesOf(template);

    // Assess
    expect(kept.length).toBeGreaterThanOrEqual(9);
    for (const [id, deletion, replace] of kept) expect([id, deletion, replace]).toEqual([id, 'Retain', 'Retain']);
  });

  it('deletes every bucket, table and key when retainData=false', () => {
    // Act
    const dropped = policiesOf(disposable);

    // Assess
    expect(dropped.length).toBeGreaterThanOrEqual(9);
    for (const [id, deletion] of dropped) expect([id, deletion]).toEqual([id, 'Delete']);
  });

  it('protects the table from deletion by default, and not when retainData=false', () => {
    // Act
    const protection = (of: Template) => resources(of, 'AWS::DynamoDB::GlobalTable').map(([, t]) => t.Properties?.Replicas?.[0]?.DeletionProtectionEnabled);

    // Assess
    expect(protection(template)).toEqual([true]);
    expect(protection(disposable)).toEqual([false]);
  });
});
