import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { s3ClientConfig } from '#shared/aws';

/**
 * The one access key pair every local service accepts. s3rver checks the key id against its single
 * built-in account (S3RVER/S3RVER); dynalite and fauxqs accept any pair, so all use this one.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Where the local services answer. */
export interface ServiceUrls {
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
}

/** SDK clients of the runtime itself (provisioning, the S3 bridge, the pollers). */
export interface LocalClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  destroy(): void;
}

/** Clients bound to the local services, with explicit credentials so the caller's AWS profile never leaks in. */
export function createLocalClients(urls: ServiceUrls, region: string): LocalClients {
  // A fresh credentials object per client: the SDK annotates the one it is given.
  const common = () => ({ region, credentials: { ...LOCAL_CREDENTIALS } });
  const s3 = new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: urls.s3 }), ...common() });
  const dynamodb = new DynamoDBClient({ ...common(), endpoint: urls.dynamodb });
  const sqs = new SQSClient({ ...common(), endpoint: urls.sqs });
  return {
    s3,
    dynamodb,
    sqs,
    destroy() {
      s3.destroy();
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}
