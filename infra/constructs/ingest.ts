import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { transferEventTypes } from '#ingest/messages';
import { env, landing, queues, type QueueDefinition } from '#shared/resources';
import { SymbiontFunction } from './function.ts';
import { createWorkQueue } from './work-queue.ts';
import { acknowledge, arnWildcardFinding } from './nag.ts';
import type { Storage } from './storage.ts';

export interface IngestProps {
  /** Buckets, key and table the ingest function works on. */
  readonly storage: Storage;
  /** Absolute path of the validated config file. */
  readonly configFile: string;
  /** Queue settings. @default queues.ingest of layers/shared/resources.ts */
  readonly queue?: QueueDefinition;
}

/**
 * Uploads in: ObjectCreated notifications under `api/` of the landing bucket go to the ingest
 * queue (with its DLQ), and `ingest-upload` consumes it record by record with partial batch
 * responses. SFTP uploads (`sftp/`) are announced by Transfer Family's EventBridge events instead
 * ({@link Ingest.routeTransferEvents}), never by S3 notifications.
 */
export class Ingest extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  public readonly handler: SymbiontFunction;
  /** The rule sending Transfer Family's upload and rename events to the queue, once routed. */
  public transferEvents?: events.Rule;
  private readonly storage: Storage;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const settings = props.queue ?? queues.ingest;
    const { storage } = props;
    this.storage = storage;

    const work = createWorkQueue(this, 'ingest', settings);
    this.queue = work.queue;
    this.deadLetterQueue = work.deadLetterQueue;
    this.queueKey = work.key;
    storage.landingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: landing.apiPrefix,
    });

    this.handler = new SymbiontFunction(this, 'IngestUpload', {
      name: 'ingest-upload',
      configFile: props.configFile,
      timeout: Duration.seconds(settings.consumerTimeoutSeconds),
      memorySize: 1024,
      // Past 500,000 distinct keys the validator checks uniqueness in hash partitions under /tmp
      // (about 24 bytes a key: ~3.5 GB for a 5 GB file), so the function gets Lambda's largest disk.
      ephemeralStorageMiB: 10240,
      environment: {
        [env.tableName]: storage.table.tableName,
        [env.landingBucket]: storage.landingBucket.bucketName,
        [env.dataBucket]: storage.dataBucket.bucketName,
      },
    });
    const fn = this.handler.function;
    fn.addEventSource(
      new eventSources.SqsEventSource(this.queue, {
        batchSize: settings.batchSize,
        reportBatchItemFailures: true,
      }),
    );
    storage.grantTable(fn, 'GetItem', 'PutItem', 'UpdateItem', 'Query');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndTagLanding',
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        resources: [storage.landingBucket.arnForObjects('*')],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteResultBesideSftpFiles',
        actions: ['s3:PutObject'],
        resources: [storage.landingBucket.arnForObjects(`${landing.sftpPrefix}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteData',
        // Originals past 5 GiB are copied in parts, and a failed part copy is aborted.
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [storage.dataBucket.arnForObjects('*')],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseDataKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [storage.dataKey.keyArn],
      }),
    );
    acknowledge(
      this.handler.role,
      'Object keys are named by uploaders at run time, so object grants end in /*; every action is listed.',
      arnWildcardFinding(storage.landingBucket, '/*'),
      arnWildcardFinding(storage.landingBucket, `/${landing.sftpPrefix}*`),
      arnWildcardFinding(storage.dataBucket, '/*'),
    );
  }

  /**
   * Sends a Transfer Family server's upload-completed, rename-completed and upload-failed events
   * (DESIGN.md "Flows") to the ingest queue through an EventBridge rule filtered to that server.
   * Events EventBridge cannot deliver go to the ingest DLQ, where the redrive finds them. Only this
   * rule may send them: the queue policies name it; the queue key lets EventBridge encrypt.
   */
  routeTransferEvents(serverId: string): events.Rule {
    if (this.transferEvents) throw new Error('Transfer Family events are routed to the ingest queue already');
    const rule = new events.Rule(this, 'TransferEvents', {
      description: 'Transfer Family SFTP uploads and renames (and failed uploads) to the ingest queue',
      eventPattern: {
        source: ['aws.transfer'],
        detailType: Object.values(transferEventTypes),
        detail: { 'server-id': [serverId] },
      },
    });
    rule.addTarget({
      bind: () => ({
        arn: this.queue.queueArn,
        targetResource: this.queue,
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        retryPolicy: { maximumEventAgeInSeconds: 24 * 60 * 60, maximumRetryAttempts: 185 },
      }),
    });
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'TransferEventsFromTheRule',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
        }),
      );
    }
    // SQS asks KMS on the sender's behalf; what EventBridge may send where is the queue policies' to say.
    this.queueKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeEncryptsTransferEvents',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
    // Transfer Family events carry no version id; when a file was replaced since, the uploaded
    // version is found among the key's versions by its ETag.
    this.handler.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindSftpUploadVersions',
        actions: ['s3:ListBucketVersions'],
        resources: [this.storage.landingBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${landing.sftpPrefix}*`] } },
      }),
    );
    this.transferEvents = rule;
    return rule;
  }
}
