import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { globalIndexes, landing, table as tableDefinition } from '#shared/resources';

export interface StorageProps {
  /** Keep buckets, table and key when the stack is deleted. @default true */
  readonly retainData?: boolean;
  /** Days after which a landing object whose outcome is recorded expires. @default 30 */
  readonly landingExpiryDays?: number;
}

/**
 * Where everything is kept: the landing bucket uploads arrive in, the data bucket that holds every
 * original and everything derived from it, the one table, and the access-log bucket.
 */
export class Storage extends Construct {
  public readonly landingBucket: s3.Bucket;
  public readonly dataBucket: s3.Bucket;
  public readonly dataKey: kms.Key;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const retain = props.retainData ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const expiryDays = props.landingExpiryDays ?? 30;
    if (!Number.isInteger(expiryDays) || expiryDays < 1) throw new Error(`landingExpiryDays must be a whole number of days ≥ 1, got ${expiryDays}`);

    // Server access logs cannot be delivered to a KMS-encrypted bucket, hence S3-managed keys here.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
      autoDeleteObjects: !retain,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket; logging it into itself would loop.',
    });

    this.landingBucket = new s3.Bucket(this, 'Landing', {
      versioned: true,
      // Transfer Family and presigned PUTs write here. The AWS managed key (aws/s3) encrypts with KMS
      // and its key policy lets any principal of the account use it through S3, so their roles need no KMS grants.
      encryption: s3.BucketEncryption.KMS_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'landing/',
      lifecycleRules: [
        {
          id: 'expire-after-outcome',
          // Only objects whose original is safe in the data bucket carry this tag: nothing else expires.
          tagFilters: { [landing.outcomeTag.key]: landing.outcomeTag.value },
          expiration: Duration.days(expiryDays),
          noncurrentVersionExpiration: Duration.days(expiryDays),
        },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects: !retain,
    });

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'Symbiont data bucket',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.dataBucket = new s3.Bucket(this, 'Data', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data/',
      lifecycleRules: [{ id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy,
      autoDeleteObjects: !retain,
    });

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableDefinition.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      globalSecondaryIndexes: globalIndexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
      })),
      // KMS at rest with the AWS managed key (aws/dynamodb): auditable in CloudTrail, no grants for the roles.
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: retain,
      removalPolicy,
    });
  }

  /** Lets `grantee` use the table with exactly these actions, on the table and its indexes. */
  grantTable(grantee: iam.IGrantable, ...actions: string[]): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: actions.map((a) => `dynamodb:${a}`),
      // Each index by name rather than /index/*, so a grant covers only what exists.
      resourceArns: [this.table.tableArn, ...globalIndexes.map((index) => `${this.table.tableArn}/index/${index.name}`)],
    });
  }
}
