import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * Where AWS clients point, without the clients: the stage wrapper (an ECS task, not a Lambda
 * function) builds its own S3 client from these and so stays free of the tracer `#shared/aws`
 * captures its clients with.
 */

/** Environment variables that point a client at a local emulator instead of AWS. */
export const endpointEnv = {
  s3: 'AWS_ENDPOINT_URL_S3',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  sqs: 'AWS_ENDPOINT_URL_SQS',
  sfn: 'AWS_ENDPOINT_URL_SFN',
} as const;

/** The endpoint URL an environment variable names, or `undefined` when it is unset or empty. */
export function endpoint(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * S3 client options: path-style addressing when an endpoint is set (s3rver has no virtual hosts),
 * and checksums only when an operation requires them, because s3rver corrupts streamed bodies
 * that carry the SDK's default trailing checksums (LOCAL-STACK.md).
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const url = endpoint(endpointEnv.s3, env);
  return {
    ...(url ? { endpoint: url, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
