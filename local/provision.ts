import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  type AttributeDefinition,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { globalIndexes, queues, table, type QueueDefinition, type QueueName } from '#shared/resources';
import { log as logger } from './log.ts';
import { queueArn, queueUrl } from './emulators.ts';

/**
 * Creates locally what the stack creates, from the same plain-data definitions
 * (`#shared/resources`). Every step is idempotent: a restart finds what the last run made, and a
 * definition that changed since (a new index, another visibility timeout) is applied.
 */

/** The local names of the resources (`localNames(stage)` of `#shared/resources`). */
export interface ResourceNames {
  readonly table: string;
  readonly landingBucket: string;
  readonly dataBucket: string;
  readonly queue: (name: QueueName) => string;
  readonly deadLetterQueue: (name: QueueName) => string;
}

/** Settings a test may change on one queue (e.g. a short visibility timeout to see a redrive). */
export type QueueOverrides = Partial<Record<QueueName, Partial<QueueDefinition>>>;

/** A queue and its DLQ as created. */
export interface LocalQueue {
  readonly name: QueueName;
  readonly definition: QueueDefinition;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

/** Creates the landing and data buckets when missing (s3rver keeps no versions: see DESIGN.md "Storage"). */
export async function provisionBuckets(s3: S3Client, names: ResourceNames): Promise<void> {
  for (const bucket of [names.landingBucket, names.dataBucket]) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if (!(error instanceof NotFound) && (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      logger.info('created bucket', { bucket });
    }
  }
}

/**
 * Creates the table with its key and global indexes, or adds the indexes a restart finds missing.
 * dynalite has no TTL: the TTL attribute is only reported, and expiry is checked on read.
 */
export async function provisionTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const existing = await describe(dynamodb, tableName);
  if (!existing) {
    const attributes = new Set<string>([table.partitionKey, table.sortKey, ...globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map(stringAttribute),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          { AttributeName: table.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: globalIndexes.map(indexDefinition),
      }),
    );
    logger.info('created table', { table: tableName, indexes: globalIndexes.map((i) => i.name), ttlAttribute: table.ttlAttribute });
    await waitActive(dynamodb, tableName);
    return;
  }
  const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const index of globalIndexes.filter((i) => !present.has(i.name))) {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [index.partitionKey, index.sortKey].map(stringAttribute),
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
      }),
    );
    logger.info('added index', { table: tableName, index: index.name });
    await waitActive(dynamodb, tableName);
  }
}

/**
 * Creates each queue of `#shared/resources` with its DLQ, redrive policy (maxReceiveCount) and
 * visibility timeout, then sets those attributes again so that a changed definition applies to
 * queues a previous run created. Moving a message to its DLQ is fauxqs's own RedrivePolicy.
 */
export async function provisionQueues(
  sqs: SQSClient,
  sqsUrl: string,
  region: string,
  names: ResourceNames,
  overrides: QueueOverrides = {},
): Promise<LocalQueue[]> {
  const created: LocalQueue[] = [];
  for (const name of Object.keys(queues) as QueueName[]) {
    const definition: QueueDefinition = { ...queues[name], ...overrides[name] };
    const queueName = names.queue(name);
    const deadLetterName = names.deadLetterQueue(name);
    const local: LocalQueue = {
      name,
      definition,
      url: queueUrl(sqsUrl, queueName),
      arn: queueArn(region, queueName),
      deadLetterUrl: queueUrl(sqsUrl, deadLetterName),
      deadLetterArn: queueArn(region, deadLetterName),
    };
    await ensureQueue(sqs, deadLetterName, local.deadLetterUrl, {
      MessageRetentionPeriod: String(definition.dlqRetentionDays * 24 * 3600),
    });
    await ensureQueue(sqs, queueName, local.url, {
      VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: local.deadLetterArn, maxReceiveCount: definition.maxReceiveCount }),
    });
    created.push(local);
  }
  return created;
}

async function ensureQueue(sqs: SQSClient, name: string, url: string, attributes: Record<string, string>): Promise<void> {
  // Created bare, then configured: CreateQueue refuses an existing queue whose attributes differ.
  await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
}

async function describe(dynamodb: DynamoDBClient, tableName: string) {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function waitActive(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await describe(dynamodb, tableName);
    const indexesActive = (current?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (current?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

function stringAttribute(name: string): AttributeDefinition {
  return { AttributeName: name, AttributeType: 'S' };
}

function indexDefinition(index: (typeof globalIndexes)[number]) {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    // The stack's indexes project every attribute (the CDK default).
    Projection: { ProjectionType: 'ALL' as const },
  };
}
