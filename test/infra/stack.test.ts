import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { queues } from '#shared/resources';
import { Storage } from '../../infra/constructs/storage.ts';
import { logicalId, policyStatements, wildcardActions, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

/** A bucket policy statement refusing every request that does not use TLS. */
const tlsOnly = Match.objectLike({
  Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
});

describe('storage', () => {
  it('keeps the landing bucket versioned, private and logged', () => {
    const landing = logicalId(template, 'AWS::S3::Bucket', 'Landing');
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'landing/' }),
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', { Bucket: { Ref: landing }, PolicyDocument: tlsOnly });
  });

  it('expires landing objects only once they are tagged with a recorded outcome', () => {
    const landing = template.findResources('AWS::S3::Bucket')[logicalId(template, 'AWS::S3::Bucket', 'Landing')]!;
    const expiring = (landing.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[]).filter(
      (rule) => rule.ExpirationInDays !== undefined || rule.NoncurrentVersionExpiration !== undefined,
    );
    expect(expiring).toHaveLength(1);
    expect(expiring[0]).toMatchObject({
      Status: 'Enabled',
      TagFilters: [{ Key: 'symbiont-outcome', Value: 'recorded' }],
      ExpirationInDays: 30,
    });
  });

  it('encrypts the data bucket with its own rotating KMS key and allows TLS only', () => {
    const data = logicalId(template, 'AWS::S3::Bucket', 'Data');
    const key = logicalId(template, 'AWS::KMS::Key', 'DataKey');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const bucket = template.findResources('AWS::S3::Bucket')[data]!;
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } },
    });
    expect(bucket.Properties.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'data/' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', { Bucket: { Ref: data }, PolicyDocument: tlsOnly });
  });

  it('has one table with both listing indexes, point-in-time recovery and a TTL attribute', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'gsi1', KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }] }),
        Match.objectLike({ IndexName: 'gsi2', KeySchema: [{ AttributeName: 'gsi2pk', KeyType: 'HASH' }, { AttributeName: 'gsi2sk', KeyType: 'RANGE' }] }),
      ],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('retains buckets and table by default and deletes them when retainData is off', () => {
    const retained = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.values(retained)[0]!.DeletionPolicy).toBe('Retain');
    const { template: disposable } = synthesize({ retainData: 'false', stage: 'scratch' });
    expect(Object.values(disposable.findResources('AWS::DynamoDB::GlobalTable'))[0]!.DeletionPolicy).toBe('Delete');
    expect(Object.values(disposable.findResources('AWS::S3::Bucket')).every((b) => b.DeletionPolicy === 'Delete')).toBe(true);
  });

  it('refuses a landing expiry that is not a whole number of days at synth time', () => {
    const stack = new Stack(new App(), 'Conflicting');
    expect(() => new Storage(stack, 'Storage', { landingExpiryDays: 0 })).toThrow(/landingExpiryDays/);
  });
});

describe('ingest', () => {
  it('sends ObjectCreated events under api/ of the landing bucket to the ingest queue', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue', 'IngestQueue');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(template, 'AWS::S3::Bucket', 'Landing') },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'api/' }] } },
            QueueArn: { 'Fn::GetAtt': [queue, 'Arn'] },
          },
        ],
      },
    });
  });

  it('moves a message to the DLQ after the configured receives, with both queues encrypted by their own key', () => {
    const queue = template.findResources('AWS::SQS::Queue')[logicalId(template, 'AWS::SQS::Queue', 'IngestQueue')]!;
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'IngestDeadLetterQueue');
    const key = logicalId(template, 'AWS::KMS::Key', 'IngestQueueKey');
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
      maxReceiveCount: queues.ingest.maxReceiveCount,
    });
    expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(template.findResources('AWS::SQS::Queue')[dlq]!.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
  });

  it('keeps a message invisible for longer than the consumer may run', () => {
    const queue = template.findResources('AWS::SQS::Queue')[logicalId(template, 'AWS::SQS::Queue', 'IngestQueue')]!;
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'IngestUpload')]!;
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(fn.Properties.Timeout);
  });

  it('consumes the queue in batches with partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: queues.ingest.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'IngestQueue'), 'Arn'] },
    });
  });

  it('runs ingest-upload on nodejs22.x with the table and buckets in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      EphemeralStorage: { Size: 10240 },
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: Match.anyValue(),
          LANDING_BUCKET: { Ref: logicalId(template, 'AWS::S3::Bucket', 'Landing') },
          DATA_BUCKET: { Ref: logicalId(template, 'AWS::S3::Bucket', 'Data') },
          SYMBIONT_CONFIG: '/var/task/symbiont.config.json',
        }),
      },
    });
  });

  it('lets ingest-upload write to the data bucket, and to landing only result files beside SFTP uploads', () => {
    const role = logicalId(template, 'AWS::IAM::Role', 'IngestUploadRole');
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    )!;
    const statements = policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject')).map((s) => JSON.stringify(s.Resource));
    const landing = logicalId(template, 'AWS::S3::Bucket', 'Landing');
    expect(writes).toHaveLength(2);
    expect(writes.filter((r) => r.includes(logicalId(template, 'AWS::S3::Bucket', 'Data')))).toHaveLength(1);
    expect(writes.filter((r) => r.includes(landing))).toEqual([expect.stringContaining('/sftp/*')]);
  });
});

describe('standing rules', () => {
  it('grants no wildcard actions to any role', () => {
    expect(wildcardActions(policyStatements(template))).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with every finding fixed or acknowledged', () => {
    expect(unacknowledgedFindings(synthesized.app)).toEqual([]);
  });

  it('reports an unacknowledged cdk-nag finding', () => {
    const stack = new Stack(new App(), 'Careless');
    new sqs.Queue(stack, 'Bare');
    expect(unacknowledgedFindings(stack).some((f) => f.startsWith('AwsSolutions-SQS'))).toBe(true);
  });

  it('names the stack after the stage given with -c stage', () => {
    expect(synthesize({ stage: 'qa' }).stack.stackName).toBe('Symbiont-qa');
  });
});
