import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SymbiontConfig } from '#config/schema';
import { createDocumentClient, createSqsClient } from '#shared/aws';
import { traced } from '#shared/tracing';
import { requireEnv } from '#shared/env';
import { env as envNames } from '#shared/resources';
import { Table } from '#store/table';
import { sqsCommitQueue } from './commit-queue.ts';
import { createGithubWebhook, type GithubWebhook } from './github-webhook.ts';

/**
 * Where the webhook's shared secret comes from: in AWS the Secrets Manager secret named by
 * `GITHUB_WEBHOOK_SECRET_ARN` (the stack creates it), read on the first delivery and cached for
 * the container's life — a rotated secret is picked up after {@link SECRET_CACHE_SECONDS};
 * locally the config's `webhooks.githubSecret`.
 */

/** Seconds a secret read from Secrets Manager is reused. */
export const SECRET_CACHE_SECONDS = 900;

/** A Secrets Manager provider whose reads appear in the function's trace. */
function tracedSecretsProvider(): SecretsProvider {
  return new SecretsProvider({ awsSdkV3Client: traced(new SecretsManagerClient({})) });
}

/** The secret, read from Secrets Manager once and cached. */
export function secretsManagerSecret(secretArn: string, provider = tracedSecretsProvider()): () => Promise<string | undefined> {
  return async () => {
    const value = await provider.get(secretArn, { maxAge: SECRET_CACHE_SECONDS });
    return typeof value === 'string' ? value : undefined;
  };
}

/**
 * The GitHub token results are posted with, from its Secrets Manager secret (cached like the
 * webhook secret). The stack creates the secret holding `none`: until someone puts a token there,
 * nothing is posted.
 */
export function githubTokenFromSecret(secretArn: string, provider = tracedSecretsProvider()): () => Promise<string | undefined> {
  const read = secretsManagerSecret(secretArn, provider);
  return async () => {
    const value = (await read())?.trim();
    return value && value !== GITHUB_TOKEN_UNSET ? value : undefined;
  };
}

/** What the token secret holds until a token is put there. */
export const GITHUB_TOKEN_UNSET = 'none';

/** The webhook as the API builds it once per process: table, commit queue and secret from the environment. */
export function createGithubWebhookFromEnv(config: Pick<SymbiontConfig, 'repositories' | 'webhooks'>, env: NodeJS.ProcessEnv = process.env): GithubWebhook {
  const secretArn = env[envNames.githubWebhookSecretArn];
  const local = config.webhooks.githubSecret;
  return createGithubWebhook({
    table: new Table(createDocumentClient(env), requireEnv(envNames.tableName, env)),
    config,
    queue: sqsCommitQueue(createSqsClient(env), requireEnv(envNames.commitQueueUrl, env)),
    secret: secretArn ? secretsManagerSecret(secretArn) : async () => local,
  });
}
