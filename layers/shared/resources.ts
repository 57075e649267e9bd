/**
 * What the stack creates, as plain data: the CDK constructs and the local runtime both build their
 * table, buckets and queues from these definitions, so the two never drift apart.
 */

export const table = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Every item of a kind by time. */
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** The items of one parent by time. */
  gsi2: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL in AWS, checked on read locally). */
  ttlAttribute: 'expiresAt',
} as const;

export const globalIndexes = [table.gsi1, table.gsi2] as const;

export interface QueueDefinition {
  /** Seconds a received message stays invisible; at least six times the consumer's timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** Records per handler invocation. */
  readonly batchSize: number;
  /** Seconds the consumer function may run. */
  readonly consumerTimeoutSeconds: number;
  /** Days a message is kept in the DLQ. */
  readonly dlqRetentionDays: number;
}

export const queues = {
  ingest: { visibilityTimeoutSeconds: 900 * 6, maxReceiveCount: 5, batchSize: 5, consumerTimeoutSeconds: 900, dlqRetentionDays: 14 },
  /** Evaluation requests (one message per part); `start-evaluation` starts one execution per message. */
  evaluation: { visibilityTimeoutSeconds: 60 * 6, maxReceiveCount: 5, batchSize: 10, consumerTimeoutSeconds: 60, dlqRetentionDays: 14 },
  /**
   * Report requests (`{reportId}`); `render-report` executes one notebook per message, so one
   * record a batch and Lambda's longest timeout. A report that fails in its notebook is stored as
   * `failed`, not retried; only infrastructure errors come back, at most three times.
   */
  report: { visibilityTimeoutSeconds: 900 * 6, maxReceiveCount: 3, batchSize: 1, consumerTimeoutSeconds: 900, dlqRetentionDays: 14 },
  /** Commit events (webhook pushes, `POST /commits`) and new dataset versions; `plan-evaluations` turns each into evaluation requests. */
  commit: { visibilityTimeoutSeconds: 60 * 6, maxReceiveCount: 5, batchSize: 10, consumerTimeoutSeconds: 60, dlqRetentionDays: 14 },
} as const satisfies Record<string, QueueDefinition>;

export type QueueName = keyof typeof queues;

/** Landing prefixes: API uploads go through S3 notifications; SFTP uploads through Transfer Family events. */
export const landing = {
  apiPrefix: 'api/',
  sftpPrefix: 'sftp/',
  /** Local only: s3rver keeps no versions, so each arrival is first copied here (DESIGN.md "Storage"). */
  arrivalsPrefix: '_arrivals/',
  /** Tag that marks a landing object whose original is safe in the data bucket; lifecycle expires only these. */
  outcomeTag: { key: 'symbiont-outcome', value: 'recorded' },
} as const;

/** Environment variable names the functions read (set by infra, and by the local runtime). */
export const env = {
  tableName: 'TABLE_NAME',
  landingBucket: 'LANDING_BUCKET',
  dataBucket: 'DATA_BUCKET',
  ingestQueueUrl: 'INGEST_QUEUE_URL',
  /** IAM role name → app role (JSON), for the API's IAM authenticator. */
  roleMap: 'ROLE_MAP',
  /** Where evaluation requests are queued (the API, and `Finish` for a request's next part). */
  evaluationQueueUrl: 'EVALUATION_QUEUE_URL',
  /** Where commit events and new dataset versions are queued for `plan-evaluations` (the API, ingest). */
  commitQueueUrl: 'COMMIT_QUEUE_URL',
  /** The Secrets Manager secret holding the GitHub webhook secret (AWS; locally the config's `webhooks.githubSecret`). */
  githubWebhookSecretArn: 'GITHUB_WEBHOOK_SECRET_ARN',
  /** The Secrets Manager secret holding the GitHub token results are posted with (AWS). */
  githubTokenSecretArn: 'GITHUB_TOKEN_SECRET_ARN',
  /** The GitHub token, locally (unset: nothing is posted). */
  githubToken: 'SYMBIONT_GITHUB_TOKEN',
  /** The API's public URL, for links back from GitHub. */
  publicApiUrl: 'SYMBIONT_PUBLIC_API_URL',
  /** The evaluation state machine `start-evaluation` starts executions of. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** Where report requests are queued (the API). */
  reportQueueUrl: 'REPORT_QUEUE_URL',
  /** Every work queue and its DLQ, as JSON `{"<queue>": {queueUrl, deadLetterQueueUrl}}` (the API's `symbiont dlq`). */
  deadLetterQueues: 'DEAD_LETTER_QUEUES',
  /** The Transfer Family server run-time SFTP users are added to (set only when `sftp.enabled`). */
  sftpServerId: 'SFTP_SERVER_ID',
  /** The one IAM role run-time SFTP users get; their session policy scopes it to their folder. */
  sftpUserRoleArn: 'SFTP_USER_ROLE_ARN',
  /** The web console's sign-in in AWS (the API function): Cognito user pool, app client, identity pool, managed login domain. */
  consoleUserPoolId: 'CONSOLE_USER_POOL_ID',
  consoleClientId: 'CONSOLE_CLIENT_ID',
  consoleIdentityPoolId: 'CONSOLE_IDENTITY_POOL_ID',
  consoleAuthDomain: 'CONSOLE_AUTH_DOMAIN',
} as const;

/** The evaluation state machine as the stack and the local runtime name it. */
export const evaluation = {
  /** State machine name: `symbiont-<stage>-evaluate`. */
  stateMachineName: (stage: string) => `symbiont-${stage}-evaluate`,
  /** Inline Map iterations run at once (Step Functions allows at most 40). */
  maxConcurrency: 40,
  /** Points one execution evaluates at most; a larger request runs as several parts. */
  maxPointsPerExecution: 500,
  /** History events one execution may be estimated to use (Step Functions stops at 25,000). */
  maxHistoryEventsPerExecution: 20_000,
  /** Data bucket prefix of evaluation outputs, logs and results: `evaluations/<id>/`. */
  outputPrefix: 'evaluations/',
} as const;

/** GitHub webhook deliveries (DESIGN.md "Storage" `DELIVERY#<id>`). */
export const webhooks = {
  /** How long a delivery id is remembered to drop redeliveries (DynamoDB TTL in AWS, checked on read locally). */
  deliveryTtlSeconds: 7 * 24 * 3600,
} as const;

/** Names of the local resources (in AWS, CloudFormation names them). */
export function localNames(stage: string) {
  return {
    table: `symbiont-${stage}`,
    landingBucket: `symbiont-${stage}-landing`,
    dataBucket: `symbiont-${stage}-data`,
    queue: (name: QueueName) => `symbiont-${stage}-${name}`,
    deadLetterQueue: (name: QueueName) => `symbiont-${stage}-${name}-dlq`,
  };
}
