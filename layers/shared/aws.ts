import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { endpoint, endpointEnv, s3ClientConfig } from './endpoints.ts';
import { traced } from './tracing.ts';

export { endpointEnv, s3ClientConfig } from './endpoints.ts';

/**
 * AWS clients built the same way in Lambda, the local runtime, the CLI and tests. The SDK reads
 * `AWS_ENDPOINT_URL_S3` / `_DYNAMODB` / `_SQS` on its own; they are read here as well because the
 * local S3 (s3rver) also needs path-style addressing, and because naming the endpoint explicitly
 * makes a misrouted client easy to spot in a log. Every client made here is captured by the
 * tracer (`#shared/tracing`): in Lambda its calls are subsegments of the invocation's trace.
 */

/** An S3 client for AWS or, when `AWS_ENDPOINT_URL_S3` is set, for the local S3. */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return traced(new S3Client(s3ClientConfig(env)));
}

/**
 * A DynamoDB document client. `removeUndefinedValues` lets optional record fields stay absent
 * instead of failing the marshaller.
 */
export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const url = endpoint(endpointEnv.dynamodb, env);
  const client = traced(new DynamoDBClient(url ? { endpoint: url } : {}));
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** An SQS client for AWS or, when `AWS_ENDPOINT_URL_SQS` is set, for the local SQS. */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  const url = endpoint(endpointEnv.sqs, env);
  return traced(new SQSClient(url ? { endpoint: url } : {}));
}

/** A Step Functions client for AWS or, when `AWS_ENDPOINT_URL_SFN` is set, for the local runtime's face. */
export function createSfnClient(env: NodeJS.ProcessEnv = process.env): SFNClient {
  const url = endpoint(endpointEnv.sfn, env);
  return traced(new SFNClient(url ? { endpoint: url } : {}));
}
