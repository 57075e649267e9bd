import { CapabilityUnavailableError } from '../errors.ts';
import { defineRoute, Reply, type Route } from '../route.ts';
import { webhookAnswerSchema } from '../schemas.ts';

/**
 * `POST /webhooks/github`: public (no IAM, no token) because GitHub signs with the shared secret
 * instead; the handler verifies `X-Hub-Signature-256` over the raw body before reading anything.
 */
export const webhookRoutes: readonly Route[] = [
  defineRoute({
    method: 'post',
    path: '/webhooks/github',
    operationId: 'receiveGithubWebhook',
    summary: 'Receives a GitHub webhook delivery: a push to a configured repository starts evaluations of its commit set.',
    description:
      'Verified with HMAC-SHA256 of the raw body (X-Hub-Signature-256) and the shared secret; a missing or wrong signature answers 401. ' +
      '`ping` answers 200; a push to a configured repository and branch is queued (202, outcome `queued`); other events, tag pushes, ' +
      'branch deletions, unknown repositories and redelivered X-GitHub-Delivery ids answer 202 with outcome `ignored` and the reason. ' +
      'Send it with content type application/json.',
    tags: ['commits'],
    access: 'public',
    response: { status: 202, description: 'What became of the delivery.', schema: webhookAnswerSchema },
    errors: [401, 503],
    handle: async (_input, { deps, raw }) => {
      if (!deps.githubWebhook) throw new CapabilityUnavailableError('the GitHub webhook is not available from this API');
      const { status, ...answer } = await deps.githubWebhook.receive({ headers: raw.headers, body: raw.body() });
      return new Reply(answer, status);
    },
  }),
];
